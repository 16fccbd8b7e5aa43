"""Applications at the window: the list, one application, accepting it or asking for materials.

Which buttons an application page shows is the domain's answer (cases.policy, asked through
intake.policy.allowed_actions); the cases service refuses anything that answer does not hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, json, redirect

from backend.accounts.authz import Principal
from backend.cases import labels as case_labels
from backend.cases import service as cases_service
from backend.cases.models import Application, ApplicationStatus
from backend.cases.policy import ROLES as APPLICATION_ROLES
from backend.cases.policy import ApplicationAction
from backend.console import presenters as show
from backend.console.pages import bp, form_value, page, posted, version_field
from backend.console.render import render, security_headers, wants_problem
from backend.context import app_context
from backend.crypto import mask_id_number, mask_phone
from backend.errors import NotFound, Problem, ValidationFailed
from backend.geo import service as geo_service
from backend.intake.policy import allowed_actions

APPLICATION_DONE_MESSAGES = {
    "accept": "已受理该申请",
    "request-materials": "已一次性告知申请人需补充的材料",
    "extend": "已延长审核期限",
}
APPLICATION_PAGE_SIZE = 100
APPLICATION_NOT_FOUND = "找不到该申请，或不在您的管辖范围内"


def _application_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(APPLICATION_NOT_FOUND) from None


def _application_status(value: str) -> str | None:
    status = value.strip()
    if not status or status == "all":
        return None
    if status not in {s.value for s in ApplicationStatus}:
        raise ValidationFailed(
            "未知状态，请从列表中选择", errors=[{"field": "status", "message": "不是允许的取值"}]
        )
    return status


@bp.get("/applications")
@page()
async def applications(request: Request, principal: Principal) -> HTTPResponse:
    """The applications of the caller's jurisdiction, newest first, with a status filter."""
    status_filter = (request.args.get("status") or "").strip()[:32]
    overdue_only = request.args.get("overdue") == "1"
    error = None
    rows: list[Application] = []
    try:
        rows = await cases_service.list_applications_for_staff(
            principal=principal,
            status=_application_status(status_filter),
            overdue_at=datetime.now(UTC) if overdue_only else None,
            limit=APPLICATION_PAGE_SIZE,
        )
    except ValidationFailed as problem:
        if wants_problem(request):
            raise
        error = problem.detail
    townships = (
        {
            t.code: t.name
            for t in await geo_service.list_townships(prefix=principal.jurisdiction or "")
        }
        if principal.jurisdiction and len(principal.jurisdiction) < 9
        else {}
    )
    clock, now = app_context(request).decision_clock, datetime.now(UTC)
    return render(
        request,
        "applications.html",
        status=422 if error else 200,
        error=error,
        rows=[
            {
                "application": a,
                "category_label": case_labels.category_label(a.category),
                "source_label": show.APPLICATION_SOURCE_LABELS.get(a.source, a.source),
                "status_label": case_labels.STATUS_LABELS.get(a.status, a.status),
                "township": townships.get(a.township_code, a.township_code),
                "clock": show.decision_clock(a, clock, now),
            }
            for a in rows
        ],
        status_filter=status_filter,
        overdue_only=overdue_only,
        status_labels=case_labels.STATUS_LABELS,
        show_township=bool(townships),
        page_size=APPLICATION_PAGE_SIZE,
    )


@bp.get("/applications/<application_id:str>")
@page()
async def application_page(
    request: Request, application_id: str, principal: Principal
) -> HTTPResponse:
    """One application: applicant and members (masked), means, consent, photos, timeline."""
    application = await cases_service.get_application_for_staff(
        principal=principal, application_id=_application_uuid(application_id)
    )
    context = await _application_context(request, principal, application)
    done = APPLICATION_DONE_MESSAGES.get(request.args.get("done") or "")
    return render(request, "application.html", notice=done, **context)


