"""The queue and the lead page: what came in, what it is, and the window's actions on it.

Which buttons a lead page shows is the domain's answer (intake.policy.allowed_actions); the
actions post to the triage service, which refuses anything that answer does not hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sanic import Request
from sanic.response import HTTPResponse, json, redirect

from backend.accounts import service as accounts_service
from backend.accounts.authz import Principal, covers
from backend.cases import labels as case_labels
from backend.cases.schemas import APPLICATION_CATEGORIES
from backend.console import presenters as show
from backend.console.pages import (
    bp,
    date_field,
    form_value,
    is_fragment,
    page,
    posted,
    uuid_field,
    version_field,
)
from backend.console.render import render, security_headers, township_map, wants_problem
from backend.context import app_context
from backend.errors import NotFound, Problem, ValidationFailed
from backend.geo import service as geo_service
from backend.intake import labels as lead_labels
from backend.intake import service as intake_service
from backend.intake import triage
from backend.intake.catalog import HARDSHIP_TAGS
from backend.intake.models import Lead
from backend.intake.policy import LeadAction, allowed_actions, roles_for
from backend.windows.catalog import CATEGORIES, DEPARTMENTS
from backend.workdays import SHANGHAI

QUEUE_PAGE_SIZE = 50
QUEUE_FILTERS = ("status", "source", "hardship", "village", "overdue", "duplicate", "after")
# What the page says after an action succeeded (?done=<action>; anything else says nothing).
DONE_MESSAGES = {
    "acknowledge": "已受理，受理时限已停止计时",
    "assign": "已指派调查员",
    "home-visit": "已请求入户走访",
    "merge": "已合并到另一条线索",
    "convert": "已转为救助申请（代为申请）",
    "refer": "已转办",
    "transfer": "已转交其他乡镇（街道）受理窗口",
    "close": "已办结",
}
# The actions the lead page's buttons take (reveal has its own route; a visit is the phone's).
BUTTONS = frozenset(LeadAction) - {LeadAction.REVEAL, LeadAction.RECORD_VISIT}


# --- the queue -------------------------------------------------------------------------------


def _flag(value: str, name: str) -> bool | None:
    if value == "":
        return None
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise ValidationFailed(
        f"筛选条件 {name} 应为“是”或“否”", errors=[{"field": name, "message": "不是允许的取值"}]
    )


def _queue_link(filters: dict[str, str], **changes: str) -> str:
    params = {k: v for k, v in (filters | changes).items() if v}
    return "/console/leads" + (f"?{urlencode(params)}" if params else "")


@bp.get("/leads")
@page()
async def queue(request: Request, principal: Principal) -> HTTPResponse:
    """The triage queue: the most urgent and soonest due first, filters, counts, next page."""
    filters = {name: (request.args.get(name) or "").strip()[:200] for name in QUEUE_FILTERS}
    now = datetime.now(UTC)
    error = None
    try:
        result = await triage.list_queue(
            principal=principal,
            status=filters["status"] or None,
            source=filters["source"] or None,
            hardship=filters["hardship"] or None,
            village=filters["village"] or None,
            overdue=_flag(filters["overdue"], "overdue"),
            duplicate=_flag(filters["duplicate"], "duplicate"),
            after=filters["after"] or None,
            limit=QUEUE_PAGE_SIZE,
            now=now,
        )
    except ValidationFailed as problem:
        if wants_problem(request):
            raise
        result, error = triage.QueuePage(items=[], next_cursor=None, counts={}), problem.detail
    villages = await _villages_of(principal)
    return render(
        request,
        "_queue.html" if is_fragment(request) else "queue.html",
        status=422 if error else 200,
        error=error,
        notice=DONE_MESSAGES.get(request.args.get("done") or ""),
        result=result,
        rows=[show.queue_row(lead, now, villages) for lead in result.items],
        filters=filters,
        villages=villages,
        self_url=_queue_link(filters),
        next_url=(_queue_link(filters, after=result.next_cursor) if result.next_cursor else None),
        first_url=_queue_link(filters, after="") if filters["after"] else None,
        status_labels=lead_labels.STATUS_LABELS,
        source_labels=show.SOURCE_LABELS,
        hardship_tags=HARDSHIP_TAGS,
        now=now,
    )


async def _villages_of(principal: Principal) -> dict[str, str]:
    # A township's villages fit in a list; a county's are filtered by typing the code.
    code = principal.jurisdiction or ""
    if len(code) != 9:
        return {}
    return {v.code: v.name for v in await geo_service.list_children(code=code)}


# --- the lead page ---------------------------------------------------------------------------


def _lead_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("找不到该线索，或不在您的管辖范围内") from None


@bp.get("/leads/<lead_id:str>")
@page()
async def lead_page(request: Request, lead_id: str, principal: Principal) -> HTTPResponse:
    """One lead: subject (masked), description, routing, map, photos, duplicates, timeline."""
    lead = await triage.get_lead_for_staff(principal=principal, lead_id=_lead_uuid(lead_id))
    done = DONE_MESSAGES.get(request.args.get("done") or "")
    context = await _lead_context(request, principal, lead)
    return render(request, "lead.html", notice=done, **context)


async def _merged_into(principal: Principal, lead: Lead) -> Lead | None:
    if not lead.merged_into_id:  # type: ignore[attr-defined]
        return None
    try:
        return await triage.get_lead_for_staff(
            principal=principal,
            lead_id=lead.merged_into_id,  # type: ignore[attr-defined]
        )
    except NotFound:
        return None


async def _lead_context(
    request: Request, principal: Principal, lead: Lead, revealed: dict[str, str] | None = None
) -> dict[str, Any]:
    """Everything the lead page shows, read through the intake services."""
    now = datetime.now(UTC)
    cipher = app_context(request).cipher
    photos = await intake_service.list_photos(lead=lead)
    duplicates = await triage.list_duplicates(principal=principal, lead=lead)
    events = await intake_service.list_events(lead=lead)
    referrals = await triage.list_referrals(lead=lead)
    application = await triage.get_application_for_lead(lead=lead)
    person_applications = await triage.list_person_applications(principal=principal, lead=lead)
    township = (
        await geo_service.get_division(code=lead.township_code) if lead.township_code else None
    )
    village = (
        await geo_service.get_division(code=lead.subject_village_code)
        if lead.subject_village_code
        else None
    )
    routing = app_context(request).routing
    await routing.get_current()
    geometry = routing.index.geometry(lead.township_code) if lead.township_code else None
    point = (lead.lng, lead.lat) if lead.lng is not None and lead.lat is not None else None
    actions = allowed_actions(principal, lead)
    return {
        "lead": lead,
        "now": now,
        "overdue": show.is_overdue(lead, now),
        "status_label": lead_labels.STATUS_LABELS.get(lead.status, lead.status),
        "source_label": show.SOURCE_LABELS.get(lead.source, lead.source),
        "routed_by_label": show.ROUTED_BY_LABELS.get(lead.routed_by, lead.routed_by),
        "hardship": lead_labels.hardship_labels(lead.hardship),
        "township": township,
        "village": village,
        "subject": show.masked_subject(lead, cipher),
        "requester": show.requester(lead, cipher),
        "revealed": revealed or {},
        "map": township_map(geometry, point),
        "photos": [await show.photo_view(request, photo) for photo in photos],
        "person_applications": [
            {
                "application": a,
                "category": case_labels.category_label(a.category),
                "status_label": case_labels.STATUS_LABELS.get(a.status, a.status),
            }
            for a in person_applications
            if application is None or a.id != application.id
        ],
        "duplicates": [
            {
                "lead": other,
                "reasons": [show.DUPLICATE_REASONS.get(r, r) for r in reasons],
                "status_label": lead_labels.STATUS_LABELS.get(other.status, other.status),
                "hardship": lead_labels.hardship_labels(other.hardship),
                "subject": show.masked_subject(other, cipher),
            }
            for other, reasons in duplicates
        ],
        "events": events,
        "referrals": [
            {
                "referral": r,
                "department": DEPARTMENTS.get(r.department_kind, (r.department_kind, ""))[0],
                "state": lead_labels.referral_state(r),
            }
            for r in referrals
        ],
        "application": application,
        "application_label": case_labels.category_label(application.category)
        if application
        else "",
        "merged_into": await _merged_into(principal, lead),
        "closed_reason_label": (
            lead_labels.CLOSE_REASON_LABELS.get(lead.closed_reason, "")
            if lead.closed_reason
            else ""
        ),
        # What the caller may do with this lead: the buttons and forms shown, nothing else.
        "actions": actions,
        "handling": bool(actions & BUTTONS),
        "investigators": (
            await accounts_service.list_investigators(township_code=lead.township_code)
            if LeadAction.ASSIGN in actions and lead.township_code
            else []
        ),
        "townships": (
            [
                t
                for t in await geo_service.list_townships(prefix=lead.county_code)
                if t.code != lead.township_code
            ]
            if LeadAction.TRANSFER in actions
            else []
        ),
        # What the window may apply for on the household's behalf (not 社会力量参与).
        "categories": {k: CATEGORIES[k][0] for k in APPLICATION_CATEGORIES},
        "departments": {k: v[0] for k, v in DEPARTMENTS.items()},
        "close_reasons": lead_labels.CLOSE_REASON_LABELS,
        "default_due": (now.astimezone(SHANGHAI).date() + timedelta(days=10)).isoformat(),
        "today": now.astimezone(SHANGHAI).date().isoformat(),
        "form": posted(request),
    }


# --- revealing the subject's phone and ID number ---------------------------------------------


@bp.post("/leads/<lead_id:str>/reveal")
@page()
async def reveal(request: Request, lead_id: str, principal: Principal) -> HTTPResponse:
    """Show a subject's phone or ID number in full (a permission; every reveal is audited)."""
    lead_uuid = _lead_uuid(lead_id)
    field = form_value(request, "field")
    if field not in ("phone", "id_number"):
        raise ValidationFailed("只能查看手机号码或身份证号码")
    value = await triage.reveal_subject(
        principal=principal,
        lead_id=lead_uuid,
        field=field,  # type: ignore[arg-type]
        cipher=app_context(request).cipher,
    )
    if is_fragment(request):
        return render(request, "_revealed.html", value=value)
    lead = await triage.get_lead_for_staff(principal=principal, lead_id=lead_uuid)
    context = await _lead_context(request, principal, lead, revealed={field: value})
    return render(request, "lead.html", **context)


