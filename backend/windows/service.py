"""Windows, departments and the category matrix: the only writer of their tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tortoise.transactions import in_transaction

from backend.accounts.authz import Principal
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.geo.models import Division, Level
from backend.integrity.service import record_event
from backend.windows.catalog import CATEGORIES, DEPARTMENTS
from backend.windows.models import CategoryRoute, Department, Window
from backend.windows.schemas import WindowIn

Progress = Callable[[int], None]
_WINDOW_FIELDS = (
    "name",
    "address",
    "opening_hours",
    "phone",
    "complaint_phone",
    "policies",
    "duties",
)


def default_window_name(township_name: str) -> str:
    """The name a window has until the township posts its own."""
    return f"{township_name}社会救助一门受理窗口"


async def create_missing_windows(
    *, townships: Sequence[Division], progress: Progress | None = None
) -> int:
    """Give every township a window profile; returns how many were created."""
    # Unpacked rather than flat=True: Tortoise types a flat values_list as tuples.
    have: set[str] = {code for (code,) in await Window.all().values_list("township_code")}
    missing = [
        Window(township_code=t.code, name=default_window_name(t.name))
        for t in townships
        if t.code not in have
    ]
    for start in range(0, len(missing), 1000):
        await Window.bulk_create(missing[start : start + 1000])
        if progress:
            progress(len(missing[start : start + 1000]))
    return len(missing)


async def create_missing_departments(*, counties: Sequence[Division]) -> int:
    """Give every county its departments (one per kind); returns how many were created."""
    have = set(await Department.all().values_list("county_code", "kind"))
    missing = [
        Department(county_code=c.code, kind=kind, name=f"{c.name}{suffix}")
        for c in counties
        for kind, (_label, suffix) in DEPARTMENTS.items()
        if (c.code, kind) not in have
    ]
    for start in range(0, len(missing), 2000):
        await Department.bulk_create(missing[start : start + 2000])
    return len(missing)


async def get_window(*, township_code: str) -> tuple[Window, Division]:
    """A township's window and the township, or 404."""
    window = await Window.filter(township_code=township_code).first()
    township = await Division.filter(code=township_code, level=Level.TOWNSHIP).first()
    if window is None or township is None:
        raise NotFound(f"找不到乡镇（街道）{township_code} 的受理窗口")
    return window, township


async def get_window_of_township(
    *, township_code: str | None, include_abolished: bool = True
) -> tuple[Division | None, Window | None]:
    """The township (a division of level township) of a code a client sent, and its window.

    Each is None when missing, both without a code; an abolished township is found unless
    include_abolished is False (a past item keeps its township, a new search does not).
    """
    if not township_code:
        return None, None
    townships = Division.filter(code=township_code, level=Level.TOWNSHIP)
    if not include_abolished:
        townships = townships.filter(abolished=False)
    township = await townships.first()
    window = await Window.filter(township_code=township_code).first()
    return township, window


def _window_snapshot(window: Window) -> dict[str, Any]:
    return {f: getattr(window, f) for f in _WINDOW_FIELDS} | {"version": window.version}


async def update_window(
    *, township_code: str, window_in: WindowIn, actor: Principal
) -> tuple[Window, Division]:
    """Replace a window's posted information; a stale version is a conflict, not an overwrite."""
    async with in_transaction() as conn:
        window = (
            await Window.filter(township_code=township_code)
            .select_for_update()
            .using_db(conn)
            .first()
        )
        township = await Division.filter(code=township_code).using_db(conn).first()
        if window is None or township is None:
            raise NotFound(f"找不到乡镇（街道）{township_code} 的受理窗口")
        if window.version != window_in.version:
            raise Conflict(
                "窗口信息已被他人修改，请刷新后重新编辑",
                current_version=window.version,
            )
        before = _window_snapshot(window)
        for name in _WINDOW_FIELDS:
            setattr(window, name, getattr(window_in, name))
        window.version += 1
        await window.save(using_db=conn)
        await record_event(
            actor_id=actor.user_id,
            actor_label=actor.label,
            action="window.update",
            entity="window",
            entity_id=township_code,
            jurisdiction=township_code,
            before=before,
            after=_window_snapshot(window),
            using_db=conn,
        )
    return window, township


async def list_departments(*, county_code: str) -> list[Department]:
    """A county's departments."""
    return await Department.filter(county_code=county_code).order_by("id")


async def get_category_matrix(*, county_code: str) -> list[dict[str, Any]]:
    """For each category: the department that handles it in this county, and whether by default."""
    overrides = {
        r.category: r.department_kind for r in await CategoryRoute.filter(county_code=county_code)
    }
    departments = {d.kind: d for d in await list_departments(county_code=county_code)}
    rows = []
    for key, (label, default_kind) in CATEGORIES.items():
        kind = overrides.get(key, default_kind)
        dept = departments.get(kind)
        rows.append(
            {
                "category": key,
                "category_label": label,
                "department": kind,
                "department_label": DEPARTMENTS[kind][0],
                "department_name": dept.name if dept else None,
                "is_default": key not in overrides,
            }
        )
    return rows


async def set_category_route(
    *, county_code: str, category: str, department: str, actor: Principal
) -> list[dict[str, Any]]:
    """Point one category at another department for a county (back to default when equal)."""
    if category not in CATEGORIES:
        raise NotFound(f"未知救助类别 {category}")
    if department not in DEPARTMENTS:
        raise ValidationFailed(f"未知部门 {department}")
    async with in_transaction() as conn:
        current = (
            await CategoryRoute.filter(county_code=county_code, category=category)
            .using_db(conn)
            .first()
        )
        before = current.department_kind if current else CATEGORIES[category][1]
        if department == CATEGORIES[category][1]:
            if current:
                await current.delete(using_db=conn)
        elif current:
            current.department_kind = department
            await current.save(using_db=conn)
        else:
            await CategoryRoute.create(
                county_code=county_code,
                category=category,
                department_kind=department,
                using_db=conn,
            )
        await record_event(
            actor_id=actor.user_id,
            actor_label=actor.label,
            action="category_route.set",
            entity="county",
            entity_id=county_code,
            jurisdiction=county_code,
            before={"category": category, "department": before},
            after={"category": category, "department": department},
            using_db=conn,
        )
    return await get_category_matrix(county_code=county_code)