async def _application_context(
    request: Request, principal: Principal, application: Application
) -> dict[str, Any]:
    """Everything the application page shows, read through the cases service."""
    cipher = app_context(request).cipher
    id_number = cipher.decrypt_optional(
        application.applicant_id_enc, purpose=cases_service.ID_PURPOSE
    )
    phone = cipher.decrypt_optional(
        application.applicant_phone_enc, purpose=cases_service.PHONE_PURPOSE
    )
    members = [
        m | {"id_number": mask_id_number(m["id_number"])}
        for m in cases_service.members_out(application, cipher)
    ]
    township = await geo_service.get_division(code=application.township_code)
    village = (
        await geo_service.get_division(code=application.hukou_village_code)
        if application.hukou_village_code
        else None
    )
    documents = await cases_service.list_documents(application=application)
    events = await cases_service.list_events(application=application)
    assets = application.assets or {}
    return {
        "application": application,
        "clock": show.decision_clock(
            application, app_context(request).decision_clock, datetime.now(UTC)
        ),
        "extended_days": app_context(request).decision_clock.extended_working_days,
        "category_label": case_labels.category_label(application.category),
        "status_label": case_labels.STATUS_LABELS.get(application.status, application.status),
        "source_label": show.APPLICATION_SOURCE_LABELS.get(application.source, application.source),
        "township": township,
        "village": village,
        "applicant": {"id_number": mask_id_number(id_number), "phone": mask_phone(phone)},
        "members": members,
        "income_yuan": show.yuan(application.income_monthly_fen),
        "assets": {
            "house_count": assets.get("house_count"),
            "car_count": assets.get("car_count"),
            "savings_yuan": show.yuan(assets.get("savings_fen")),
            "note": assets.get("note") or "",
        },
        "documents": [await show.document_view(request, d) for d in documents],
        "events": [{"event": e, "actor": show.actor(e.actor_label)} for e in events],
        # What the caller may do with this application: the buttons shown, nothing else.
        "actions": allowed_actions(principal, application),
        "form": posted(request),
    }


Action = Callable[[Request, Principal, uuid.UUID, int], Awaitable[Application]]


async def _accept_application(
    request: Request, p: Principal, application_id: uuid.UUID, v: int
) -> Application:
    return await cases_service.accept_application(
        principal=p,
        application_id=application_id,
        expected_version=v,
        clock=app_context(request).decision_clock,
    )


async def _extend(request: Request, p: Principal, application_id: uuid.UUID, v: int) -> Application:
    return await cases_service.extend_deadline(
        principal=p,
        application_id=application_id,
        expected_version=v,
        reason=form_value(request, "reason"),
        clock=app_context(request).decision_clock,
    )


async def _request_materials(
    request: Request, p: Principal, application_id: uuid.UUID, v: int
) -> Application:
    return await cases_service.request_materials(
        principal=p,
        application_id=application_id,
        expected_version=v,
        materials=form_value(request, "materials"),
    )


# The URL's name of each action, its policy name, and what posts it to the service.
APPLICATION_ACTIONS: dict[str, tuple[ApplicationAction, Action]] = {
    "accept": (ApplicationAction.ACCEPT, _accept_application),
    "request-materials": (ApplicationAction.REQUEST_MATERIALS, _request_materials),
    "extend": (ApplicationAction.EXTEND, _extend),
}
# The door of the action route: staff whose role may take one of them on some application.
ACTING_ROLES = frozenset().union(*(APPLICATION_ROLES[a] for a, _ in APPLICATION_ACTIONS.values()))


@bp.post("/applications/<application_id:str>/<action:str>")
@page(roles=ACTING_ROLES)
async def application_act(
    request: Request, application_id: str, action: str, principal: Principal
) -> HTTPResponse:
    """Accept an application or ask for its missing materials; a refusal changes nothing."""
    found = APPLICATION_ACTIONS.get(action)
    if found is None:
        raise NotFound("没有这个操作")
    _kind, handler = found
    application_uuid = _application_uuid(application_id)
    try:
        application = await handler(request, principal, application_uuid, version_field(request))
    except Problem as problem:
        if wants_problem(request):
            raise
        # The page as it is now (a stale form sees the change), with the reason it was refused.
        current = await cases_service.get_application_for_staff(
            principal=principal, application_id=application_uuid
        )
        context = await _application_context(request, principal, current)
        return render(
            request, "application.html", status=problem.status, error=problem.detail, **context
        )
    if wants_problem(request):
        state = {
            "id": str(application.id),
            "status": application.status.value,
            "version": application.version,
        }
        return security_headers(request, json(state))
    return redirect(f"/console/applications/{application.id}?done={action}", status=303)
