"""Triage at the township window: the queue, and everything a clerk does with a lead.

The state machine of a lead (LeadStatus)::

    received ──acknowledge──> acknowledged ──refer──> referred
    received | acknowledged | referred ──merge──> merged       (finished)
    received | acknowledged | referred ──convert──> converted  (finished)
    received | acknowledged | referred ──close──> closed       (finished)
    received | acknowledged ──transfer──> received (at the other township's window)

- received, acknowledged and referred are open; merged, converted and closed are finished and
  accept no further action.
- assign, request a home visit and refer are allowed on any open lead; record a visit needs an
  open visit request or the caller being the assigned investigator.
- Any window action but a transfer answers the lead, so on a received lead it also acknowledges
  it (acknowledged_at, acknowledged_by): the acknowledgement clock measures whether the window
  responded, not which button it pressed first.
- A transfer is not a state: the lead is received again at the new window with its number,
  its acknowledgement deadline (the household has been waiting since the report) and the reason
  kept; assignment and visit request belong to the old window and are dropped.
- A referred lead is not transferred: the referral already went to a county department.

Every action names the version it read (a stale one is a conflict, never an overwrite), adds one
to it, writes a timeline entry the sender reads and an audit row, all in one transaction.
Refusals are checked before anything is written.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from backend import kicks
from backend.accounts.authz import Principal, covers, ensure_jurisdiction, ensure_role
from backend.accounts.models import Role, User, UserKind
from backend.cases import service as cases_service
from backend.cases.models import Application
from backend.cases.schemas import APPLICATION_CATEGORIES
from backend.crypto import PiiCipher
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.geo.models import Division, Level
from backend.intake import service as intake_service
from backend.intake.catalog import HARDSHIP_TAGS
from backend.intake.labels import CLOSE_REASON_LABELS, STATUS_LABELS
from backend.intake.models import (
    OPEN_STATUSES,
    CloseReason,
    Lead,
    LeadEvent,
    LeadSource,
    LeadStatus,
    Referral,
    ReferralStatus,
    SuspectedDuplicate,
)
from backend.intake.policy import (
    LeadAction,
    ensure_actor,
    ensure_lead_action,
    ensure_may,
    lead_actions,
)
from backend.intake.service import ID_PURPOSE, PHONE_PURPOSE
from backend.integrity.service import record_event
from backend.notify.service import queue_notice
from backend.numbering import next_number
from backend.windows.catalog import CATEGORIES, DEPARTMENTS
from backend.windows.models import Department, Window
from backend.workdays import SHANGHAI

# Who may read the queue and a lead: any staff of the jurisdiction (admin always may).
VIEW_ROLES = (
    Role.WINDOW_CLERK,
    Role.TOWNSHIP_HEAD,
    Role.INVESTIGATOR,
    Role.COUNTY_APPROVER,
    Role.SUPERVISOR,
)
# Who records a department's answer to a referral.
REFERRAL_RESULT_ROLES = (Role.WINDOW_CLERK, Role.TOWNSHIP_HEAD, Role.DEPARTMENT_OFFICER)

MAX_PAGE = 200
MAX_NOTE = 1000
MAX_REASON = 255

# The at most 5 characters of a subscribe message's phrase field.
SENDER_STATUS_PHRASES: dict[str, str] = {
    LeadStatus.RECEIVED: "已收到",
    LeadStatus.ACKNOWLEDGED: "已受理",
    LeadStatus.REFERRED: "已转办",
    LeadStatus.CONVERTED: "转为申请",
    LeadStatus.MERGED: "已合并",
    LeadStatus.CLOSED: "已办结",
}
STALE_MESSAGE = "该线索已被他人更新，请刷新后重试"
# One answer for a merge target that does not exist and one that is not the caller's: the
# difference would tell a clerk that a number is in use at another window.
MERGE_TARGET_MISSING = "找不到要合并到的线索，或不在您的管辖范围内"
MERGE_NUMBER_MISSING = "找不到编号为 {number} 的线索，或不在您的管辖范围内"


@dataclass(frozen=True)
class QueuePage:
    """One page of the triage queue, the cursor of the next, and counts per status."""

    items: list[Lead]
    next_cursor: str | None
    counts: dict[str, int]


# ---------------------------------------------------------------------------------------------
# Reading


def _jurisdiction(principal: Principal) -> str:
    if not principal.jurisdiction:
        raise Forbidden("您的账号没有设置管辖范围")
    return principal.jurisdiction


def _scope_terms(principal: Principal, via: str = "") -> dict[str, str]:
    """The filter of leads under the caller's jurisdiction (via: a relation leading to them)."""
    code = _jurisdiction(principal)
    if len(code) >= 9:
        return {f"{via}township_code": code}
    # A county sees its townships' leads and its own unrouted ones: every lead carries the
    # county of its township (transfers keep the two in step).
    if len(code) == 6:
        return {f"{via}county_code": code}
    return {f"{via}county_code__startswith": code}


def _scope(principal: Principal) -> Q:
    """The leads under the caller's jurisdiction, phrased so the queue's indexes apply."""
    return Q(**_scope_terms(principal))


