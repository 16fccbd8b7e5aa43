"""Windows, departments and the category matrix, through the service."""

from __future__ import annotations

import uuid

import pytest

from backend.accounts.authz import Principal
from backend.accounts.models import Role, UserKind
from backend.errors import Conflict
from backend.geo.models import Division, Level
from backend.integrity.models import AuditEvent
from backend.windows import service
from backend.windows.models import CategoryRoute, Department, Window
from backend.windows.schemas import WindowIn
from tests.factories import load_geo

HEAD = Principal(
    user_id=uuid.uuid4(),
    kind=UserKind.STAFF,
    display_name="负责人",
    role=Role.TOWNSHIP_HEAD,
    jurisdiction="330523001",
)


@pytest.fixture
async def loaded(db: None, division_subset) -> None:  # type: ignore[no-untyped-def]
    await load_geo(division_subset)


async def test_every_township_has_one_window(loaded: None) -> None:
    townships = await Division.filter(level=Level.TOWNSHIP).count()
    assert townships == await Window.all().count() > 0
    window = await Window.get(township_code="330523001")
    assert window.name == "递铺街道社会救助一门受理窗口"
    assert (
        await service.create_missing_windows(townships=await Division.filter(level=Level.TOWNSHIP))
        == 0
    )


async def test_every_county_has_its_departments(loaded: None) -> None:
    depts = {d.kind: d.name for d in await service.list_departments(county_code="330523")}
    assert depts["yibao"] == "安吉县医疗保障局"
    assert len(depts) == 6
    counties = await Division.filter(level=Level.COUNTY)
    assert await service.create_missing_departments(counties=counties) == 0
    assert await Department.all().count() == 6 * len(counties)


async def test_matrix_has_national_defaults(loaded: None) -> None:
    rows = {r["category"]: r for r in await service.get_category_matrix(county_code="330523")}
    expected = {
        "dibao": "minzheng",
        "tekun": "minzheng",
        "linshi": "minzheng",
        "shouzai": "yingji",
        "yiliao": "yibao",
        "jiaoyu": "jiaoyu",
        "zhufang": "zhujian",
        "jiuye": "renshe",
    }
    assert {k: rows[k]["department"] for k in expected} == expected
    assert rows["yiliao"]["department_name"] == "安吉县医疗保障局"
    assert all(r["is_default"] for r in rows.values())


async def test_override_and_back_to_default(loaded: None) -> None:
    await service.set_category_route(
        county_code="330523", category="linshi", department="yingji", actor=HEAD
    )
    rows = {r["category"]: r for r in await service.get_category_matrix(county_code="330523")}
    assert rows["linshi"]["department"] == "yingji" and not rows["linshi"]["is_default"]
    # The other county keeps the national default.
    other = {r["category"]: r for r in await service.get_category_matrix(county_code="330522")}
    assert other["linshi"]["department"] == "minzheng"
    await service.set_category_route(
        county_code="330523", category="linshi", department="minzheng", actor=HEAD
    )
    assert await CategoryRoute.all().count() == 0
    events = await AuditEvent.filter(action="category_route.set").order_by("id")
    assert [e.after["department"] for e in events] == ["yingji", "minzheng"]  # type: ignore[index]


def _edit(version: int, name: str) -> WindowIn:
    return WindowIn(
        version=version,
        name=name,
        address="递铺街道1号",
        opening_hours="工作日",
        phone="0572-5100000",
        complaint_phone="0572-5123456",
        policies=["低保"],
        duties=["受理"],
    )


async def test_concurrent_edits_conflict_instead_of_overwriting(loaded: None) -> None:
    window, _ = await service.update_window(
        township_code="330523001", window_in=_edit(1, "第一次修改"), actor=HEAD
    )
    assert window.version == 2
    with pytest.raises(Conflict) as raised:
        await service.update_window(
            township_code="330523001", window_in=_edit(1, "基于旧版本的修改"), actor=HEAD
        )
    assert raised.value.extra["current_version"] == 2
    assert (await Window.get(township_code="330523001")).name == "第一次修改"
    assert await AuditEvent.filter(action="window.update").count() == 1
