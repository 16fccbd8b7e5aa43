"""Triage at the window: the queue, each action, and what the grid worker then sees."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tortoise.expressions import Q

from backend.accounts.authz import Principal
from backend.accounts.service import load_principal
from backend.cases.models import Application
from backend.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from backend.intake import service as intake_service
from backend.intake import triage
from backend.intake.labels import referral_state
from backend.intake.models import Counter, Lead, LeadEvent, Referral, SuspectedDuplicate
from backend.integrity.models import AuditEvent
from backend.workdays import SHANGHAI
from tests.factories import make_user
from tests.intake.conftest import DIPU_VILLAGES, Points, gcj, report_body

DIPU, CHANGSHUO, COUNTY = "330523001", "330523002", "330523"
# Names far enough apart that the duplicate check leaves them alone.
NAMES = ("张阿婆", "李大伯", "王小明", "赵桂兰", "陈建国", "刘秀英", "孙志强")


async def _staff(username: str, role: str, jurisdiction: str = DIPU) -> Principal:
    user = await make_user(username, role, jurisdiction)
    return await load_principal(user_id=user.id, token_id="test", family="test")


@pytest.fixture
async def clerk(worker: dict[str, str]) -> Principal:
    """A window clerk of 递铺街道."""
    return await _staff("clerk_dipu", "window_clerk")


async def _report(
    client: httpx.AsyncClient,
    worker: dict[str, str],
    point: tuple[float, float],
    name: str,
    **changes: Any,
) -> dict[str, Any]:
    subject = {"name": name, "phone": "13812345678"} | changes.pop("subject", {})
    body = report_body(gcj(point), subject=subject, **changes)
    response = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    assert response.status_code == 201, response.text
    return response.json()


async def _seen(client: httpx.AsyncClient, worker: dict[str, str], lead_id: str) -> dict[str, Any]:
    """The report as its grid worker sees it on the phone."""
    response = await client.get(f"/mobile/v1/reports/{lead_id}", headers=worker)
    assert response.status_code == 200, response.text
    return response.json()


async def _writes() -> tuple[Any, ...]:
    leads = await Lead.all().order_by("id").values_list("id", "status", "version", "township_code")
    return (
        tuple(leads),
        await LeadEvent.all().count(),
        await AuditEvent.all().count(),
        await Referral.all().count(),
        await Application.all().count(),
        tuple(await Counter.all().order_by("key").values_list("key", "value")),
    )


async def _refused(call: Awaitable[Any], error: type[Problem], slug: str | None = None) -> Problem:
    """The call is refused with this error, and nothing at all was written."""
    before = await _writes()
    with pytest.raises(error) as caught:
        await call
    if slug is not None:
        assert caught.value.type_slug == slug, caught.value.detail
    assert await _writes() == before
    return caught.value


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


# --- the queue --------------------------------------------------------------------------------


async def test_queue_puts_urgent_then_most_overdue_first_and_counts_statuses(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    fresh = await _report(client, worker, points.dipu, NAMES[0])
    old = await _report(client, worker, points.dipu, NAMES[1])
    urgent = await _report(client, worker, points.dipu, NAMES[2], hardship=["disaster"])
    done = await _report(client, worker, points.dipu, NAMES[3])
    # A lead filed days ago and never answered.
    await Lead.filter(id=old["id"]).update(ack_due_at=datetime.now(UTC) - timedelta(days=2))
    await triage.close_lead(
        principal=clerk, lead_id=_uuid(done["id"]), expected_version=1, reason="moved_away"
    )
    page = await triage.list_queue(principal=clerk)
    assert [str(lead.id) for lead in page.items] == [urgent["id"], old["id"], fresh["id"]]
    assert page.next_cursor is None
    assert page.counts == {
        "received": 3,
        "acknowledged": 0,
        "referred": 0,
        "converted": 0,
        "merged": 0,
        "closed": 1,
    }
    closed = await triage.list_queue(principal=clerk, status="closed")
    assert [str(lead.id) for lead in closed.items] == [done["id"]]
    everything = await triage.list_queue(principal=clerk, status="all")
    assert [str(lead.id) for lead in everything.items][-1] == done["id"]
    assert len(everything.items) == 4
    # Acknowledged leads stay in the open queue, in the same order.
    await triage.acknowledge_lead(principal=clerk, lead_id=_uuid(old["id"]), expected_version=1)
    page = await triage.list_queue(principal=clerk)
    assert [str(lead.id) for lead in page.items] == [urgent["id"], old["id"], fresh["id"]]
    assert page.counts["received"] == 2 and page.counts["acknowledged"] == 1


async def test_queue_filters(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    plain = await _report(client, worker, points.dipu, NAMES[0])
    disaster = await _report(client, worker, points.dipu, NAMES[1], hardship=["disaster"])
    village = await _report(
        client, worker, points.dipu, NAMES[2], subject={"village_code": DIPU_VILLAGES[0]}
    )
    twin = await _report(client, worker, points.dipu, NAMES[0] + "婆")  # 张阿婆婆 ~ 张阿婆
    late = await _report(client, worker, points.dipu, NAMES[3])
    await Lead.filter(id=late["id"]).update(ack_due_at=datetime.now(UTC) - timedelta(hours=1))
    assert await SuspectedDuplicate.filter(lead_id=twin["id"], other_id=plain["id"]).exists()

    async def ids(**filters: Any) -> set[str]:
        page = await triage.list_queue(principal=clerk, **filters)
        return {str(lead.id) for lead in page.items}

    everyone = {plain["id"], disaster["id"], village["id"], twin["id"], late["id"]}
    assert await ids() == everyone
    assert await ids(hardship="disaster") == {disaster["id"]}
    assert await ids(village=DIPU_VILLAGES[0]) == {village["id"]}
    assert await ids(duplicate=True) == {plain["id"], twin["id"]}
    assert await ids(duplicate=False) == everyone - {plain["id"], twin["id"]}
    assert await ids(overdue=True) == {late["id"]}
    assert await ids(overdue=False) == everyone - {late["id"]}
    assert await ids(source="grid_worker") == everyone
    assert await ids(source="resident") == set()
    assert await ids(status="acknowledged") == set()
    # A day later every normal lead is overdue too; the urgent one already after 24 hours.
    later = datetime.now(UTC) + timedelta(days=30)
    assert await ids(overdue=True, now=later) == everyone
    # Counts follow the other filters.
    page = await triage.list_queue(principal=clerk, hardship="disaster")
    assert page.counts["received"] == 1
    for bad in (
        {"status": "lost"},
        {"source": "police"},
        {"hardship": "rich"},
        {"village": "3305"},
        {"limit": 0},
        {"limit": 1000},
        {"after": "not-a-cursor"},
    ):
        with pytest.raises(ValidationFailed):
            await triage.list_queue(principal=clerk, **bad)


async def test_keyset_pages_walk_every_lead_once(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    created = [
        await _report(
            client, worker, points.dipu, name, hardship=["disaster"] if i % 3 == 0 else ["other"]
        )
        for i, name in enumerate(NAMES)
    ]
    whole = await triage.list_queue(principal=clerk)
    assert len(whole.items) == len(created)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await triage.list_queue(principal=clerk, after=cursor, limit=2)
        seen += [str(lead.id) for lead in page.items]
        pages += 1
        assert page.counts["received"] == len(created)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 4
    assert seen == [str(lead.id) for lead in whole.items]
    assert len(set(seen)) == len(created)


# --- jurisdiction and roles -------------------------------------------------------------------


async def test_township_clerk_sees_only_their_window_and_the_county_sees_both(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    dipu = await _report(client, worker, points.dipu, NAMES[0])
    changshuo = await _report(client, worker, points.changshuo, NAMES[1])
    assert changshuo["township"]["code"] == CHANGSHUO
    other_clerk = await _staff("clerk_cs", "window_clerk", CHANGSHUO)
    approver = await _staff("approver", "county_approver", COUNTY)

    mine = await triage.list_queue(principal=other_clerk)
    assert [str(lead.id) for lead in mine.items] == [changshuo["id"]]
    assert mine.counts["received"] == 1
    county = await triage.list_queue(principal=approver)
    assert {str(lead.id) for lead in county.items} == {dipu["id"], changshuo["id"]}
    assert county.counts["received"] == 2

    await _refused(
        triage.get_lead_for_staff(principal=other_clerk, lead_id=_uuid(dipu["id"])), NotFound
    )
    assert (await triage.get_lead_for_staff(principal=approver, lead_id=_uuid(dipu["id"]))).number
    # Acting on another township's lead: it does not exist for them.
    await _refused(
        triage.acknowledge_lead(
            principal=other_clerk, lead_id=_uuid(dipu["id"]), expected_version=1
        ),
        NotFound,
    )
    await _refused(
        triage.merge_lead(
            principal=clerk,
            lead_id=_uuid(dipu["id"]),
            expected_version=1,
            into_lead_id=_uuid(changshuo["id"]),
        ),
        NotFound,
    )
    await _refused(
        triage.acknowledge_lead(principal=clerk, lead_id=uuid.uuid4(), expected_version=1),
        NotFound,
    )
    summary = await triage.window_summary(principal=other_clerk)
    assert [w["township_code"] for w in summary["windows"]] == [CHANGSHUO]


async def test_county_unrouted_lead_is_seen_by_the_county_and_dispatched(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    far = (points.dipu[0] + 1.5, points.dipu[1])
    lead = await _report(client, worker, far, NAMES[0])
    assert lead["routed_by"] == "county_unrouted" and lead["township"] is None
    county_clerk = await _staff("clerk_county", "window_clerk", COUNTY)
    assert (await triage.list_queue(principal=clerk)).items == []
    page = await triage.list_queue(principal=county_clerk)
    assert [str(item.id) for item in page.items] == [lead["id"]]
    await _refused(
        triage.convert_lead(
            principal=county_clerk,
            lead_id=_uuid(lead["id"]),
            expected_version=1,
            category="linshi",
        ),
        Conflict,
        "invalid-state",
    )
    moved = await triage.transfer_lead(
        principal=county_clerk,
        lead_id=_uuid(lead["id"]),
        expected_version=1,
        to_township=DIPU,
        reason="户籍在递铺街道",
    )
    assert (moved.township_code, moved.transferred_from, moved.routed_by) == (
        DIPU,
        COUNTY,
        "transferred",
    )
    assert [str(item.id) for item in (await triage.list_queue(principal=clerk)).items] == [
        lead["id"]
    ]
    summary = await triage.window_summary(principal=county_clerk)
    assert summary["totals"]["received"] == 1
    assert all(w["township_code"] for w in summary["windows"])


async def test_roles(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(client, worker, points.dipu, NAMES[0])
    lead_id = _uuid(lead["id"])
    officer = await _staff("officer", "department_officer", COUNTY)
    await _refused(triage.list_queue(principal=officer), Forbidden)
    await _refused(triage.get_lead_for_staff(principal=officer, lead_id=lead_id), Forbidden)
    for username, role, where in (
        ("inv", "investigator", DIPU),
        ("sup", "supervisor", COUNTY),
        ("appr", "county_approver", COUNTY),
    ):
        principal = await _staff(username, role, where)
        # They may read the lead, not act on it.
        assert (await triage.get_lead_for_staff(principal=principal, lead_id=lead_id)).number
        await _refused(
            triage.acknowledge_lead(principal=principal, lead_id=lead_id, expected_version=1),
            Forbidden,
        )
        await _refused(
            triage.close_lead(
                principal=principal, lead_id=lead_id, expected_version=1, reason="unreachable"
            ),
            Forbidden,
        )
    grid = await load_principal(
        user_id=(await Lead.get(id=lead_id)).reporter_id, token_id="t", family="t"
    )
    await _refused(triage.list_queue(principal=grid), Forbidden)
    await _refused(
        triage.acknowledge_lead(principal=grid, lead_id=lead_id, expected_version=1), Forbidden
    )
    head = await _staff("head", "township_head", DIPU)
    acted = await triage.acknowledge_lead(principal=head, lead_id=lead_id, expected_version=1)
    assert acted.status == "acknowledged"


# --- actions ----------------------------------------------------------------------------------


async def test_acknowledge_and_what_the_grid_worker_sees(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(client, worker, points.dipu, NAMES[0])
    done = await triage.acknowledge_lead(
        principal=clerk, lead_id=_uuid(lead["id"]), expected_version=1
    )
    assert (done.status, done.version, done.acknowledged_by_id) == (
        "acknowledged",
        2,
        clerk.user_id,
    )
    assert done.acknowledged_at is not None
    shown = await _seen(client, worker, lead["id"])
    assert shown["status"] == "acknowledged"
    assert shown["timeline"][-1]["message"] == "窗口已受理，正在核实情况"
    audit = await AuditEvent.get(action="lead.acknowledge", entity_id=lead["id"])
    assert audit.actor_id == clerk.user_id and audit.jurisdiction == DIPU
    assert audit.before == {"status": "received", "version": 1}
    assert audit.after is not None and audit.after["status"] == "acknowledged"
    # Once answered, the lead is no longer overdue, whatever its deadline.
    later = datetime.now(UTC) + timedelta(days=30)
    assert (await triage.list_queue(principal=clerk, overdue=True, now=later)).items == []
    # A second acknowledgement: not allowed in this state.
    problem = await _refused(
        triage.acknowledge_lead(principal=clerk, lead_id=_uuid(lead["id"]), expected_version=2),
        Conflict,
        "invalid-state",
    )
    assert "已受理" in problem.detail


async def test_stale_version_is_a_conflict(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(client, worker, points.dipu, NAMES[0])
    lead_id = _uuid(lead["id"])
    other = await _staff("clerk_two", "window_clerk")
    await triage.acknowledge_lead(principal=other, lead_id=lead_id, expected_version=1)
    # The first clerk still has version 1 on screen.
    for call in (
        triage.close_lead(
            principal=clerk, lead_id=lead_id, expected_version=1, reason="unreachable"
        ),
        triage.refer_lead(
            principal=clerk,
            lead_id=lead_id,
            expected_version=1,
            department="yibao",
            due_date=datetime.now(SHANGHAI).date(),
            note="请核实医保报销",
        ),
        triage.convert_lead(
            principal=clerk, lead_id=lead_id, expected_version=1, category="linshi"
        ),
        triage.transfer_lead(
            principal=clerk,
            lead_id=lead_id,
            expected_version=1,
            to_township=CHANGSHUO,
            reason="不在本街道",
        ),
    ):
        problem = await _refused(call, Conflict, "stale-version")
        assert problem.detail == "该线索已被他人更新，请刷新后重试"
        assert problem.extra["current_version"] == 2


async def test_assign_and_home_visits_reach_the_investigator_and_the_grid_worker(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(client, worker, points.dipu, NAMES[0])
    lead_id = _uuid(lead["id"])
    investigator = await _staff("inv_dipu", "investigator", DIPU)
    outsider = await _staff("inv_cs", "investigator", CHANGSHUO)
    await _refused(
        triage.assign_lead(
            principal=clerk,
            lead_id=lead_id,
            expected_version=1,
            investigator_id=outsider.user_id,
        ),
        ValidationFailed,
    )
    await _refused(
        triage.assign_lead(
            principal=clerk, lead_id=lead_id, expected_version=1, investigator_id=clerk.user_id
        ),
        ValidationFailed,
    )
    assigned = await triage.assign_lead(
        principal=clerk, lead_id=lead_id, expected_version=1, investigator_id=investigator.user_id
    )
    # Assigning answers the lead: it is acknowledged on the way.
    assert (assigned.status, assigned.assigned_to_id, assigned.version) == (
        "acknowledged",
        investigator.user_id,
        2,
    )
    assert assigned.acknowledged_at is not None
    assert (await _seen(client, worker, lead["id"]))["timeline"][-1]["message"] == (
        "窗口已安排调查员跟进核实"
    )

    grid = await load_principal(user_id=assigned.reporter_id, token_id="t", family="t")
    assert await triage.list_visit_requests(principal=grid) == []
    await triage.request_home_visit(
        principal=clerk, lead_id=lead_id, expected_version=2, note="请核实是否独居"
    )
    assert [str(x.id) for x in await triage.list_visit_requests(principal=grid)] == [lead["id"]]
    assert [str(x.id) for x in await triage.list_visit_requests(principal=investigator)] == [
        lead["id"]
    ]
    assert await triage.list_visit_requests(principal=outsider) == []
    await _refused(triage.list_visit_requests(principal=clerk), Forbidden)
    assert (await _seen(client, worker, lead["id"]))["timeline"][-1]["message"] == (
        "窗口请求入户走访：请核实是否独居"
    )
    await _refused(
        triage.request_home_visit(principal=clerk, lead_id=lead_id, expected_version=3),
        Conflict,
        "invalid-state",
    )
    # An investigator records visits, nothing else; one not assigned to it is refused.
    await _refused(
        triage.acknowledge_lead(principal=investigator, lead_id=lead_id, expected_version=3),
        Forbidden,
    )
    await _refused(
        triage.record_visit(
            principal=outsider, lead_id=lead_id, expected_version=3, result="已走访"
        ),
        NotFound,
    )
    await _refused(
        triage.record_visit(principal=grid, lead_id=lead_id, expected_version=3, result=" "),
        ValidationFailed,
    )
    visited = await triage.record_visit(
        principal=grid, lead_id=lead_id, expected_version=3, result="独居，行动不便"
    )
    assert visited.home_visit_done_by_id == grid.user_id and visited.version == 4
    assert await triage.list_visit_requests(principal=grid) == []
    assert await triage.list_visit_requests(principal=investigator) == []
    shown = await _seen(client, worker, lead["id"])
    assert shown["timeline"][-1]["message"] == "已完成入户走访"
    assert "独居，行动不便" not in str(shown)


async def test_merge_keeps_both_histories(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    first = await _report(client, worker, points.dipu, NAMES[0])
    second = await _report(client, worker, points.dipu, NAMES[0])
    closed = await _report(client, worker, points.dipu, NAMES[1])
    pairs = await SuspectedDuplicate.all().count()
    assert pairs == 1
    await triage.close_lead(
        principal=clerk, lead_id=_uuid(closed["id"]), expected_version=1, reason="duplicate"
    )
    await _refused(
        triage.merge_lead(
            principal=clerk,
            lead_id=_uuid(second["id"]),
            expected_version=1,
            into_lead_id=_uuid(second["id"]),
        ),
        ValidationFailed,
    )
    await _refused(
        triage.merge_lead(
            principal=clerk,
            lead_id=_uuid(second["id"]),
            expected_version=1,
            into_lead_id=_uuid(closed["id"]),
        ),
        Conflict,
        "invalid-state",
    )
    await _refused(
        triage.merge_lead(
            principal=clerk,
            lead_id=_uuid(closed["id"]),
            expected_version=2,
            into_lead_id=_uuid(first["id"]),
        ),
        Conflict,
        "invalid-state",
    )
    merged = await triage.merge_lead(
        principal=clerk,
        lead_id=_uuid(second["id"]),
        expected_version=1,
        into_lead_id=_uuid(first["id"]),
    )
    assert merged.status == "merged" and str(merged.merged_into_id) == first["id"]
    target = await Lead.get(id=first["id"])
    assert (target.status, target.version) == ("received", 2)
    assert await SuspectedDuplicate.all().count() == pairs
    shown = await _seen(client, worker, second["id"])
    assert shown["status"] == "merged"
    # The sender of either report is not told the other one's number (it may be another
    # worker's report): the window's timeline keeps it, the sender reads the public message.
    assert shown["timeline"][-1]["message"] == "窗口核实与其他报告为同一户，已合并办理"
    kept = await _seen(client, worker, first["id"])
    assert kept["timeline"][-1]["message"] == "窗口核实其他报告与本报告为同一户，已合并到本报告办理"
    for seen in (shown, kept):
        assert not any(
            n in e["message"] for e in seen["timeline"] for n in (first["number"], second["number"])
        )
    staff = await LeadEvent.get(lead_id=second["id"], kind="merged")
    assert first["number"] in staff.message
    assert await AuditEvent.filter(action="lead.merge", entity_id=second["id"]).count() == 1
    assert await AuditEvent.filter(action="lead.merge_target", entity_id=first["id"]).count() == 1
    # Merged is finished; merging into it is refused too.
    await _refused(
        triage.merge_lead(
            principal=clerk,
            lead_id=_uuid(first["id"]),
            expected_version=2,
            into_lead_id=_uuid(second["id"]),
        ),
        Conflict,
        "invalid-state",
    )
    page = await triage.list_queue(principal=clerk)
    assert [str(x.id) for x in page.items] == [first["id"]]
    assert page.counts["merged"] == 1


async def test_convert_files_an_application(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(client, worker, points.dipu, NAMES[0])
    lead_id = _uuid(lead["id"])
    await _refused(
        triage.convert_lead(principal=clerk, lead_id=lead_id, expected_version=1, category="car"),
        ValidationFailed,
    )
    # 社会力量参与 is how charities take part, not a category anyone applies for.
    await _refused(
        triage.convert_lead(
            principal=clerk, lead_id=lead_id, expected_version=1, category="shehui"
        ),
        ValidationFailed,
    )
    converted = await triage.convert_lead(
        principal=clerk, lead_id=lead_id, expected_version=1, category="linshi"
    )
    assert converted.status == "converted" and converted.acknowledged_at is not None
    application = await triage.get_application_for_lead(lead=converted)
    assert application is not None
    year = datetime.now(SHANGHAI).year
    assert application.number == f"{DIPU}-SQ-{year}-00001"
    assert (application.category, application.township_code, application.status) == (
        "linshi",
        DIPU,
        "received",
    )
    assert (application.applicant_name, application.created_by_id) == (NAMES[0], clerk.user_id)
    assert await AuditEvent.filter(action="application.create").count() == 1
    shown = await _seen(client, worker, lead["id"])
    assert shown["status"] == "converted"
    # The grid worker reads that it became an application, not its number or category.
    assert shown["timeline"][-1]["message"] == "窗口已受理，转为救助申请办理"
    staff_view = await intake_service.list_events(lead=await Lead.get(id=lead["id"]))
    assert staff_view[-1].message == f"窗口已代为提出临时救助申请，申请编号 {application.number}"
    await _refused(
        triage.convert_lead(principal=clerk, lead_id=lead_id, expected_version=2, category="dibao"),
        Conflict,
        "invalid-state",
    )
    second = await _report(client, worker, points.dipu, NAMES[1])
    again = await triage.convert_lead(
        principal=clerk, lead_id=_uuid(second["id"]), expected_version=1, category="dibao"
    )
    other = await triage.get_application_for_lead(lead=again)
    assert other is not None and other.number == f"{DIPU}-SQ-{year}-00002"


async def test_refer_to_a_department_with_a_due_date(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(client, worker, points.dipu, NAMES[0])
    lead_id = _uuid(lead["id"])
    today = datetime.now(SHANGHAI).date()

    def refer(**changes: Any) -> Awaitable[Lead]:
        args: dict[str, Any] = {
            "department": "yibao",
            "due_date": today + timedelta(days=10),
            "note": "请核实大病医疗报销",
            "expected_version": 1,
        } | changes
        return triage.refer_lead(principal=clerk, lead_id=lead_id, **args)

    problem = await _refused(refer(due_date=today - timedelta(days=1)), ValidationFailed)
    assert problem.detail == "办理期限不能早于今天"
    await _refused(refer(department="police"), ValidationFailed)
    await _refused(refer(note="  "), ValidationFailed)
    referred = await refer(due_date=today)
    assert (referred.status, referred.version) == ("referred", 2)
    referral = (await triage.list_referrals(lead=referred))[0]
    assert (referral.department_kind, referral.county_code, referral.due_date) == (
        "yibao",
        COUNTY,
        today,
    )
    assert referral_state(referral) == "pending"
    assert referral_state(referral, today=today + timedelta(days=1)) == "overdue"
    shown = await _seen(client, worker, lead["id"])
    assert shown["status"] == "referred"
    assert shown["timeline"][-1]["message"] == (
        f"已转安吉县医疗保障局办理，办理期限 {today:%Y年%m月%d日}"
    )
    await _refused(refer(expected_version=2), Conflict, "already-referred")
    # Referred leads stay with the county's departments: no transfer to another window.
    await _refused(
        triage.transfer_lead(
            principal=clerk,
            lead_id=lead_id,
            expected_version=2,
            to_township=CHANGSHUO,
            reason="不在本街道",
        ),
        Conflict,
        "invalid-state",
    )
    # A second department may be asked too.
    both = await refer(department="jiaoyu", expected_version=2)
    assert both.version == 3 and len(await triage.list_referrals(lead=both)) == 2
    officer = await _staff("officer", "department_officer", COUNTY)
    done = await triage.record_referral_result(
        principal=officer, referral_id=referral.id, result="已按规定报销"
    )
    assert referral_state(done) == "done"
    assert (await _seen(client, worker, lead["id"]))["timeline"][-1]["message"] == (
        "医疗保障部门已反馈办理结果"
    )
    await _refused(
        triage.record_referral_result(principal=officer, referral_id=referral.id, result="再次"),
        Conflict,
        "invalid-state",
    )


async def test_transfer_moves_the_lead_to_the_other_window(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(client, worker, points.dipu, NAMES[0])
    lead_id = _uuid(lead["id"])
    other_clerk = await _staff("clerk_cs", "window_clerk", CHANGSHUO)

    def transfer(**changes: Any) -> Awaitable[Lead]:
        args: dict[str, Any] = {
            "to_township": CHANGSHUO,
            "reason": "实际居住在昌硕街道",
            "expected_version": 2,
        } | changes
        return triage.transfer_lead(principal=clerk, lead_id=lead_id, **args)

    await triage.acknowledge_lead(principal=clerk, lead_id=lead_id, expected_version=1)
    await _refused(transfer(to_township=DIPU), ValidationFailed)
    await _refused(transfer(to_township="330523999"), ValidationFailed)
    await _refused(transfer(to_township="nope"), ValidationFailed)
    await _refused(transfer(reason=""), ValidationFailed)
    moved = await transfer()
    assert (moved.township_code, moved.county_code, moved.routed_by) == (
        CHANGSHUO,
        COUNTY,
        "transferred",
    )
    assert (moved.transferred_from, moved.transfer_reason) == (DIPU, "实际居住在昌硕街道")
    # Received again at the new window, same number, same deadline.
    assert (moved.status, moved.acknowledged_at, moved.number) == ("received", None, lead["number"])
    await _refused(triage.get_lead_for_staff(principal=clerk, lead_id=lead_id), NotFound)
    assert (await triage.list_queue(principal=clerk)).items == []
    page = await triage.list_queue(principal=other_clerk)
    assert [str(x.id) for x in page.items] == [lead["id"]]
    shown = await _seen(client, worker, lead["id"])
    assert shown["township"]["code"] == CHANGSHUO
    assert shown["routed_by"] == "transferred"
    assert shown["timeline"][-1]["message"].startswith("已转交")
    assert "实际居住在昌硕街道" in shown["timeline"][-1]["message"]
    audit = await AuditEvent.get(action="lead.transfer", entity_id=lead["id"])
    assert audit.before is not None and audit.before["township"] == DIPU
    assert audit.after is not None and audit.after["township"] == CHANGSHUO
    await triage.acknowledge_lead(principal=other_clerk, lead_id=lead_id, expected_version=3)


async def test_close_needs_a_reason_from_the_list(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(client, worker, points.dipu, NAMES[0])
    lead_id = _uuid(lead["id"])

    def close(reason: str | None, note: str | None = None) -> Awaitable[Lead]:
        return triage.close_lead(
            principal=clerk, lead_id=lead_id, expected_version=1, reason=reason, note=note
        )

    await _refused(close(None), ValidationFailed)
    await _refused(close(""), ValidationFailed)
    await _refused(close("rich"), ValidationFailed)
    problem = await _refused(close("other"), ValidationFailed)
    assert problem.extra["errors"][0]["field"] == "note"
    await _refused(close("other", "   "), ValidationFailed)
    closed = await close("other", "已由亲属接走照料")
    assert (closed.status, closed.closed_reason, closed.closed_note) == (
        "closed",
        "other",
        "已由亲属接走照料",
    )
    assert closed.closed_by_id == clerk.user_id and closed.acknowledged_at is not None
    shown = await _seen(client, worker, lead["id"])
    assert shown["status"] == "closed"
    assert shown["timeline"][-1]["message"] == "窗口已办结：其他（已由亲属接走照料）"
    await _refused(
        triage.close_lead(
            principal=clerk, lead_id=lead_id, expected_version=2, reason="unreachable"
        ),
        Conflict,
        "invalid-state",
    )
    second = await _report(client, worker, points.dipu, NAMES[1])
    plain = await triage.close_lead(
        principal=clerk, lead_id=_uuid(second["id"]), expected_version=1, reason="already_assisted"
    )
    assert plain.closed_note is None
    assert (await _seen(client, worker, second["id"]))["timeline"][-1]["message"] == (
        "窗口已办结：已在保/已救助"
    )


async def test_reveal_is_audited_without_the_value(
    app: Any, client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(
        client, worker, points.dipu, NAMES[0], subject={"id_number": "330523198001011233"}
    )
    lead_id = _uuid(lead["id"])
    cipher = app.ctx.cipher
    assert lead["subject"]["phone"] == "138****5678"
    phone = await triage.reveal_subject(
        principal=clerk, lead_id=lead_id, field="phone", cipher=cipher
    )
    assert phone == "13812345678"
    approver = await _staff("approver", "county_approver", COUNTY)
    number = await triage.reveal_subject(
        principal=approver, lead_id=lead_id, field="id_number", cipher=cipher
    )
    assert number == "330523198001011233"
    rows = await AuditEvent.filter(action="lead.reveal", entity_id=lead["id"]).order_by("id")
    assert [(r.actor_id, r.after) for r in rows] == [
        (clerk.user_id, {"field": "phone"}),
        (approver.user_id, {"field": "id_number"}),
    ]
    assert all("13812345678" not in str(r.after) and "1233" not in str(r.after) for r in rows)
    investigator = await _staff("inv", "investigator", DIPU)
    await _refused(
        triage.reveal_subject(
            principal=investigator, lead_id=lead_id, field="phone", cipher=cipher
        ),
        Forbidden,
    )
    other_clerk = await _staff("clerk_cs", "window_clerk", CHANGSHUO)
    await _refused(
        triage.reveal_subject(principal=other_clerk, lead_id=lead_id, field="phone", cipher=cipher),
        NotFound,
    )


async def test_window_summary_counts_each_window(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    first = await _report(client, worker, points.dipu, NAMES[0])
    late = await _report(client, worker, points.dipu, NAMES[1])
    await _report(client, worker, points.changshuo, NAMES[2])
    await Lead.filter(id=late["id"]).update(ack_due_at=datetime.now(UTC) - timedelta(hours=1))
    await triage.acknowledge_lead(principal=clerk, lead_id=_uuid(first["id"]), expected_version=1)
    summary = await triage.window_summary(principal=clerk)
    assert summary["day"] == datetime.now(SHANGHAI).date().isoformat()
    assert summary["windows"] == [
        {
            "township_code": DIPU,
            "name": "递铺街道",
            "received": 2,
            "acknowledged": 1,
            "open": 2,
            "overdue": 1,
        }
    ]
    approver = await _staff("approver", "county_approver", COUNTY)
    county = await triage.window_summary(principal=approver)
    by_code = {w["township_code"]: w for w in county["windows"]}
    assert len(by_code) > 2  # every window of the county, quiet ones too
    assert by_code[CHANGSHUO]["received"] == 1 and by_code[CHANGSHUO]["open"] == 1
    assert county["totals"] == {"received": 3, "acknowledged": 1, "open": 3, "overdue": 1}
    yesterday = datetime.now(SHANGHAI).date() - timedelta(days=1)
    past = await triage.window_summary(principal=approver, day=yesterday)
    assert past["totals"]["received"] == 0


# --- what must not cross windows ---------------------------------------------------------------

OTHER_COUNTY, OTHER_TOWNSHIP = "330522", "330522001"  # 长兴县, 雉城街道
ID_NUMBER = "33052320100101106X"


async def test_duplicates_are_listed_only_where_the_viewer_may_open_them(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    first = await _report(client, worker, points.dipu, NAMES[0])
    twin = await _report(client, worker, points.dipu, NAMES[0] + "婆")
    assert await SuspectedDuplicate.filter(lead_id=twin["id"], other_id=first["id"]).exists()
    other_clerk = await _staff("clerk_cs", "window_clerk", CHANGSHUO)
    approver = await _staff("approver", "county_approver", COUNTY)
    # A link written before transfers re-checked them still pairs leads of two windows.
    await Lead.filter(id=twin["id"]).update(township_code=CHANGSHUO)
    mine = await Lead.get(id=first["id"])
    theirs = await Lead.get(id=twin["id"])

    assert await triage.list_duplicates(principal=clerk, lead=mine) == []
    assert await triage.list_duplicates(principal=other_clerk, lead=theirs) == []
    # Nor does the queue's filter count a pair the window cannot see.
    for window in (clerk, other_clerk):
        assert (await triage.list_queue(principal=window, duplicate=True)).items == []
        assert len((await triage.list_queue(principal=window, duplicate=False)).items) == 1
    paired = await triage.list_queue(principal=approver, duplicate=True)
    assert {str(x.id) for x in paired.items} == {first["id"], twin["id"]}
    # The county may open both, so it sees the pair from either side.
    seen = await triage.list_duplicates(principal=approver, lead=mine)
    assert [(str(other.id), reasons) for other, reasons in seen] == [
        (twin["id"], ["nearby_similar"])
    ]


async def test_transfer_rechecks_duplicate_links(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    first = await _report(client, worker, points.dipu, NAMES[0])
    twin = await _report(
        client, worker, points.dipu, NAMES[0] + "婆", subject={"id_number": ID_NUMBER}
    )
    there = await _report(
        client, worker, points.changshuo, NAMES[4], subject={"id_number": ID_NUMBER}
    )
    other_clerk = await _staff("clerk_cs", "window_clerk", CHANGSHUO)

    await triage.transfer_lead(
        principal=clerk,
        lead_id=_uuid(twin["id"]),
        expected_version=1,
        to_township=CHANGSHUO,
        reason="实际居住在昌硕街道",
    )
    # The pair left behind in 递铺 is gone: neither window may open the other's lead.
    pair = Q(lead_id=twin["id"], other_id=first["id"]) | Q(lead_id=first["id"], other_id=twin["id"])
    assert not await SuspectedDuplicate.filter(pair).exists()
    assert await triage.list_duplicates(principal=clerk, lead=await Lead.get(id=first["id"])) == []
    # In 昌硕 the same ID number is found again.
    seen = await triage.list_duplicates(principal=other_clerk, lead=await Lead.get(id=twin["id"]))
    assert [(str(other.id), reasons) for other, reasons in seen] == [(there["id"], ["same_person"])]
    audit = await AuditEvent.get(action="lead.transfer", entity_id=twin["id"])
    assert audit.after is not None
    assert audit.after["duplicates_dropped"] == [first["number"]]
    # The new window's duplicates are in the arrival row of its trail, not the sender's.
    assert "duplicates_found" not in audit.after
    assert there["number"] not in str(audit.before) + str(audit.after)
    arrival = await AuditEvent.get(action="lead.transfer_in", entity_id=twin["id"])
    assert arrival.jurisdiction == CHANGSHUO and arrival.after is not None
    assert arrival.after["duplicates_found"] == [there["number"]]


async def test_a_transferred_lead_leaves_the_old_townships_village_behind(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(
        client, worker, points.dipu, NAMES[0], subject={"village_code": "330523001001"}
    )
    moved = await triage.transfer_lead(
        principal=clerk,
        lead_id=_uuid(lead["id"]),
        expected_version=1,
        to_township=CHANGSHUO,
        reason="实际居住在昌硕街道",
    )
    # 330523001001 is a village of 递铺街道 (its first nine digits), not of 昌硕街道.
    assert moved.township_code == CHANGSHUO and moved.subject_village_code is None
    audit = await AuditEvent.get(action="lead.transfer", entity_id=lead["id"])
    assert audit.before is not None and audit.before["village"] == "330523001001"


async def test_a_clerk_transfers_within_the_county_only_an_approver_across(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    lead = await _report(client, worker, points.dipu, NAMES[0])
    lead_id = _uuid(lead["id"])
    head = await _staff("head", "township_head", DIPU)
    approver = await _staff("approver", "county_approver", COUNTY)
    their_approver = await _staff("approver_cx", "county_approver", OTHER_COUNTY)
    their_clerk = await _staff("clerk_zc", "window_clerk", OTHER_TOWNSHIP)

    def transfer(principal: Principal, to: str = OTHER_TOWNSHIP) -> Awaitable[Lead]:
        return triage.transfer_lead(
            principal=principal,
            lead_id=lead_id,
            expected_version=1,
            to_township=to,
            reason="户籍在长兴县雉城街道",
        )

    for window in (clerk, head):
        refused = await _refused(transfer(window), Forbidden, "transfer-outside-county")
        assert "县级" in refused.detail
    # The other county's approver cannot reach into this county to pull it.
    await _refused(transfer(their_approver), NotFound)
    investigator = await _staff("inv", "investigator", DIPU)
    await _refused(transfer(investigator), Forbidden)

    moved = await transfer(approver)
    assert (moved.township_code, moved.county_code, moved.status) == (
        OTHER_TOWNSHIP,
        OTHER_COUNTY,
        "received",
    )
    # It arrives where the other county looks: its approver's queue and the window's.
    for principal in (their_approver, their_clerk):
        page = await triage.list_queue(principal=principal)
        assert [str(x.id) for x in page.items] == [lead["id"]]
        assert (await triage.get_lead_for_staff(principal=principal, lead_id=lead_id)).number
    for principal in (approver, clerk):
        await _refused(triage.get_lead_for_staff(principal=principal, lead_id=lead_id), NotFound)
    # Both counties' audit trails record it: the sending side and the arrival.
    sent = await AuditEvent.get(action="lead.transfer", entity_id=lead["id"])
    assert sent.jurisdiction == DIPU
    arrived = await AuditEvent.get(action="lead.transfer_in", entity_id=lead["id"])
    assert arrived.jurisdiction == OTHER_TOWNSHIP
    assert arrived.after is not None and arrived.after["from"] == DIPU


async def test_merge_answers_the_same_for_another_windows_lead_and_for_none(
    client: httpx.AsyncClient, worker: dict, points: Points, clerk: Principal
) -> None:
    mine = await _report(client, worker, points.dipu, NAMES[0])
    theirs = await _report(client, worker, points.changshuo, NAMES[1])

    async def refusal(into: uuid.UUID) -> dict[str, Any]:
        call = triage.merge_lead(
            principal=clerk, lead_id=_uuid(mine["id"]), expected_version=1, into_lead_id=into
        )
        return (await _refused(call, NotFound)).to_dict()

    assert await refusal(_uuid(theirs["id"])) == await refusal(uuid.uuid4())

    async def by_number(number: str) -> dict[str, Any]:
        call = triage.find_lead_id(principal=clerk, number=number)
        found = (await _refused(call, NotFound)).to_dict()
        return found | {"detail": found["detail"].replace(number, "<number>")}

    assert await by_number(theirs["number"]) == await by_number("330523002-2099-99999")