def _where(lead: Lead) -> str:
    """The division a lead belongs to: its township, or its county while unrouted."""
    return lead.township_code or lead.county_code


def _encode_cursor(lead: Lead) -> str:
    raw = f"{lead.queue_rank}|{lead.ack_due_at.isoformat()}|{lead.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        rank, at, lead_id = raw.split("|")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError(at)
        return int(rank), when, uuid.UUID(lead_id)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor 无效，请从第一页重新加载", errors=[{"field": "after", "message": "无效"}]
        ) from None


def _hardship_filter(tag: str) -> Q:
    return Q(hardship__contains=[tag])


def _filtered(
    query: QuerySet[Lead],
    *,
    principal: Principal,
    source: str | None,
    hardship: str | None,
    village: str | None,
    overdue: bool | None,
    duplicate: bool | None,
    now: datetime,
) -> QuerySet[Lead]:
    """The queue's filters other than status."""
    if source is not None:
        if source not in {s.value for s in LeadSource}:
            raise ValidationFailed(
                f"未知来源 {source}", errors=[{"field": "source", "message": "不是允许的取值"}]
            )
        query = query.filter(source=source)
    if hardship is not None:
        if hardship not in HARDSHIP_TAGS:
            raise ValidationFailed(
                f"未知困难类型 {hardship}",
                errors=[{"field": "hardship", "message": "不是允许的取值"}],
            )
        condition = _hardship_filter(hardship)
        if isinstance(condition, Q):
            query = query.filter(condition)
        else:
            query = query.annotate(has_tag=condition).filter(has_tag=True)
    if village is not None:
        if not (len(village) == 12 and village.isdigit()):
            raise ValidationFailed(
                "村（社区）代码应为 12 位数字",
                errors=[{"field": "village", "message": "格式不正确"}],
            )
        query = query.filter(subject_village_code=village)
    late = Q(status=LeadStatus.RECEIVED, ack_due_at__lt=now)
    if overdue is True:
        query = query.filter(late)
    elif overdue is False:
        query = query.filter(~late)
    if duplicate is not None:
        # Only pairs whose other lead the caller may open (as list_duplicates shows them).
        partner_seen = SuspectedDuplicate.filter(**_scope_terms(principal, "other__"))
        lead_seen = SuspectedDuplicate.filter(**_scope_terms(principal, "lead__"))
        paired = Q(id__in=Subquery(partner_seen.values("lead_id"))) | Q(
            id__in=Subquery(lead_seen.values("other_id"))
        )
        query = query.filter(paired if duplicate else ~paired)
    return query


def _with_status(query: QuerySet[Lead], status: str | None) -> QuerySet[Lead]:
    """None or "open": the open leads. "all": every lead. Otherwise one status."""
    if status is None or status == "open":
        return query.filter(queue_rank__lte=1)
    if status == "all":
        return query
    try:
        wanted = LeadStatus(status)
    except ValueError:
        raise ValidationFailed(
            f"未知状态 {status}", errors=[{"field": "status", "message": "不是允许的取值"}]
        ) from None
    # The rank range keeps the walk inside the open (or finished) part of the index.
    ranks = {"queue_rank__lte": 1} if wanted in OPEN_STATUSES else {"queue_rank__gte": 2}
    return query.filter(status=wanted, **ranks)


