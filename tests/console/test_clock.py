"""The decision clock in the console: days left, the head's one extension, overdue escalation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np

from backend.cases.models import Application, ApplicationStatus
from tests.console.conftest import signed_in
from tests.console.test_applications import (  # noqa: F401
    CHANGSHUO,
    DIPU,
    apply,
    assert_page,
    boundaries,
    clerk,
    item,
    points,
    resident,
    settings,
)
from tests.factories import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")


def left_by_numpy(due: datetime) -> int:
    """Working days after today up to the due day (numpy's weekday count, no holidays set)."""
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    return int(
        np.busday_count(
            today + timedelta(days=1), due.astimezone(SHANGHAI).date() + timedelta(days=1)
        )
    )


async def as_user(console: httpx.AsyncClient, username: str) -> str:
    """Sign in as someone else in the same browser (a fresh session)."""
    console.cookies.clear()
    return await signed_in(console, username)


async def accept(console: httpx.AsyncClient, item: dict[str, Any]) -> Application:  # noqa: F811
    csrf = await signed_in(console, "dipu_clerk")
    done = await console.post(
        f"/console/applications/{item['id']}/accept", data={"csrf_token": csrf, "version": "1"}
    )
    assert done.status_code == 303, done.text
    return await Application.get(id=item["id"])


async def test_the_page_shows_days_left_and_only_the_head_may_extend(
    console: httpx.AsyncClient,
    item: dict[str, Any],  # noqa: F811
) -> None:
    row = await accept(console, item)
    assert row.decision_due_at is not None
    due_day = row.decision_due_at.astimezone(SHANGHAI).date().isoformat()
    url = f"/console/applications/{item['id']}"
    page = assert_page(await console.get(url), 200, f"审核期限：{due_day}")
    assert f"剩余 {left_by_numpy(row.decision_due_at)} 个工作日" in page
    assert "/extend" not in page  # the clerk has no extension
    listing = assert_page(await console.get("/console/applications"), 200)
    assert f'data-left="{left_by_numpy(row.decision_due_at)}"' in listing

    await make_user("dipu_head", "township_head", DIPU)
    csrf = await as_user(console, "dipu_head")
    page = assert_page(await console.get(url), 200, "延长审核期限")
    short = await console.post(
        f"{url}/extend", data={"csrf_token": csrf, "version": "2", "reason": "短"}
    )
    assert_page(short, 422, "请写明延期的理由")
    assert (await Application.get(id=item["id"])).extended_at is None
    done = await console.post(
        f"{url}/extend",
        data={"csrf_token": csrf, "version": "2", "reason": "需两地核实户籍与居住情况"},
    )
    assert done.status_code == 303, done.text
    row = await Application.get(id=item["id"])
    start = row.accepted_at.astimezone(SHANGHAI).date()  # type: ignore[union-attr]
    expected = np.busday_offset(np.datetime64(start.isoformat()), 45, roll="forward")
    assert row.decision_due_at.astimezone(SHANGHAI).date() == expected.astype(date)  # type: ignore[union-attr]
    page = assert_page(
        await console.get(url), 200, "已延长至 45 个工作日", "需两地核实户籍与居住情况"
    )
    assert "/extend" not in page  # once only
    again = await console.post(
        f"{url}/extend", data={"csrf_token": csrf, "version": "3", "reason": "再延长一次试试"}
    )
    assert_page(again, 409, "只能延长一次")


async def test_overdue_cases_reach_the_head_and_the_county_not_another_township(
    console: httpx.AsyncClient,
    item: dict[str, Any],  # noqa: F811
) -> None:
    row = await accept(console, item)
    # The limit passed three days ago (set on the row: the test clock cannot wait 30 days).
    await Application.filter(id=row.id).update(
        decision_due_at=datetime.now(UTC) - timedelta(days=3)
    )
    await make_user("dipu_head2", "township_head", DIPU)
    await make_user("anji_approver2", "county_approver", "330523")
    await make_user("changshuo_head", "township_head", CHANGSHUO)
    for username in ("dipu_head2", "anji_approver2"):
        await as_user(console, username)
        home = assert_page(await console.get("/console/"), 200, "救助申请审核期限")
        assert re.search(r"data-overdue>1<", home), username
        overdue = assert_page(await console.get("/console/applications?overdue=1"), 200)
        assert item["number"] in overdue and "已超期" in overdue
    await as_user(console, "changshuo_head")
    home = assert_page(await console.get("/console/"), 200)
    assert "救助申请审核期限" not in home
    assert item["number"] not in (await console.get("/console/applications?overdue=1")).text
    # A decided case leaves the count (only accepted ones await a decision).
    await Application.filter(id=row.id).update(status=ApplicationStatus.REFUSED)
    await as_user(console, "dipu_head2")
    assert "救助申请审核期限" not in (await console.get("/console/")).text
