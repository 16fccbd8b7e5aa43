"""The decision clock: 30 working days from acceptance, once extended to 45 by the township head.

Expected dates are counted by hand on the calendar below (the 2026 National Day week off,
with Saturday 10 October worked instead), or by numpy's business-day arithmetic, which shares
no code with backend.workdays.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest

from backend.accounts.service import load_principal
from backend.cases import service as cases
from backend.cases.models import Application, ApplicationEvent, ApplicationStatus
from backend.cases.service import DecisionClock
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.integrity.models import AuditEvent
from backend.notify.models import Notice
from backend.workdays import WorkCalendar
from tests.factories import make_user
from tests.mp.conftest import (  # noqa: F401
    application_body,
    boundaries,
    clerk,
    points,
    resident,
    settings,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = WorkCalendar.parse(
    "2026-10-01,2026-10-02,2026-10-03,2026-10-04,2026-10-05,2026-10-06,2026-10-07",
    "2026-10-10",
)
CLOCK = DecisionClock(calendar=NATIONAL_DAY)
PLAIN = DecisionClock(calendar=WorkCalendar())


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), SHANGHAI) + timedelta(
        hours=hour
    )


def test_thirty_and_forty_five_working_days_across_the_national_day_week() -> None:
    accepted = at("2026-09-28")  # a Monday
    # By hand: 29, 30 Sep; 8, 9, 10 (the worked Saturday), 12-16, 19-23, 26-30 Oct;
    # 2-6, 9-13 Nov: the 30th working day is Friday 13 November.
    assert CLOCK.due(accepted) == at("2026-11-13", 0) + timedelta(hours=17, minutes=30)
    # Then 16-20, 23-27, 30 Nov, 1-4 Dec: the 45th is Friday 4 December.
    assert CLOCK.due(accepted, extended=True) == at("2026-12-04", 0) + timedelta(
        hours=17, minutes=30
    )


def test_working_days_left_counts_from_tomorrow_and_goes_negative() -> None:
    due = at("2026-11-13", 0) + timedelta(hours=17, minutes=30)
    cal = NATIONAL_DAY
    assert cal.working_days_left(at("2026-11-11", 9), due) == 2  # Thursday and Friday
    assert cal.working_days_left(at("2026-11-13", 9), due) == 0  # the last day
    assert cal.working_days_left(at("2026-11-13", 18), due) == 0  # past 17:30, still that day
    # The Sunday after: no working day has passed, but the day has: overdue, not "today".
    assert cal.working_days_left(at("2026-11-15", 9), due) == -1
    assert cal.working_days_left(at("2026-11-17", 9), due) == -2  # Monday and Tuesday passed
    # Across the holiday week only the two working days after it count.
    assert cal.working_days_left(at("2026-09-30", 12), at("2026-10-09", 17)) == 2


@pytest.mark.parametrize("day", ["2026-01-05", "2026-03-18", "2026-07-31", "2026-12-24"])
def test_due_date_agrees_with_numpy_business_days(day: str) -> None:
    accepted = at(day)
    expected = np.busday_offset(np.datetime64(day), 30, roll="forward")
    assert PLAIN.due(accepted).date() == expected.astype(date)


async def _principal(username: str, role: str, jurisdiction: str):  # type: ignore[no-untyped-def]
    user = await make_user(username, role, jurisdiction)
    return await load_principal(user_id=user.id, token_id="t", family="f")


@pytest.fixture
async def accepted(client: httpx.AsyncClient, resident: dict) -> Application:  # noqa: F811
    response = await client.post("/mp/v1/applications", json=application_body(), headers=resident)
    assert response.status_code == 201, response.text
    clerk_p = await _principal("clock-clerk", "window_clerk", "330523001")
    return await cases.accept_application(
        principal=clerk_p,
        application_id=uuid.UUID(response.json()["id"]),
        expected_version=1,
        clock=PLAIN,
    )


async def test_acceptance_starts_the_clock(accepted: Application) -> None:
    row = await Application.get(id=accepted.id)
    assert row.accepted_at is not None and row.decision_due_at is not None
    local = row.accepted_at.astimezone(SHANGHAI).date()
    expected = np.busday_offset(np.datetime64(local.isoformat()), 30, roll="forward")
    assert row.decision_due_at.astimezone(SHANGHAI).date() == expected.astype(date)
    audit = await AuditEvent.get(action="application.accept", entity_id=str(row.id))
    assert audit.after["decision_due_at"] == row.decision_due_at.isoformat()


async def test_the_township_head_extends_once_with_a_reason(accepted: Application) -> None:
    head = await _principal("clock-head", "township_head", "330523001")
    done = await cases.extend_deadline(
        principal=head,
        application_id=accepted.id,
        expected_version=2,
        reason="户籍所在地与居住地不一致，需两地核实",
        clock=PLAIN,
    )
    assert done.status == ApplicationStatus.ACCEPTED and done.version == 3
    local = done.accepted_at.astimezone(SHANGHAI).date()  # type: ignore[union-attr]
    expected = np.busday_offset(np.datetime64(local.isoformat()), 45, roll="forward")
    assert done.decision_due_at.astimezone(SHANGHAI).date() == expected.astype(date)  # type: ignore[union-attr]
    audit = await AuditEvent.get(action="application.extend", entity_id=str(accepted.id))
    assert audit.after["extension_reason"] == "户籍所在地与居住地不一致，需两地核实"
    assert (
        audit.after["decision_due_at_before"]
        == accepted.decision_due_at.astimezone(  # type: ignore[union-attr]
            UTC
        ).isoformat()
    )
    # The applicant hears of the extension and its new date, never the head's reason.
    phrases = [n.data["phrase2"] for n in await Notice.filter(item_id=accepted.id)]
    assert sorted(phrases) == ["审核延期", "已受理"]
    sent = await Notice.filter(item_id=accepted.id, data__contains={"phrase2": "审核延期"}).first()
    assert sent is not None and "两地" not in str(sent.data)
    kinds = [e.kind for e in await ApplicationEvent.filter(application_id=accepted.id)]
    assert kinds.count("accepted") == 1 and "extended" in kinds
    with pytest.raises(Conflict) as again:
        await cases.extend_deadline(
            principal=head,
            application_id=accepted.id,
            expected_version=3,
            reason="再延一次试试看",
            clock=PLAIN,
        )
    assert again.value.type_slug == "already-extended"
    row = await Application.get(id=accepted.id)
    assert row.version == 3 and row.decision_due_at == done.decision_due_at


async def test_no_extension_once_the_limit_has_passed(accepted: Application) -> None:
    # The law extends the period within it: past the limit the case is overdue, and an
    # extension would only hide it from the county's overdue count.
    await Application.filter(id=accepted.id).update(
        decision_due_at=datetime.now(UTC) - timedelta(hours=1)
    )
    head = await _principal("clock-head4", "township_head", "330523001")
    with pytest.raises(Conflict) as late:
        await cases.extend_deadline(
            principal=head,
            application_id=accepted.id,
            expected_version=2,
            reason="调查尚未完成，需要延期",
            clock=PLAIN,
        )
    assert late.value.type_slug == "deadline-passed"
    assert (await Application.get(id=accepted.id)).extended_at is None


async def test_who_may_not_extend_and_bad_reasons_change_nothing(accepted: Application) -> None:
    clerk_p = await _principal("clock-clerk2", "window_clerk", "330523001")
    approver = await _principal("clock-approver", "county_approver", "330523")
    other_head = await _principal("clock-head2", "township_head", "330523002")
    head = await _principal("clock-head3", "township_head", "330523001")
    reason = "需要补充调查邻里情况"
    for who, error in ((clerk_p, Forbidden), (approver, Forbidden), (other_head, NotFound)):
        with pytest.raises(error):
            await cases.extend_deadline(
                principal=who,
                application_id=accepted.id,
                expected_version=2,
                reason=reason,
                clock=PLAIN,
            )
    for bad in ("", "  短 ", "长" * 201):
        with pytest.raises(ValidationFailed):
            await cases.extend_deadline(
                principal=head,
                application_id=accepted.id,
                expected_version=2,
                reason=bad,
                clock=PLAIN,
            )
    with pytest.raises(Conflict):  # a stale form
        await cases.extend_deadline(
            principal=head,
            application_id=accepted.id,
            expected_version=1,
            reason=reason,
            clock=PLAIN,
        )
    row = await Application.get(id=accepted.id)
    assert row.version == 2 and row.extended_at is None
    assert not await AuditEvent.filter(action="application.extend").exists()


async def test_the_resident_reads_the_days_left(
    client: httpx.AsyncClient,
    resident: dict,  # noqa: F811
    accepted: Application,
) -> None:
    shown = (await client.get(f"/mp/v1/applications/{accepted.id}", headers=resident)).json()
    assert datetime.fromisoformat(shown["decision_due_at"]) == accepted.decision_due_at
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    due = accepted.decision_due_at.astimezone(SHANGHAI).date()  # type: ignore[union-attr]
    # numpy counts the working days in [today+1, due]: busday_count's end is exclusive.
    expected = int(np.busday_count(today + timedelta(days=1), due + timedelta(days=1)))
    assert shown["working_days_left"] == expected and shown["deadline_extended"] is False
    assert "extension_reason" not in shown  # the head's reason stays with the staff