async def list_queue(
    *,
    principal: Principal,
    status: str | None = None,
    source: str | None = None,
    hardship: str | None = None,
    village: str | None = None,
    overdue: bool | None = None,
    duplicate: bool | None = None,
    after: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> QueuePage:
    """The triage queue under the caller's jurisdiction: urgent, then soonest due, first."""
    ensure_role(principal, VIEW_ROLES)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(
            f"每页条数应为 1-{MAX_PAGE}", errors=[{"field": "limit", "message": "超出范围"}]
        )
    now = now or datetime.now(UTC)
    filtered = _filtered(
        Lead.filter(_scope(principal)),
        principal=principal,
        source=source,
        hardship=hardship,
        village=village,
        overdue=overdue,
        duplicate=duplicate,
        now=now,
    )
    page = _with_status(filtered, status)
    if after:
        rank, due, lead_id = _decode_cursor(after)
        # The leading bound lets the index start at the cursor's rank; the rest is the keyset.
        page = page.filter(queue_rank__gte=rank).filter(
            Q(queue_rank__gt=rank)
            | Q(queue_rank=rank, ack_due_at__gt=due)
            | Q(queue_rank=rank, ack_due_at=due, id__gt=lead_id)
        )
    rows = await page.order_by("queue_rank", "ack_due_at", "id").limit(limit + 1)
    # count(status), not count(id): without filters the (…, status) index answers it alone.
    grouped = (
        await filtered.annotate(n=Count("status")).group_by("status").values_list("status", "n")
    )
    counts = {s.value: 0 for s in LeadStatus}
    for value, n in grouped:
        counts[str(value)] = int(n)
    items = rows[:limit]
    more = len(rows) > limit
    return QueuePage(
        items=items, next_cursor=_encode_cursor(items[-1]) if more else None, counts=counts
    )


async def get_lead_for_staff(*, principal: Principal, lead_id: uuid.UUID) -> Lead:
    """A lead under the caller's jurisdiction, or 404 (others' leads do not exist for them)."""
    ensure_role(principal, VIEW_ROLES)
    lead = await Lead.filter(id=lead_id).first()
    if lead is None:
        raise NotFound("找不到该线索，或不在您的管辖范围内")
    ensure_jurisdiction(principal, _where(lead), hide=True)
    return lead


async def list_duplicates(*, principal: Principal, lead: Lead) -> list[tuple[Lead, list[str]]]:
    """A lead's suspected duplicates that the caller may open themselves (others stay hidden)."""
    ensure_role(principal, VIEW_ROLES)
    return [
        (other, reasons)
        for other, reasons in await intake_service.get_duplicates(lead=lead)
        if covers(principal, _where(other))
    ]


async def list_visit_requests(*, principal: Principal) -> list[Lead]:
    """Open leads with a home visit waiting for this grid worker (reporter) or investigator."""
    if principal.kind == UserKind.GRID_WORKER:
        mine = Q(reporter_id=principal.user_id)
    elif principal.kind == UserKind.STAFF and principal.role == Role.INVESTIGATOR:
        mine = Q(assigned_to_id=principal.user_id)
    else:
        raise Forbidden("入户走访任务仅限网格员和调查员查看")
    return (
        await Lead.filter(mine, status__in=sorted(OPEN_STATUSES))
        .filter(home_visit_requested_at__not_isnull=True, home_visit_done_at__isnull=True)
        .order_by("home_visit_requested_at", "id")
    )


async def list_referrals(*, lead: Lead) -> list[Referral]:
    """A lead's referrals, oldest first."""
    return await Referral.filter(lead=lead).order_by("created_at", "id")


async def reveal_subject(
    *,
    principal: Principal,
    lead_id: uuid.UUID,
    field: Literal["phone", "id_number"],
    cipher: PiiCipher,
) -> str:
    """The subject's phone or ID number in full; the audit trail names the field, not the value."""
    ensure_may(principal, LeadAction.REVEAL)
    lead = await get_lead_for_staff(principal=principal, lead_id=lead_id)
    ensure_lead_action(principal, lead, LeadAction.REVEAL)
    if field == "phone":
        token, purpose, label = lead.subject_phone_enc, PHONE_PURPOSE, "手机号码"
    elif field == "id_number":
        token, purpose, label = lead.subject_id_enc, ID_PURPOSE, "身份证号码"
    else:
        raise ValidationFailed(f"不能查看 {field}", errors=[{"field": "field", "message": "无效"}])
    if not token:
        raise NotFound(f"该线索未登记{label}")
    value = cipher.decrypt(token, purpose=purpose)
    await record_event(
        actor_id=principal.user_id,
        actor_label=principal.label,
        action="lead.reveal",
        entity="lead",
        entity_id=str(lead.id),
        jurisdiction=_where(lead),
        after={"field": field},
    )
    return value


async def window_summary(
    *, principal: Principal, day: date | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Per window under the jurisdiction: received and acknowledged that day, open, overdue now."""
    ensure_role(principal, VIEW_ROLES)
    code = _jurisdiction(principal)
    now = now or datetime.now(UTC)
    day = day or now.astimezone(SHANGHAI).date()
    start = datetime.combine(day, time.min, SHANGHAI)
    end = start + timedelta(days=1)
    scope = Lead.filter(_scope(principal))

    async def by_township(query: QuerySet[Lead]) -> dict[str | None, int]:
        rows = (
            await query.annotate(n=Count("id"))
            .group_by("township_code")
            .values_list("township_code", "n")
        )
        return {t: int(n) for t, n in rows}

    received = await by_township(scope.filter(created_at__gte=start, created_at__lt=end))
    acknowledged = await by_township(
        scope.filter(acknowledged_at__gte=start, acknowledged_at__lt=end)
    )
    open_ = await by_township(scope.filter(queue_rank__lte=1))
    overdue = await by_township(scope.filter(status=LeadStatus.RECEIVED, ack_due_at__lt=now))
    windows = (
        await Window.filter(township_code=code)
        if len(code) >= 9
        else await Window.filter(township_code__startswith=code)
    )
    codes = sorted(w.township_code for w in windows)
    names = dict(await Division.filter(code__in=codes).values_list("code", "name"))
    keys: list[str | None] = list(codes)
    if len(code) <= 6 and any(None in counts for counts in (received, open_, overdue)):
        keys.append(None)  # the county's leads still waiting for a township
    measures = {
        "received": received,
        "acknowledged": acknowledged,
        "open": open_,
        "overdue": overdue,
    }
    rows: list[dict[str, Any]] = []
    for key in keys:
        name = names.get(key, key) if key else "县级待分派（未确定乡镇）"
        rows.append(
            {"township_code": key, "name": name}
            | {measure: counts.get(key, 0) for measure, counts in measures.items()}
        )
    totals = {
        measure: sum(counts.get(key, 0) for key in keys) for measure, counts in measures.items()
    }
    return {"day": day.isoformat(), "windows": rows, "totals": totals}


# ---------------------------------------------------------------------------------------------
# Acting


def _ensure_version(lead: Lead, expected_version: int) -> None:
    if lead.version != expected_version:
        raise Conflict(STALE_MESSAGE, type_slug="stale-version", current_version=lead.version)


def _text(value: str | None, *, field: str, what: str, limit: int, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(f"请填写{what}", errors=[{"field": field, "message": "必填项"}])
    if len(text) > limit:
        raise ValidationFailed(
            f"{what}不能超过 {limit} 个字", errors=[{"field": field, "message": "内容太长"}]
        )
    return text


def _short(message: str) -> str:
    return message if len(message) <= 255 else message[:254] + "…"


async def _load(
    principal: Principal,
    lead_id: uuid.UUID,
    conn: BaseDBAsyncClient | None,
    *,
    lock: bool,
) -> Lead:
    query = Lead.filter(id=lead_id)
    if lock:
        query = query.select_for_update()
    lead = await (query.using_db(conn) if conn else query).first()
    if lead is None:
        raise NotFound("找不到该线索，或不在您的管辖范围内")
    ensure_jurisdiction(principal, _where(lead), hide=True)
    return lead


def _acknowledge(lead: Lead, principal: Principal, now: datetime) -> None:
    """Any answer from the window stops the acknowledgement clock."""
    if lead.acknowledged_at is None:
        lead.acknowledged_at = now
        lead.acknowledged_by_id = principal.user_id
    if lead.status == LeadStatus.RECEIVED:
        lead.status = LeadStatus.ACKNOWLEDGED


def _state(lead: Lead) -> dict[str, Any]:
    return {"status": lead.status.value, "version": lead.version}


# What the sender of either side of a merge reads: no other lead's number.
MERGED_PUBLIC_MESSAGE = "窗口核实与其他报告为同一户，已合并办理"
MERGED_IN_PUBLIC_MESSAGE = "窗口核实其他报告与本报告为同一户，已合并到本报告办理"
# What the sender of a converted lead reads: not the application's number or category, which
# are the subject's (a neighbour asking for help must not learn who applied for what).
CONVERTED_PUBLIC_MESSAGE = "窗口已受理，转为救助申请办理"
# Timeline entries whose message names another record: a grid worker reads the public message.
OTHER_LEAD_KINDS = frozenset({"merged", "merged_in", "converted"})


def worker_message(event: LeadEvent) -> str:
    """A timeline entry as the grid worker who sent the lead reads it.

    The worker reads the window's own words (a transfer's reason, a visit's note) but not
    another lead's number, which only the window may see.
    """
    if event.kind in OTHER_LEAD_KINDS and event.public_message:
        return event.public_message
    return event.message


async def _commit(
    lead: Lead,
    *,
    principal: Principal,
    conn: BaseDBAsyncClient,
    action: str,
    kind: str,
    message: str,
    before: dict[str, Any],
    after: dict[str, Any],
    jurisdiction: str | None = None,
    public_message: str | None = None,
) -> None:
    """Save the lead one version on, with its timeline entry and audit row.

    public_message is what a resident who sent the lead reads instead of message, where
    message carries a note written for staff and grid workers (a resident asking for a
    neighbour must not read the window's findings about that neighbour).
    """
    lead.version += 1
    await lead.save(using_db=conn)
    await LeadEvent.create(
        lead=lead,
        kind=kind,
        message=_short(message),
        public_message=_short(public_message) if public_message else None,
        actor_label=principal.label,
        using_db=conn,
    )
    await record_event(
        actor_id=principal.user_id,
        actor_label=principal.label,
        action=action,
        entity="lead",
        entity_id=str(lead.id),
        jurisdiction=jurisdiction or _where(lead),
        before=before,
        after=after | _state(lead),
        using_db=conn,
    )
    if lead.source == LeadSource.RESIDENT and principal.kind == UserKind.STAFF:
        # The resident hears of the window's action by subscribe message (when she consented).
        await queue_notice(
            conn=conn,
            user_id=lead.reporter_id,
            item_kind="help",
            item_id=lead.id,
            number=lead.number,
            phrase=SENDER_STATUS_PHRASES[lead.status],
            message=_short(public_message or message),
        )


async def acknowledge_lead(
    *, principal: Principal, lead_id: uuid.UUID, expected_version: int
) -> Lead:
    """Acknowledge a received lead: the acknowledgement clock stops."""
    ensure_may(principal, LeadAction.ACKNOWLEDGE)
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        lead = await _load(principal, lead_id, conn, lock=True)
        _ensure_version(lead, expected_version)
        ensure_lead_action(principal, lead, LeadAction.ACKNOWLEDGE)
        before = _state(lead)
        _acknowledge(lead, principal, now)
        await _commit(
            lead,
            principal=principal,
            conn=conn,
            action="lead.acknowledge",
            kind="acknowledged",
            message="窗口已受理，正在核实情况",
            before=before,
            after={"acknowledged_at": now.isoformat()},
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return lead


async def assign_lead(
    *,
    principal: Principal,
    lead_id: uuid.UUID,
    expected_version: int,
    investigator_id: uuid.UUID,
) -> Lead:
    """Assign an open lead to an investigator of its township."""
    ensure_may(principal, LeadAction.ASSIGN)
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        lead = await _load(principal, lead_id, conn, lock=True)
        _ensure_version(lead, expected_version)
        ensure_lead_action(principal, lead, LeadAction.ASSIGN)
        if lead.township_code is None:
            raise Conflict(
                "该线索尚未确定乡镇（街道），请先转交到受理窗口", type_slug="invalid-state"
            )
        investigator = (
            await User.filter(
                id=investigator_id,
                kind=UserKind.STAFF,
                role=Role.INVESTIGATOR,
                jurisdiction=lead.township_code,
                is_active=True,
            )
            .using_db(conn)
            .first()
        )
        if investigator is None:
            raise ValidationFailed(
                "所选人员不是本乡镇（街道）的调查员",
                errors=[{"field": "investigator_id", "message": "不是本乡镇（街道）的调查员"}],
            )
        before = _state(lead) | {
            "assigned_to": str(lead.assigned_to_id) if lead.assigned_to_id else None
        }
        _acknowledge(lead, principal, now)
        lead.assigned_to_id = investigator.id
        lead.assigned_at = now
        await _commit(
            lead,
            principal=principal,
            conn=conn,
            action="lead.assign",
            kind="assigned",
            message="窗口已安排调查员跟进核实",
            before=before,
            after={"assigned_to": str(investigator.id)},
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return lead


async def request_home_visit(
    *,
    principal: Principal,
    lead_id: uuid.UUID,
    expected_version: int,
    note: str = "",
) -> Lead:
    """Ask for a home visit: the reporting grid worker's (or assigned investigator's) task."""
    ensure_may(principal, LeadAction.HOME_VISIT)
    text = _text(note, field="note", what="走访说明", limit=MAX_REASON, required=False)
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        lead = await _load(principal, lead_id, conn, lock=True)
        _ensure_version(lead, expected_version)
        ensure_lead_action(principal, lead, LeadAction.HOME_VISIT)
        if lead.source != LeadSource.GRID_WORKER and lead.assigned_to_id is None:
            raise Conflict("请先指派调查员，再请求入户走访", type_slug="invalid-state")
        if lead.home_visit_requested_at is not None and lead.home_visit_done_at is None:
            raise Conflict("已有尚未完成的入户走访请求", type_slug="invalid-state")
        before = _state(lead)
        _acknowledge(lead, principal, now)
        lead.home_visit_requested_at = now
        lead.home_visit_requested_by_id = principal.user_id
        lead.home_visit_note = text
        lead.home_visit_done_at = None
        lead.home_visit_done_by_id = None
        lead.home_visit_result = None
        message = "窗口请求入户走访" + (f"：{text}" if text else "")
        await _commit(
            lead,
            principal=principal,
            conn=conn,
            action="lead.request_visit",
            kind="visit_requested",
            message=message,
            public_message="窗口将安排工作人员入户走访核实情况" if text else None,
            before=before,
            after={"home_visit_note": text},
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return lead


async def record_visit(
    *,
    principal: Principal,
    lead_id: uuid.UUID,
    expected_version: int,
    result: str,
) -> Lead:
    """Record a home visit: by the assigned investigator, the reporting worker or the window."""
    text = _text(result, field="result", what="走访情况", limit=MAX_NOTE, required=True)
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        lead = await Lead.filter(id=lead_id).select_for_update().using_db(conn).first()
        if lead is None:
            raise NotFound("找不到该线索，或不在您的管辖范围内")
        # The reporting worker while a visit is asked of them; the window; the investigator
        # it is assigned to (see policy.lead_actions).
        ensure_actor(principal, lead, LeadAction.RECORD_VISIT)
        _ensure_version(lead, expected_version)
        ensure_lead_action(principal, lead, LeadAction.RECORD_VISIT)
        before = _state(lead)
        lead.home_visit_done_at = now
        lead.home_visit_done_by_id = principal.user_id
        lead.home_visit_result = text
        await _commit(
            lead,
            principal=principal,
            conn=conn,
            action="lead.record_visit",
            kind="visited",
            message="已完成入户走访",
            before=before,
            after={"home_visit_done_at": now.isoformat()},
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return lead


async def merge_lead(
    *,
    principal: Principal,
    lead_id: uuid.UUID,
    expected_version: int,
    into_lead_id: uuid.UUID,
) -> Lead:
    """Merge a lead into another of the same household: it ends, the other carries on."""
    ensure_may(principal, LeadAction.MERGE)
    if lead_id == into_lead_id:
        raise ValidationFailed(
            "不能把线索合并到它自己",
            errors=[{"field": "into_lead_id", "message": "不能是同一条线索"}],
        )
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        # Lock both rows in one order, so two clerks merging a pair both ways cannot deadlock.
        locked = {
            row.id: row
            for row in await Lead.filter(id__in=[lead_id, into_lead_id])
            .order_by("id")
            .select_for_update()
            .using_db(conn)
        }
        lead, target = locked.get(lead_id), locked.get(into_lead_id)
        if lead is None:
            raise NotFound("找不到该线索，或不在您的管辖范围内")
        ensure_jurisdiction(principal, _where(lead), hide=True)
        if target is None or not covers(principal, _where(target)):
            raise NotFound(MERGE_TARGET_MISSING)
        _ensure_version(lead, expected_version)
        ensure_lead_action(principal, lead, LeadAction.MERGE)
        if target.status in (LeadStatus.CLOSED, LeadStatus.MERGED):
            raise Conflict(
                f"要合并到的线索 {target.number} 当前为“{STATUS_LABELS[target.status]}”，"
                "不能再合并到它",
                type_slug="invalid-state",
            )
        before = _state(lead)
        target_before = _state(target)
        _acknowledge(lead, principal, now)
        lead.status = LeadStatus.MERGED
        lead.merged_into = target
        await _commit(
            lead,
            principal=principal,
            conn=conn,
            action="lead.merge",
            kind="merged",
            message=f"经核实与报告 {target.number} 为同一户，已合并办理",
            # Its sender (a worker or a resident asking for a neighbour) must not learn that
            # another report exists, or its number.
            public_message=MERGED_PUBLIC_MESSAGE,
            before=before,
            after={"merged_into": str(target.id), "merged_into_number": target.number},
        )
        # The surviving lead's history shows what joined it (its sender sees it too).
        await _commit(
            target,
            principal=principal,
            conn=conn,
            action="lead.merge_target",
            kind="merged_in",
            message=f"报告 {lead.number} 与本报告为同一户，已合并到本报告办理",
            public_message=MERGED_IN_PUBLIC_MESSAGE,
            before=target_before,
            after={"merged_from": str(lead.id), "merged_from_number": lead.number},
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return lead


async def convert_lead(
    *,
    principal: Principal,
    lead_id: uuid.UUID,
    expected_version: int,
    category: str,
) -> Lead:
    """Turn a lead into a received application of a category at its window (代为申请)."""
    ensure_may(principal, LeadAction.CONVERT)
    if category not in APPLICATION_CATEGORIES:
        raise ValidationFailed(
            f"{CATEGORIES[category][0]}不是救助申请的类别，请选择一个救助类别"
            if category in CATEGORIES
            else f"未知救助类别 {category}",
            errors=[{"field": "category", "message": "不是允许的取值"}],
        )
    # Refuse what can be refused before taking a number: a refused action writes nothing.
    # The number is taken outside the transaction (see next_number); a race lost after this
    # point leaves a gap in the sequence, never a duplicate.
    lead = await _load(principal, lead_id, None, lock=False)
    _check_convertible(principal, lead, expected_version)
    assert lead.township_code is not None
    now = datetime.now(UTC)
    number = await next_number(f"{lead.township_code}-SQ", now.astimezone(SHANGHAI).year)
    label = CATEGORIES[category][0]
    async with in_transaction() as conn:
        lead = await _load(principal, lead_id, conn, lock=True)
        _check_convertible(principal, lead, expected_version)
        assert lead.township_code is not None
        before = _state(lead)
        application = await cases_service.create_from_lead(
            conn=conn,
            principal=principal,
            lead_id=lead.id,
            township_code=lead.township_code,
            applicant_name=lead.subject_name,
            number=number,
            category=category,
            resident_id=(
                lead.reporter_id if lead.source == LeadSource.RESIDENT and lead.for_self else None
            ),
        )
        _acknowledge(lead, principal, now)
        lead.status = LeadStatus.CONVERTED
        await _commit(
            lead,
            principal=principal,
            conn=conn,
            action="lead.convert",
            kind="converted",
            message=f"窗口已代为提出{label}申请，申请编号 {number}",
            public_message=CONVERTED_PUBLIC_MESSAGE,
            before=before,
            after={"application": str(application.id), "number": number, "category": category},
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return lead


def _check_convertible(principal: Principal, lead: Lead, expected_version: int) -> None:
    _ensure_version(lead, expected_version)
    ensure_lead_action(principal, lead, LeadAction.CONVERT)
    if lead.township_code is None:
        raise Conflict("该线索尚未确定乡镇（街道），请先转交到受理窗口", type_slug="invalid-state")


async def list_person_applications(*, principal: Principal, lead: Lead) -> list[Application]:
    """Applications of the lead's person (by the one person index) the viewer may open.

    Only the viewer's own jurisdiction: that a person applied in another window is not theirs
    to know, as a duplicate lead of another window is not.
    """
    if not lead.subject_id_index:
        return []
    return await cases_service.list_applications_of_person(
        principal=principal, id_index=lead.subject_id_index
    )


async def get_application_for_lead(*, lead: Lead) -> Application | None:
    """The application a lead was converted into, if any."""
    return await Application.filter(lead=lead).order_by("created_at").first()


async def refer_lead(
    *,
    principal: Principal,
    lead_id: uuid.UUID,
    expected_version: int,
    department: str,
    due_date: date,
    note: str,
) -> Lead:
    """Refer an open lead to a department of its county with a due date (转办)."""
    ensure_may(principal, LeadAction.REFER)
    if department not in DEPARTMENTS:
        raise ValidationFailed(
            f"未知部门 {department}", errors=[{"field": "department", "message": "不是允许的取值"}]
        )
    today = datetime.now(SHANGHAI).date()
    if due_date < today:
        raise ValidationFailed(
            "办理期限不能早于今天", errors=[{"field": "due_date", "message": "不能早于今天"}]
        )
    text = _text(note, field="note", what="转办说明", limit=MAX_NOTE, required=True)
    label = DEPARTMENTS[department][0]
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        lead = await _load(principal, lead_id, conn, lock=True)
        _ensure_version(lead, expected_version)
        ensure_lead_action(principal, lead, LeadAction.REFER)
        office = (
            await Department.filter(county_code=lead.county_code, kind=department)
            .using_db(conn)
            .first()
        )
        if office is None:
            raise ValidationFailed(
                f"本县没有登记{label}部门",
                errors=[{"field": "department", "message": "本县无此部门"}],
            )
        pending = (
            await Referral.filter(
                lead=lead, department_kind=department, status=ReferralStatus.PENDING
            )
            .using_db(conn)
            .exists()
        )
        if pending:
            raise Conflict(f"该线索已转{office.name}办理，尚未反馈", type_slug="already-referred")
        before = _state(lead)
        referral = await Referral.create(
            id=uuid.uuid4(),
            lead=lead,
            county_code=lead.county_code,
            department_kind=department,
            due_date=due_date,
            note=text,
            created_by_id=principal.user_id,
            using_db=conn,
        )
        _acknowledge(lead, principal, now)
        lead.status = LeadStatus.REFERRED
        await _commit(
            lead,
            principal=principal,
            conn=conn,
            action="lead.refer",
            kind="referred",
            message=f"已转{office.name}办理，办理期限 {due_date:%Y年%m月%d日}",
            before=before,
            after={
                "referral": str(referral.id),
                "department": department,
                "due_date": due_date.isoformat(),
            },
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return lead


async def record_referral_result(
    *, principal: Principal, referral_id: uuid.UUID, result: str
) -> Referral:
    """Record a department's answer to a referral; the lead's timeline says it came back."""
    ensure_role(principal, REFERRAL_RESULT_ROLES)
    text = _text(result, field="result", what="办理结果", limit=MAX_NOTE, required=True)
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        referral = (
            await Referral.filter(id=referral_id)
            .select_for_update()
            .using_db(conn)
            .prefetch_related("lead")
            .first()
        )
        if referral is None:
            raise NotFound("找不到该转办记录，或不在您的管辖范围内")
        lead: Lead = referral.lead
        # A department answers for its county; the window for its own leads.
        where = referral.county_code if principal.role == Role.DEPARTMENT_OFFICER else _where(lead)
        ensure_jurisdiction(principal, where, hide=True)
        if referral.status != ReferralStatus.PENDING:
            raise Conflict("该转办已反馈过办理结果", type_slug="invalid-state")
        referral.status = ReferralStatus.DONE
        referral.result = text
        referral.done_at = now
        referral.done_by_id = principal.user_id
        await referral.save(using_db=conn)
        label = DEPARTMENTS.get(referral.department_kind, (referral.department_kind, ""))[0]
        message = f"{label}部门已反馈办理结果"
        await LeadEvent.create(
            lead=lead,
            kind="referral_done",
            message=message,
            actor_label=principal.label,
            using_db=conn,
        )
        if lead.source == LeadSource.RESIDENT:
            await queue_notice(
                conn=conn,
                user_id=lead.reporter_id,
                item_kind="help",
                item_id=lead.id,
                number=lead.number,
                phrase="已反馈",
                message=message,
            )
        await record_event(
            actor_id=principal.user_id,
            actor_label=principal.label,
            action="referral.done",
            entity="referral",
            entity_id=str(referral.id),
            jurisdiction=_where(lead),
            before={"status": ReferralStatus.PENDING.value},
            after={"status": referral.status.value, "lead": str(lead.id)},
            using_db=conn,
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return referral


def _ensure_reach(principal: Principal, lead: Lead, township: Division) -> None:
    actions = lead_actions(principal, lead)
    if LeadAction.TRANSFER not in actions:
        raise Forbidden("您的岗位没有此操作的权限")
    if township.code[:6] != lead.county_code and LeadAction.TRANSFER_ANY_COUNTY not in actions:
        raise Forbidden(
            f"{township.name}不在本县（市、区），跨县转交须由县级民政审批人员办理；"
            "请在本县内选择乡镇（街道），或联系县级审批人员转交",
            type_slug="transfer-outside-county",
        )


async def transfer_lead(
    *,
    principal: Principal,
    lead_id: uuid.UUID,
    expected_version: int,
    to_township: str,
    reason: str,
) -> Lead:
    """Send a lead that reached the wrong window to another township's window.

    A window sends within its county; the county approver also to another county, whose
    approver and window then find it in their queues as received, with an arrival row in
    their audit trail. Duplicate links are checked again at the new window.
    """
    ensure_may(principal, LeadAction.TRANSFER)
    text = _text(reason, field="reason", what="转交理由", limit=MAX_REASON, required=True)
    to_township = (to_township or "").strip()
    township = (
        await Division.filter(code=to_township, level=Level.TOWNSHIP, abolished=False).first()
        if len(to_township) == 9 and to_township.isdigit()
        else None
    )
    if township is None or not await Window.filter(township_code=to_township).exists():
        raise ValidationFailed(
            f"找不到乡镇（街道）{to_township} 的受理窗口",
            errors=[{"field": "to_township", "message": "不存在或没有受理窗口"}],
        )
    async with in_transaction() as conn:
        lead = await _load(principal, lead_id, conn, lock=True)
        _ensure_version(lead, expected_version)
        ensure_lead_action(principal, lead, LeadAction.TRANSFER)
        if lead.township_code == to_township:
            raise ValidationFailed(
                "该线索已在这个乡镇（街道），不能转交给它自己",
                errors=[{"field": "to_township", "message": "与当前乡镇相同"}],
            )
        _ensure_reach(principal, lead, township)
        old = _where(lead)
        before = _state(lead) | {"township": lead.township_code, "county": lead.county_code}
        lead.transferred_from = old
        lead.transfer_reason = text
        if lead.subject_village_code and lead.subject_village_code[:9] != to_township:
            # A village of the old township: the new window would file the lead under a village
            # it does not have (and its village filter would never find it). The audit keeps it.
            before["village"] = lead.subject_village_code
            lead.subject_village_code = None
        lead.township_code = to_township
        lead.county_code = to_township[:6]
        lead.routed_by = "transferred"
        lead.ambiguous = False
        # The new window answers it afresh: the old one's acknowledgement, investigator and
        # visit request stay in the history, not on the lead.
        lead.status = LeadStatus.RECEIVED
        lead.acknowledged_at = None
        lead.acknowledged_by_id = None
        lead.assigned_to_id = None
        lead.assigned_at = None
        lead.home_visit_requested_at = None
        lead.home_visit_requested_by_id = None
        lead.home_visit_note = ""
        # A suspected duplicate pairs leads of one window: the old pairs would show each
        # window the other's household, and the new window may hold the same household.
        dropped, found = await intake_service.recheck_duplicates(lead=lead, conn=conn)
        await _commit(
            lead,
            principal=principal,
            conn=conn,
            action="lead.transfer",
            kind="transferred",
            message=f"已转交{township.name}受理窗口（{text}）",
            public_message=f"已转交{township.name}受理窗口办理",
            before=before,
            after={
                "township": to_township,
                "county": lead.county_code,
                "reason": text,
                # Links to the old window's leads: numbers the sending side may read.
                "duplicates_dropped": dropped,
            },
            jurisdiction=old,
        )
        # The sending row lies in the old window's trail; the receiving side's approvers and
        # supervisors read theirs, so the arrival is written there, with the duplicates found
        # in the new window (numbers the sending side must not learn).
        await record_event(
            actor_id=principal.user_id,
            actor_label=principal.label,
            action="lead.transfer_in",
            entity="lead",
            entity_id=str(lead.id),
            jurisdiction=to_township,
            after={
                "from": old,
                "reason": text,
                "number": lead.number,
                "duplicates_found": found,
            },
            using_db=conn,
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return lead


async def close_lead(
    *,
    principal: Principal,
    lead_id: uuid.UUID,
    expected_version: int,
    reason: str | None,
    note: str | None = None,
) -> Lead:
    """Close an open lead with a reason from the fixed list ("other" needs a note)."""
    ensure_may(principal, LeadAction.CLOSE)
    try:
        why = CloseReason(reason or "")
    except ValueError:
        raise ValidationFailed(
            "请选择办结原因", errors=[{"field": "reason", "message": "请从列表中选择"}]
        ) from None
    text = _text(
        note, field="note", what="办结说明", limit=MAX_NOTE, required=why == CloseReason.OTHER
    )
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        lead = await _load(principal, lead_id, conn, lock=True)
        _ensure_version(lead, expected_version)
        ensure_lead_action(principal, lead, LeadAction.CLOSE)
        before = _state(lead)
        _acknowledge(lead, principal, now)
        lead.status = LeadStatus.CLOSED
        lead.closed_reason = why
        lead.closed_note = text or None
        lead.closed_at = now
        lead.closed_by_id = principal.user_id
        label = CLOSE_REASON_LABELS[why]
        shown = f"{label}（{text}）" if why == CloseReason.OTHER else label
        await _commit(
            lead,
            principal=principal,
            conn=conn,
            action="lead.close",
            kind="closed",
            message=f"窗口已办结：{shown}",
            public_message=f"窗口已办结：{label}" if shown != label else None,
            before=before,
            after={"closed_reason": why.value, "closed_note": text or None},
        )
    await kicks.notices_queued()  # committed: the resident hears now
    return lead


async def find_lead_id(*, principal: Principal, number: str) -> uuid.UUID:
    """The id of the lead with this number under the caller's jurisdiction, or 404.

    A number at another window answers exactly as a number that does not exist.
    """
    ensure_may(principal, LeadAction.MERGE)
    number = number.strip()
    if not number:
        raise ValidationFailed(
            "请填写要合并到的线索编号", errors=[{"field": "into", "message": "必填项"}]
        )
    if len(number) > 32:
        raise ValidationFailed(
            "线索编号不正确", errors=[{"field": "into", "message": "格式不正确"}]
        )
    found = await Lead.filter(_scope(principal), number=number).values_list("id", flat=True)
    if not found:
        raise NotFound(MERGE_NUMBER_MISSING.format(number=number))
    return uuid.UUID(str(found[0]))
