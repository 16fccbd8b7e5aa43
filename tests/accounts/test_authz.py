"""Who may do what, where: `covers` and friends, and the real endpoints that rely on them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from backend.accounts.authz import (
    Principal,
    covers,
    ensure_jurisdiction,
    ensure_kind,
    ensure_owner,
    ensure_role,
)
from backend.accounts.models import Role, User, UserKind
from backend.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE, Forbidden, NotFound
from backend.integrity.models import AuditEvent
from backend.windows.models import Window
from tests.factories import resident_headers, signed_in

DIPU = "330523001"  # 递铺街道, 安吉县
CHANGSHUO = "330523002"  # 昌硕街道, 安吉县
ZHICHENG = "330522001"  # 雉城街道, 长兴县
WINDOW_FIELDS = (
    "version",
    "name",
    "address",
    "opening_hours",
    "phone",
    "complaint_phone",
    "policies",
    "duties",
)


# --- covers and the ensure_* helpers -----------------------------------------------------


def principal(kind: UserKind, **fields: Any) -> Principal:
    """A principal for the unit tests."""
    return Principal(user_id=uuid.uuid4(), kind=kind, display_name="测试", **fields)


@pytest.mark.parametrize(
    ("jurisdiction", "code", "expected"),
    [
        ("330523", "330523", True),
        ("330523", DIPU, True),
        ("330523", "330523001001", True),
        ("330523", ZHICHENG, False),
        ("330523", "330522", False),
        ("330523", "3305", False),
        ("330523", "33", False),
        ("330523", "", False),
        ("33", ZHICHENG, True),
        ("33", "330523001200", True),
        ("33", "32", False),
        ("3305", "330523", True),
        ("3305", "330601", False),
        (DIPU, DIPU, True),
        (DIPU, "330523001200", True),
        (DIPU, CHANGSHUO, False),
        (DIPU, "330523002001", False),
        (DIPU, "330523", False),
    ],
)
def test_covers_staff_by_prefix(jurisdiction: str, code: str, expected: bool) -> None:
    staff = principal(UserKind.STAFF, role=Role.SUPERVISOR, jurisdiction=jurisdiction)
    assert covers(staff, code) is expected


@pytest.mark.parametrize("jurisdiction", [None, ""])
def test_staff_without_jurisdiction_covers_nothing(jurisdiction: str | None) -> None:
    staff = principal(UserKind.STAFF, role=Role.ADMIN, jurisdiction=jurisdiction)
    for code in ("", "33", "330523", DIPU, "330523001001"):
        assert not covers(staff, code)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("330523001001", True),
        ("330523001200", True),
        # The township of a grid village: grid workers report into its window.
        (DIPU, True),
        ("330523001002", False),
        ("330523001201", False),
        (CHANGSHUO, False),
        ("330523002001", False),
        # Nothing above the township: a grid is not the county or the province.
        ("330523", False),
        ("3305", False),
        ("33", False),
        ("", False),
    ],
)
def test_covers_grid_worker_villages(code: str, expected: bool) -> None:
    worker = principal(
        UserKind.GRID_WORKER,
        jurisdiction=DIPU,
        villages=frozenset({"330523001001", "330523001200"}),
    )
    assert covers(worker, code) is expected


def test_grid_worker_without_villages_covers_nothing() -> None:
    worker = principal(UserKind.GRID_WORKER, jurisdiction=DIPU)
    for code in (DIPU, "330523001001", "330523", "33"):
        assert not covers(worker, code)


def test_residents_are_never_covered() -> None:
    resident = principal(UserKind.RESIDENT, jurisdiction="33", villages=frozenset({"330523001001"}))
    for code in ("", "33", "330523", DIPU, "330523001001"):
        assert not covers(resident, code)


def test_ensure_role_admin_always_may_but_others_only_their_roles() -> None:
    admin = principal(UserKind.STAFF, role=Role.ADMIN, jurisdiction="33")
    head = principal(UserKind.STAFF, role=Role.TOWNSHIP_HEAD, jurisdiction=DIPU)
    ensure_role(admin, [Role.TOWNSHIP_HEAD])
    ensure_role(head, [Role.TOWNSHIP_HEAD, Role.SUPERVISOR])
    with pytest.raises(Forbidden, match="岗位"):
        ensure_role(head, [Role.COUNTY_APPROVER])
    for caller in (
        principal(UserKind.GRID_WORKER, villages=frozenset({"330523001001"})),
        principal(UserKind.RESIDENT),
        principal(UserKind.STAFF, jurisdiction=DIPU),
    ):
        with pytest.raises(Forbidden, match="仅限工作人员"):
            ensure_role(caller, [Role.TOWNSHIP_HEAD])


def test_ensure_kind_jurisdiction_and_owner() -> None:
    head = principal(UserKind.STAFF, role=Role.TOWNSHIP_HEAD, jurisdiction=DIPU)
    ensure_kind(head, UserKind.STAFF, UserKind.GRID_WORKER)
    with pytest.raises(Forbidden):
        ensure_kind(head, UserKind.RESIDENT)
    ensure_jurisdiction(head, "330523001200")
    with pytest.raises(Forbidden):
        ensure_jurisdiction(head, CHANGSHUO)
    with pytest.raises(NotFound):
        ensure_jurisdiction(head, CHANGSHUO, hide=True)
    ensure_owner(head, head.user_id)
    for owner in (None, uuid.uuid4()):
        with pytest.raises(NotFound):
            ensure_owner(head, owner)


def test_label_names_role_or_kind() -> None:
    assert principal(UserKind.STAFF, role=Role.SUPERVISOR).label == "supervisor:测试"
    assert principal(UserKind.GRID_WORKER).label == "grid_worker:测试"
    long = Principal(user_id=uuid.uuid4(), kind=UserKind.RESIDENT, display_name="名" * 200)
    assert len(long.label) == 96


# --- helpers for the endpoint tests ------------------------------------------------------


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict:
    """A problem+json response of this status (and type)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_CONTENT_TYPE)
    problem = response.json()
    assert problem["status"] == status
    if slug is not None:
        assert problem["type"] == PROBLEM_BASE + slug, problem
    return problem


