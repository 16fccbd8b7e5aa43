"""Accounts service: upserting users, passwords, grids, principals and their audit rows."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from backend.accounts.models import GridAssignment, Role, User, UserKind
from backend.accounts.service import (
    UserIn,
    get_or_create_resident,
    hash_password,
    load_principal,
    upsert_user,
    verify_password,
)
from backend.errors import Problem, Unauthorized
from backend.geo import service as geo_service
from backend.integrity.models import AuditEvent
from tests.factories import PASSWORD, load_geo

CHINESE = re.compile(r"[\u4e00-\u9fff]")
DIPU = "330523001"  # 递铺街道
DIPU_VILLAGES = {"330523001001", "330523001002", "330523001200", "330523001201", "330523001202"}
ZHICHENG = "330522001"  # 雉城街道: no villages in the demo file
LVSHAN = "330522202"  # 吕山乡: abolished by the re-import in `abolished_township`


@pytest.fixture
async def geo_db(db: None, division_subset: Path) -> None:
    """The database with the demo counties loaded, for service tests without the app."""
    await load_geo(division_subset)


@pytest.fixture
async def abolished_township(geo_db: None, division_subset: Path, tmp_path: Path) -> str:
    """Re-import the division list without 吕山乡, which marks it abolished."""
    directory = tmp_path / "divisions-2024"
    shutil.copytree(division_subset, directory)
    streets = directory / "streets.csv"
    with streets.open(encoding="utf-8") as src:
        rows = [r for r in csv.reader(src) if r[0] != LVSHAN]
    with streets.open("w", encoding="utf-8", newline="") as dst:
        csv.writer(dst).writerows(rows)
    report = await geo_service.import_divisions(directory=directory, version="2024")
    assert report.written and report.abolished == 1, report
    return LVSHAN


def staff(username: str = "zhang", **changes: object) -> UserIn:
    """A township head of 递铺街道 unless told otherwise."""
    fields: dict[str, object] = {
        "username": username,
        "role": "township_head",
        "jurisdiction": DIPU,
        "password": PASSWORD,
        "display_name": "张主任",
    }
    return UserIn(**(fields | changes))  # type: ignore[arg-type]


async def audit_rows(user: User) -> list[AuditEvent]:
    """The audit rows about one user, oldest first."""
    return await AuditEvent.filter(entity="user", entity_id=str(user.id)).order_by("id")


# --- creating and updating ---------------------------------------------------------------


async def test_create_staff_with_role_and_jurisdiction(geo_db: None) -> None:
    user, created = await upsert_user(user_in=staff())
    assert created
    stored = await User.get(id=user.id)
    assert stored.kind == UserKind.STAFF
    assert stored.role == Role.TOWNSHIP_HEAD
    assert stored.jurisdiction == DIPU
    assert stored.username == "zhang"
    assert stored.display_name == "张主任"
    assert stored.is_active
    assert await GridAssignment.filter(user_id=user.id).count() == 0


async def test_password_is_stored_as_argon2id(geo_db: None) -> None:
    user, _ = await upsert_user(user_in=staff())
    stored = await User.get(id=user.id)
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert verify_password(stored.password_hash, PASSWORD)
    assert not verify_password(stored.password_hash, PASSWORD + "x")
    assert not verify_password(stored.password_hash, "")


def test_verify_password_without_a_hash_is_false() -> None:
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not-a-hash", PASSWORD)
    # The same password hashes differently each time (salted).
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


async def test_update_changes_role_and_keeps_password_when_none(geo_db: None) -> None:
    user, _ = await upsert_user(user_in=staff())
    old_hash = (await User.get(id=user.id)).password_hash

    updated, created = await upsert_user(
        user_in=staff(role="county_approver", jurisdiction="330523", password=None)
    )
    assert not created
    assert updated.id == user.id
    stored = await User.get(id=user.id)
    assert stored.role == Role.COUNTY_APPROVER
    assert stored.jurisdiction == "330523"
    assert stored.password_hash == old_hash
    assert verify_password(stored.password_hash, PASSWORD)
    assert await User.all().count() == 1


async def test_update_with_password_replaces_it(geo_db: None) -> None:
    await upsert_user(user_in=staff())
    await upsert_user(user_in=staff(password="a brand new secret"))
    stored = await User.get(username="zhang")
    assert verify_password(stored.password_hash, "a brand new secret")
    assert not verify_password(stored.password_hash, PASSWORD)


async def test_username_is_stripped_and_matched_on_update(geo_db: None) -> None:
    user, _ = await upsert_user(user_in=staff(username="  zhang  "))
    assert user.username == "zhang"
    again, created = await upsert_user(user_in=staff(username="zhang", role="supervisor"))
    assert not created and again.id == user.id


# --- grid workers ------------------------------------------------------------------------


async def test_grid_worker_from_township_gets_all_its_villages(geo_db: None) -> None:
    user, created = await upsert_user(
        user_in=UserIn(username="wang", role="grid_worker", jurisdiction=DIPU, password=PASSWORD)
    )
    assert created
    stored = await User.get(id=user.id)
    assert stored.kind == UserKind.GRID_WORKER
    assert stored.role is None
    assert stored.jurisdiction == DIPU
    villages = set(
        await GridAssignment.filter(user_id=user.id).values_list("village_code", flat=True)
    )
    assert villages == DIPU_VILLAGES
    children = {d.code for d in await geo_service.list_children(code=DIPU)}
    assert villages == children


async def test_grid_worker_from_village_codes_gets_exactly_those(geo_db: None) -> None:
    picked = ["330523002001", "330523002200"]
    user, _ = await upsert_user(
        user_in=UserIn(
            username="li",
            role="grid_worker",
            jurisdiction="330523002",
            password=PASSWORD,
            villages=picked,
        )
    )
    villages = await GridAssignment.filter(user_id=user.id).values_list("village_code", flat=True)
    assert sorted(villages) == picked
    assert (await User.get(id=user.id)).jurisdiction == "330523002"


async def test_grid_worker_update_replaces_the_grid(geo_db: None) -> None:
    await upsert_user(
        user_in=UserIn(username="wang", role="grid_worker", jurisdiction=DIPU, password=PASSWORD)
    )
    user, created = await upsert_user(
        user_in=UserIn(
            username="wang", role="grid_worker", jurisdiction=DIPU, villages=["330523001200"]
        )
    )
    assert not created
    villages = await GridAssignment.filter(user_id=user.id).values_list("village_code", flat=True)
    assert villages == ["330523001200"]
    assert await GridAssignment.all().count() == 1


async def test_grid_worker_township_and_one_of_its_villages_is_not_a_duplicate(
    geo_db: None,
) -> None:
    user, _ = await upsert_user(
        user_in=UserIn(
            username="wang",
            role="grid_worker",
            jurisdiction=DIPU,
            password=PASSWORD,
            villages=[DIPU, "330523001001"],
        )
    )
    villages = await GridAssignment.filter(user_id=user.id).values_list("village_code", flat=True)
    assert sorted(villages) == sorted(DIPU_VILLAGES)


async def test_staff_to_grid_worker_and_back(geo_db: None) -> None:
    user, _ = await upsert_user(user_in=staff())
    await upsert_user(user_in=UserIn(username="zhang", role="grid_worker", jurisdiction=DIPU))
    assert (await User.get(id=user.id)).kind == UserKind.GRID_WORKER
    assert await GridAssignment.filter(user_id=user.id).count() == len(DIPU_VILLAGES)
    await upsert_user(user_in=staff(password=None))
    stored = await User.get(id=user.id)
    assert stored.kind == UserKind.STAFF and stored.role == Role.TOWNSHIP_HEAD
    assert await GridAssignment.filter(user_id=user.id).count() == 0


# --- refused input writes nothing --------------------------------------------------------

BAD_INPUT = [
    pytest.param(staff(role="mayor"), 422, "未知角色", id="unknown-role"),
    pytest.param(staff(role=""), 422, "未知角色", id="empty-role"),
    pytest.param(staff(jurisdiction="33052"), 422, "格式不正确", id="malformed-5-digits"),
    pytest.param(staff(jurisdiction="33052300A"), 422, "格式不正确", id="malformed-letter"),
    pytest.param(staff(jurisdiction=""), 422, "格式不正确", id="malformed-empty"),
    pytest.param(staff(jurisdiction="330523999"), 404, "不存在", id="unknown-township"),
    pytest.param(staff(jurisdiction="330599"), 404, "不存在", id="unknown-county"),
    pytest.param(
        staff(jurisdiction="330523001001"), 422, "工作人员的管辖范围", id="village-for-staff"
    ),
    pytest.param(staff(password="short"), 422, "密码至少 8 位", id="short-password"),
    pytest.param(staff(password="1234567"), 422, "密码至少 8 位", id="seven-chars"),
    pytest.param(staff(password=None), 422, "新用户需要设置密码", id="new-without-password"),
    pytest.param(staff(username="a"), 422, "用户名", id="short-username"),
    pytest.param(staff(username="zhang san"), 422, "用户名", id="space-in-username"),
    pytest.param(
        UserIn(username="wang", role="grid_worker", jurisdiction="330523", password=PASSWORD),
        422,
        "网格员的网格",
        id="grid-worker-county",
    ),
    pytest.param(
        UserIn(username="wang", role="grid_worker", jurisdiction=ZHICHENG, password=PASSWORD),
        422,
        "还没有导入村",
        id="grid-worker-township-without-villages",
    ),
    pytest.param(
        UserIn(
            username="wang",
            role="grid_worker",
            jurisdiction=DIPU,
            password=PASSWORD,
            villages=["330523001001", "330523001999"],
        ),
        404,
        "不存在",
        id="grid-worker-unknown-village",
    ),
    pytest.param(
        UserIn(username="wang", role="grid_worker", jurisdiction=DIPU, password=None),
        422,
        "新用户需要设置密码",
        id="grid-worker-without-password",
    ),
]


@pytest.mark.parametrize(("user_in", "status", "fragment"), BAD_INPUT)
async def test_bad_input_raises_a_chinese_problem_and_writes_nothing(
    geo_db: None, user_in: UserIn, status: int, fragment: str
) -> None:
    users, events = await User.all().count(), await AuditEvent.all().count()
    grids = await GridAssignment.all().count()
    with pytest.raises(Problem) as info:
        await upsert_user(user_in=user_in)
    assert info.value.status == status
    assert CHINESE.search(info.value.detail), info.value.detail
    assert fragment in info.value.detail
    assert await User.all().count() == users
    assert await AuditEvent.all().count() == events
    assert await GridAssignment.all().count() == grids


async def test_abolished_jurisdiction_is_refused(abolished_township: str) -> None:
    for user_in in (
        staff(jurisdiction=abolished_township),
        UserIn(
            username="wang", role="grid_worker", jurisdiction=abolished_township, password=PASSWORD
        ),
    ):
        with pytest.raises(Problem) as info:
            await upsert_user(user_in=user_in)
        assert info.value.status == 422
        assert info.value.type_slug == "abolished-division"
        assert "已撤销" in info.value.detail
    assert await User.all().count() == 0
    assert await AuditEvent.all().count() == 0


async def test_bad_update_leaves_the_user_as_it_was(geo_db: None) -> None:
    user, _ = await upsert_user(user_in=staff())
    before = await User.get(id=user.id)
    events = await AuditEvent.all().count()
    for bad in (
        staff(role="mayor", password=None),
        staff(jurisdiction="330523001001", password=None),
        staff(password="short"),
    ):
        with pytest.raises(Problem):
            await upsert_user(user_in=bad)
    after = await User.get(id=user.id)
    assert (after.role, after.jurisdiction, after.password_hash) == (
        before.role,
        before.jurisdiction,
        before.password_hash,
    )
    assert await AuditEvent.all().count() == events


# --- the audit trail ---------------------------------------------------------------------


async def test_create_writes_one_audit_row_without_the_hash(geo_db: None) -> None:
    user, _ = await upsert_user(user_in=staff())
    rows = await audit_rows(user)
    assert len(rows) == 1
    row = rows[0]
    assert row.action == "user.create"
    assert row.jurisdiction == DIPU
    assert row.actor_id is None and row.actor_label == "cli"
    assert row.before is None
    assert row.after is not None
    assert row.after["username"] == "zhang"
    assert row.after["role"] == "township_head"
    assert row.after["jurisdiction"] == DIPU
    assert row.after["villages"] == []
    stored = await User.get(id=user.id)
    dumped = json.dumps([row.before, row.after], ensure_ascii=False)
    assert "password" not in dumped
    assert "$argon2" not in dumped
    assert stored.password_hash not in dumped


async def test_update_writes_one_audit_row_with_before_and_after(geo_db: None) -> None:
    user, _ = await upsert_user(user_in=staff())
    await upsert_user(
        user_in=staff(role="supervisor", jurisdiction="330523", password="another password")
    )
    rows = await audit_rows(user)
    assert [r.action for r in rows] == ["user.create", "user.update"]
    update = rows[1]
    assert update.jurisdiction == "330523"
    assert update.before is not None and update.after is not None
    assert update.before["role"] == "township_head"
    assert update.before["jurisdiction"] == DIPU
    assert update.after["role"] == "supervisor"
    assert update.after["jurisdiction"] == "330523"
    dumped = json.dumps([update.before, update.after], ensure_ascii=False)
    assert "password" not in dumped and "$argon2" not in dumped


async def test_grid_worker_audit_row_lists_the_villages(geo_db: None) -> None:
    user, _ = await upsert_user(
        user_in=UserIn(username="wang", role="grid_worker", jurisdiction=DIPU, password=PASSWORD)
    )
    (row,) = await audit_rows(user)
    assert row.after is not None
    assert set(row.after["villages"]) == DIPU_VILLAGES
    assert row.after["kind"] == "grid_worker"


async def test_audit_row_names_the_actor(geo_db: None) -> None:
    admin, _ = await upsert_user(user_in=staff(username="admin", role="admin", jurisdiction="33"))
    actor = await load_principal(user_id=admin.id, token_id="t", family="f")
    user, _ = await upsert_user(user_in=staff(), actor=actor)
    (row,) = await audit_rows(user)
    assert row.actor_id == admin.id
    assert row.actor_label == "admin:张主任"


# --- principals and residents ------------------------------------------------------------


async def test_load_principal_carries_role_jurisdiction_and_grid(geo_db: None) -> None:
    user, _ = await upsert_user(
        user_in=UserIn(username="wang", role="grid_worker", jurisdiction=DIPU, password=PASSWORD)
    )
    principal = await load_principal(user_id=user.id, token_id="tid", family="fam")
    assert principal.kind == UserKind.GRID_WORKER
    assert principal.villages == frozenset(DIPU_VILLAGES)
    assert principal.jurisdiction == DIPU
    assert (principal.token_id, principal.token_family) == ("tid", "fam")


async def test_load_principal_refuses_a_disabled_user(geo_db: None) -> None:
    user, _ = await upsert_user(user_in=staff())
    await User.filter(id=user.id).update(is_active=False)
    with pytest.raises(Unauthorized) as info:
        await load_principal(user_id=user.id, token_id="t", family="f")
    assert info.value.type_slug == "account-disabled"


async def test_resident_is_created_once_per_openid(geo_db: None) -> None:
    user, created = await get_or_create_resident(openid="o-abc")
    again, created_again = await get_or_create_resident(openid="o-abc")
    assert created and not created_again
    assert again.id == user.id
    assert user.kind == UserKind.RESIDENT
    assert user.username is None and user.password_hash is None
    assert await AuditEvent.filter(entity_id=str(user.id), action="user.create").count() == 1
    with pytest.raises(Problem):
        await get_or_create_resident(openid="")