# --- actions ---------------------------------------------------------------------------------

Action = Callable[[Request, Principal, uuid.UUID, int], Awaitable[Lead]]


async def _acknowledge(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    return await triage.acknowledge_lead(principal=p, lead_id=lead_id, expected_version=v)


async def _assign(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    investigator = uuid_field(request, "investigator_id", "请选择调查员")
    return await triage.assign_lead(
        principal=p, lead_id=lead_id, expected_version=v, investigator_id=investigator
    )


async def _home_visit(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    return await triage.request_home_visit(
        principal=p, lead_id=lead_id, expected_version=v, note=form_value(request, "note")
    )


async def _merge(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    into = await triage.find_lead_id(principal=p, number=form_value(request, "into"))
    return await triage.merge_lead(
        principal=p, lead_id=lead_id, expected_version=v, into_lead_id=into
    )


async def _convert(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    return await triage.convert_lead(
        principal=p, lead_id=lead_id, expected_version=v, category=form_value(request, "category")
    )


async def _refer(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    return await triage.refer_lead(
        principal=p,
        lead_id=lead_id,
        expected_version=v,
        department=form_value(request, "department"),
        due_date=date_field(request, "due_date"),
        note=form_value(request, "note"),
    )


async def _transfer(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    return await triage.transfer_lead(
        principal=p,
        lead_id=lead_id,
        expected_version=v,
        to_township=form_value(request, "to_township"),
        reason=form_value(request, "reason"),
    )


async def _close(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    return await triage.close_lead(
        principal=p,
        lead_id=lead_id,
        expected_version=v,
        reason=form_value(request, "reason") or None,
        note=form_value(request, "note"),
    )


# The URL's name of each action, its policy name, and what posts it to the service (which
# refuses whatever allowed_actions does not hold).
ACTIONS: dict[str, tuple[LeadAction, Action]] = {
    "acknowledge": (LeadAction.ACKNOWLEDGE, _acknowledge),
    "assign": (LeadAction.ASSIGN, _assign),
    "home-visit": (LeadAction.HOME_VISIT, _home_visit),
    "merge": (LeadAction.MERGE, _merge),
    "convert": (LeadAction.CONVERT, _convert),
    "refer": (LeadAction.REFER, _refer),
    "transfer": (LeadAction.TRANSFER, _transfer),
    "close": (LeadAction.CLOSE, _close),
}


@bp.post("/leads/<lead_id:str>/<action:str>")
@page(roles=roles_for({kind for kind, _ in ACTIONS.values()}))
async def act(request: Request, lead_id: str, action: str, principal: Principal) -> HTTPResponse:
    """One window action with the version the form was read at; a refusal changes nothing."""
    found = ACTIONS.get(action)
    if found is None:
        raise NotFound("没有这个操作")
    _kind, handler = found
    lead_uuid = _lead_uuid(lead_id)
    try:
        lead = await handler(request, principal, lead_uuid, version_field(request))
    except Problem as problem:
        if wants_problem(request):
            raise
        # The page as it is now (a stale form sees the change), with the reason it was refused.
        current = await triage.get_lead_for_staff(principal=principal, lead_id=lead_uuid)
        context = await _lead_context(request, principal, current)
        return render(request, "lead.html", status=problem.status, error=problem.detail, **context)
    if wants_problem(request):
        state = {"id": str(lead.id), "status": lead.status.value, "version": lead.version}
        return security_headers(request, json(state))
    if not covers(principal, lead.township_code or lead.county_code):
        # Transferred out of the clerk's reach: back to the queue, which says where it went.
        return redirect(f"/console/leads?done={action}", status=303)
    return redirect(f"/console/leads/{lead.id}?done={action}", status=303)