async def window_body(client: httpx.AsyncClient, township: str) -> dict[str, Any]:
    """What an editor sends back: the window as read, without its read-only fields."""
    response = await client.get(f"/api/v1/windows/{township}")
    assert response.status_code == 200, response.text
    return {k: response.json()[k] for k in WINDOW_FIELDS}


def edited(body: dict[str, Any], name: str = "递铺街道社会救助服务大厅") -> dict[str, Any]:
    """An edit of a window body."""
    return body | {
        "name": name,
        "address": "递铺街道胜利西路 1 号",
        "opening_hours": "工作日 8:30-12:00，13:30-17:00",
        "phone": "0572-5123456",
        "complaint_phone": "0572-12345",
        "policies": ["最低生活保障", "临时救助"],
        "duties": ["受理申请", "转办部门"],
    }


async def snapshot(township: str) -> tuple[dict[str, Any], int]:
    """A window's stored fields and the number of audit rows, to prove nothing changed."""
    window = await Window.get(township_code=township)
    fields = {f: getattr(window, f) for f in WINDOW_FIELDS}
    return fields, await AuditEvent.filter(entity="window").count()


async def put_window(
    client: httpx.AsyncClient, township: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    """PUT a window edit."""
    return await client.put(f"/api/v1/windows/{township}", json=body, headers=headers)


# --- PUT /api/v1/windows/{township} ------------------------------------------------------


async def test_township_head_edits_their_window(client: httpx.AsyncClient, geo: None) -> None:
    headers = await signed_in(client, "head", "township_head", DIPU)
    head = await User.get(username="head")
    body = await window_body(client, DIPU)
    assert body["version"] == 1

    response = await put_window(client, DIPU, edited(body), headers)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["version"] == 2
    assert out["name"] == "递铺街道社会救助服务大厅"
    assert out["township_code"] == DIPU and out["township_name"] == "递铺街道"
    assert await window_body(client, DIPU) == edited(body) | {"version": 2}

    (event,) = await AuditEvent.filter(action="window.update", entity_id=DIPU)
    assert event.entity == "window"
    assert event.jurisdiction == DIPU
    assert event.actor_id == head.id
    assert event.actor_label == "township_head:head"
    assert event.before == body
    assert event.after == edited(body) | {"version": 2}


async def test_township_head_cannot_edit_another_township(
    client: httpx.AsyncClient, geo: None
) -> None:
    headers = await signed_in(client, "head", "township_head", DIPU)
    before = await snapshot(CHANGSHUO)
    body = await window_body(client, CHANGSHUO)
    problem = assert_problem(
        await put_window(client, CHANGSHUO, edited(body), headers), 403, "forbidden"
    )
    assert "管辖范围" in problem["detail"]
    assert await snapshot(CHANGSHUO) == before


@pytest.mark.parametrize(
    ("role", "jurisdiction"),
    [
        pytest.param("window_clerk", DIPU, id="window-clerk"),
        pytest.param("investigator", DIPU, id="investigator"),
        pytest.param("county_approver", "330523", id="county-approver"),
        pytest.param("supervisor", "330523", id="supervisor"),
        pytest.param("department_officer", "330523", id="department-officer"),
    ],
)
async def test_other_roles_cannot_edit_windows(
    client: httpx.AsyncClient, geo: None, role: str, jurisdiction: str
) -> None:
    headers = await signed_in(client, "staff", role, jurisdiction)
    before = await snapshot(DIPU)
    body = await window_body(client, DIPU)
    problem = assert_problem(await put_window(client, DIPU, edited(body), headers), 403)
    assert "岗位" in problem["detail"]
    assert await snapshot(DIPU) == before


async def test_admin_edits_within_their_jurisdiction_only(
    client: httpx.AsyncClient, geo: None
) -> None:
    headers = await signed_in(client, "admin", "admin", "330523")
    body = await window_body(client, DIPU)
    response = await put_window(client, DIPU, edited(body), headers)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2

    before = await snapshot(ZHICHENG)
    body = await window_body(client, ZHICHENG)
    response = await put_window(client, ZHICHENG, edited(body, "雉城街道窗口"), headers)
    assert_problem(response, 403, "forbidden")
    assert await snapshot(ZHICHENG) == before


async def test_grid_worker_and_resident_cannot_edit_windows(
    app: Any, client: httpx.AsyncClient, geo: None
) -> None:
    before = await snapshot(DIPU)
    body = edited(await window_body(client, DIPU))
    grid = await signed_in(client, "wang", "grid_worker", DIPU)
    resident = await resident_headers(app)
    for headers in (grid, resident):
        problem = assert_problem(await put_window(client, DIPU, body, headers), 403, "forbidden")
        assert "仅限工作人员" in problem["detail"]
    assert await snapshot(DIPU) == before


async def test_editing_a_window_needs_a_token(client: httpx.AsyncClient, geo: None) -> None:
    before = await snapshot(DIPU)
    body = edited(await window_body(client, DIPU))
    response = await put_window(client, DIPU, body, {})
    assert_problem(response, 401, "missing-token")
    assert response.headers["www-authenticate"] == "Bearer"
    response = await put_window(client, DIPU, body, {"Authorization": "Bearer forged.token"})
    assert_problem(response, 401, "invalid-token")
    assert await snapshot(DIPU) == before


async def test_stale_version_is_409_and_changes_nothing(
    client: httpx.AsyncClient, geo: None
) -> None:
    headers = await signed_in(client, "head", "township_head", DIPU)
    stale = await window_body(client, DIPU)
    first = await put_window(client, DIPU, edited(stale), headers)
    assert first.status_code == 200, first.text

    before = await snapshot(DIPU)
    response = await put_window(client, DIPU, edited(stale, "覆盖别人修改的名称"), headers)
    problem = assert_problem(response, 409, "conflict")
    assert problem["current_version"] == 2
    assert "刷新" in problem["detail"]
    assert await snapshot(DIPU) == before
    assert (await window_body(client, DIPU))["name"] == "递铺街道社会救助服务大厅"


async def test_unknown_field_is_422_and_changes_nothing(
    client: httpx.AsyncClient, geo: None
) -> None:
    headers = await signed_in(client, "head", "township_head", DIPU)
    before = await snapshot(DIPU)
    body = edited(await window_body(client, DIPU)) | {"township_name": "改名"}
    problem = assert_problem(
        await put_window(client, DIPU, body, headers), 422, "validation-failed"
    )
    assert {"field": "township_name", "message": "不认识的字段，请删除"} in problem["errors"]
    bad_phone = edited(await window_body(client, DIPU)) | {"phone": "call me"}
    problem = assert_problem(await put_window(client, DIPU, bad_phone, headers), 422)
    assert "phone" in {e["field"] for e in problem["errors"]}
    assert await snapshot(DIPU) == before


async def test_unknown_or_malformed_township_code(client: httpx.AsyncClient, geo: None) -> None:
    headers = await signed_in(client, "head", "township_head", DIPU)
    body = edited(await window_body(client, DIPU))
    assert_problem(await put_window(client, "330523999", body, headers), 404, "unknown-division")
    for code in ("33052", "33052300a", "3305230011"):
        problem = assert_problem(
            await put_window(client, code, body, headers), 422, "validation-failed"
        )
        assert "格式不正确" in problem["detail"]
    assert await AuditEvent.filter(entity="window").count() == 0


# --- PUT /api/v1/counties/{county}/category-matrix/{category} -----------------------------


def matrix_row(items: list[dict[str, Any]], category: str) -> dict[str, Any]:
    """One category's row of the matrix."""
    (row,) = [r for r in items if r["category"] == category]
    return row


async def test_county_approver_reroutes_a_category(client: httpx.AsyncClient, geo: None) -> None:
    headers = await signed_in(client, "approver", "county_approver", "330523")
    url = "/api/v1/counties/330523/category-matrix"
    assert matrix_row((await client.get(url)).json()["items"], "yiliao")["is_default"] is True

    response = await client.put(f"{url}/yiliao", json={"department": "minzheng"}, headers=headers)
    assert response.status_code == 200, response.text
    assert matrix_row(response.json()["items"], "yiliao")["department"] == "minzheng"

    row = matrix_row((await client.get(url)).json()["items"], "yiliao")
    assert row["department"] == "minzheng"
    assert row["department_name"] == "安吉县民政局"
    assert row["is_default"] is False
    # Only that category, only that county.
    assert matrix_row((await client.get(url)).json()["items"], "dibao")["is_default"] is True
    other = (await client.get("/api/v1/counties/330522/category-matrix")).json()["items"]
    assert matrix_row(other, "yiliao")["is_default"] is True

    (event,) = await AuditEvent.filter(action="category_route.set")
    assert event.jurisdiction == "330523"
    assert event.before == {"category": "yiliao", "department": "yibao"}
    assert event.after == {"category": "yiliao", "department": "minzheng"}


async def test_category_matrix_refusals(client: httpx.AsyncClient, geo: None) -> None:
    approver = await signed_in(client, "approver", "county_approver", "330523")
    head = await signed_in(client, "head", "township_head", DIPU)
    route = {"department": "minzheng"}

    response = await client.put(
        "/api/v1/counties/330522/category-matrix/yiliao", json=route, headers=approver
    )
    assert_problem(response, 403, "forbidden")
    response = await client.put(
        "/api/v1/counties/330523/category-matrix/yiliao", json=route, headers=head
    )
    assert "岗位" in assert_problem(response, 403, "forbidden")["detail"]
    response = await client.put(
        "/api/v1/counties/330523/category-matrix/dianfei", json=route, headers=approver
    )
    assert "未知救助类别" in assert_problem(response, 404, "not-found")["detail"]
    response = await client.put(
        "/api/v1/counties/330523/category-matrix/yiliao",
        json={"department": "gongan"},
        headers=approver,
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert "department" in {e["field"] for e in problem["errors"]}
    response = await client.put(
        f"/api/v1/counties/{DIPU}/category-matrix/yiliao", json=route, headers=approver
    )
    assert "不是县级" in assert_problem(response, 422)["detail"]
    response = await client.put("/api/v1/counties/330523/category-matrix/yiliao", json=route)
    assert_problem(response, 401, "missing-token")

    for county in ("330523", "330522"):
        items = (await client.get(f"/api/v1/counties/{county}/category-matrix")).json()["items"]
        assert all(r["is_default"] for r in items)
    assert await AuditEvent.filter(action="category_route.set").count() == 0


# --- GET /api/v1/audit -------------------------------------------------------------------


async def test_supervisor_sees_only_their_jurisdictions_events(
    client: httpx.AsyncClient, geo: None
) -> None:
    head = await signed_in(client, "head", "township_head", DIPU)
    admin = await signed_in(client, "admin", "admin", "33")
    supervisor = await signed_in(client, "supervisor", "supervisor", "330523")
    changxing = await signed_in(client, "cx-supervisor", "supervisor", "330522")
    response = await put_window(client, DIPU, edited(await window_body(client, DIPU)), head)
    assert response.status_code == 200, response.text
    body = edited(await window_body(client, ZHICHENG), "雉城街道窗口")
    response = await put_window(client, ZHICHENG, body, admin)
    assert response.status_code == 200, response.text

    response = await client.get("/api/v1/audit", params={"entity": "window"}, headers=supervisor)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(e["entity_id"], e["jurisdiction"]) for e in items] == [(DIPU, DIPU)]
    assert items[0]["actor"] == "township_head:head"
    assert items[0]["before"]["version"] == 1 and items[0]["after"]["version"] == 2

    everything = (await client.get("/api/v1/audit", headers=supervisor)).json()["items"]
    assert everything
    assert all(e["jurisdiction"].startswith("330523") for e in everything)
    assert ZHICHENG not in {e["entity_id"] for e in everything}

    items = (await client.get("/api/v1/audit", headers=changxing)).json()["items"]
    assert [(e["entity_id"], e["actor"]) for e in items if e["entity"] == "window"] == [
        (ZHICHENG, "admin:admin")
    ]


async def test_audit_is_closed_to_other_roles(
    app: Any, client: httpx.AsyncClient, geo: None
) -> None:
    clerk = await signed_in(client, "clerk", "window_clerk", DIPU)
    head = await signed_in(client, "head", "township_head", DIPU)
    grid = await signed_in(client, "wang", "grid_worker", DIPU)
    resident = await resident_headers(app)
    for headers in (clerk, head, grid, resident):
        assert_problem(await client.get("/api/v1/audit", headers=headers), 403, "forbidden")
    assert_problem(await client.get("/api/v1/audit"), 401, "missing-token")
    approver = await signed_in(client, "approver", "county_approver", "330523")
    assert (await client.get("/api/v1/audit", headers=approver)).status_code == 200


async def test_audit_rejects_unknown_query_parameters(client: httpx.AsyncClient, geo: None) -> None:
    supervisor = await signed_in(client, "supervisor", "supervisor", "330523")
    response = await client.get("/api/v1/audit", params={"jurisdiction": "33"}, headers=supervisor)
    problem = assert_problem(response, 422, "validation-failed")
    assert "jurisdiction" in {e["field"] for e in problem["errors"]}
