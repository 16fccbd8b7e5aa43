"""A resident's own items: help requests, applications, their photos, and status messages."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.accounts.authz import Principal
from backend.accounts.models import UserKind
from backend.api.mp.schemas import ConsentIn, ItemsQuery
from backend.api.mp.statuses import application_status_label, help_status_label
from backend.cases import labels as case_labels
from backend.cases import service as cases
from backend.cases.models import Application
from backend.cases.schemas import ApplicationIn
from backend.context import app_context
from backend.crypto import mask_id_number, mask_phone
from backend.errors import NotFound, ValidationFailed
from backend.geo.service import get_division
from backend.guard import protected
from backend.intake import service as intake
from backend.intake.labels import PHOTO_STATUS_LABELS, hardship_labels
from backend.intake.models import Lead, LeadSource
from backend.intake.schemas import HelpRequestIn
from backend.logs import get_logger
from backend.notify.service import record_consent
from backend.web.http import body, decode_cursor, encode_cursor, ok, path_uuid, query
from backend.web.limits import ensure_rate, first_send
from backend.web.uploads import accept_photo, multipart_photo, original_putter
from backend.wechat import WeChatError
from backend.windows.service import get_window_of_township

bp = Blueprint("mp_items", url_prefix="")
log = get_logger("yimen.mp")
MAX_HELP_PHOTOS = 6
FLAGGED_MESSAGE = (
    "您填写的内容没有通过微信的内容安全检查，请修改后再提交；情况紧急请直接拨打乡镇（街道）窗口电话"
)


def _screen(
    request: Request,
    principal: Principal,
    texts: list[str],
    limits: list[tuple[str, tuple[str, str]]],
) -> Callable[[], Awaitable[bool]]:
    """Rate limits, then WeChat's text check: run only for a new item, never for a replay.

    Called under first_send's lock, so retries of one item racing its first send find the item
    written and never reach this.

    Flagged text is refused. When WeChat cannot be reached the item is kept and marked for a
    clerk's eye instead: a request for help must not be lost because a check is down.
    """

    async def before_create() -> bool:
        message = "提交太频繁，请稍后再试；情况紧急请直接拨打窗口电话"
        for limit, key in limits:
            await ensure_rate(request, limit=limit, key=key, message=message, count=False)
        review = await _check_text(request, principal, texts)
        # Counted only now: flagged text and refused limits do not use up her quota.
        for limit, key in limits:
            await ensure_rate(request, limit=limit, key=key, message=message)
        return review

    return before_create


async def _check_text(request: Request, principal: Principal, texts: list[str]) -> bool:
    """WeChat's text check: refuse flagged text; True when a clerk should look twice."""
    content = "\n".join(t for t in texts if t)
    if not content:
        return False
    try:
        verdict = await app_context(request).wechat.check_text(
            content=content, openid=principal.openid or "", scene=2
        )
    except WeChatError as exc:
        log.warning("content check unavailable, kept for review", errcode=exc.errcode)
        return True
    if verdict.flagged:
        raise ValidationFailed(FLAGGED_MESSAGE, type_slug="content-flagged", title="内容未通过检查")
    return bool(verdict.needs_review)


async def _place(township_code: str | None) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    township, window = await get_window_of_township(township_code=township_code)
    return (
        {"code": township.code, "name": township.name} if township else None,
        {"name": window.name, "address": window.address, "phone": window.phone} if window else None,
    )


async def help_out(request: Request, lead: Lead) -> dict[str, Any]:
    """A help request as the resident who sent it reads it (personal data masked)."""
    cipher = app_context(request).cipher
    township, window = await _place(lead.township_code)
    phone = cipher.decrypt_optional(lead.subject_phone_enc, purpose=intake.PHONE_PURPOSE)
    photos = await intake.list_photos(lead=lead)
    events = await intake.list_events(lead=lead)
    return {
        "id": str(lead.id),
        "client_id": str(lead.client_id),
        "number": lead.number,
        "kind": "help",
        "status": lead.status.value,
        "status_label": help_status_label(lead.status),
        "for_self": lead.for_self,
        "urgent": lead.urgent,
        "township": township,
        "window": window,
        "subject": {
            "name": lead.subject_name,
            "phone": mask_phone(phone),
            "address": lead.subject_address,
            "village_code": lead.subject_village_code,
        },
        "hardship": lead.hardship,
        "hardship_labels": hardship_labels(lead.hardship),
        "description": lead.description,
        "photos": [
            {
                "photo_id": str(p.id),
                "client_photo_id": str(p.client_photo_id),
                "status": p.status.value,
                "status_label": PHOTO_STATUS_LABELS[p.status],
            }
            for p in photos
        ],
        "timeline": [
            {"at": e.at.isoformat(), "kind": e.kind, "message": e.public_message or e.message}
            for e in events
        ],
        "created_at": lead.created_at.isoformat(),
        "updated_at": lead.updated_at.isoformat(),
    }


async def application_out(request: Request, application: Application) -> dict[str, Any]:
    """An application as its applicant reads it (ID numbers and phones masked)."""
    cipher = app_context(request).cipher
    township, window = await _place(application.township_code)
    village = (
        await get_division(code=application.hukou_village_code)
        if application.hukou_village_code
        else None
    )
    id_number = cipher.decrypt_optional(application.applicant_id_enc, purpose=cases.ID_PURPOSE)
    phone = cipher.decrypt_optional(application.applicant_phone_enc, purpose=cases.PHONE_PURPOSE)
    documents = await cases.list_documents(application=application)
    events = await cases.list_events(application=application)
    income = application.income_monthly_fen
    savings = application.assets.get("savings_fen")
    return {
        "id": str(application.id),
        "client_id": str(application.client_id) if application.client_id else None,
        "number": application.number,
        "kind": "application",
        "category": application.category,
        "category_label": case_labels.category_label(application.category),
        "status": application.status.value,
        "status_label": application_status_label(application.status),
        # The decision's deadline once accepted (30 working days, 45 when extended).
        "decision_due_at": (
            application.decision_due_at.isoformat() if application.decision_due_at else None
        ),
        "working_days_left": app_context(request).decision_clock.left(
            application, datetime.now(UTC)
        ),
        "deadline_extended": application.extended_at is not None,
        "on_behalf": application.on_behalf,
        "township": township,
        "window": window,
        "applicant": {
            "name": application.applicant_name,
            "id_number": mask_id_number(id_number),
            "phone": mask_phone(phone),
        },
        "members": [
            m | {"id_number": mask_id_number(m["id_number"])}
            for m in cases.members_out(application, cipher)
        ],
        "income_monthly_yuan": None if income is None else income / 100,
        "assets": {
            "house_count": application.assets.get("house_count", 0),
            "car_count": application.assets.get("car_count", 0),
            "savings_yuan": None if savings is None else savings / 100,
            "note": application.assets.get("note", ""),
        },
        "hukou_village": {"code": village.code, "name": village.name} if village else None,
        "reason": application.reason,
        "photos": [
            {"photo_id": str(d.id), "client_photo_id": str(d.client_photo_id)} for d in documents
        ],
        "timeline": [
            {"at": e.at.isoformat(), "kind": e.kind, "message": e.message} for e in events
        ],
        "created_at": application.created_at.isoformat(),
        "updated_at": application.updated_at.isoformat(),
    }


@bp.post("/help-requests")
@openapi.summary("求助（为自己或他人；quick=true 为一键求助）")
@openapi.description(
    "client_id 由小程序生成；重发相同内容返回 200 与首次相同的结果，内容不同返回 409。"
    "需提供定位（coord_type 为 gcj02/wgs84/bd09）或 subject.village_code。"
    "文字先经微信内容安全检查，未通过返回 422 content-flagged。按居民和设备限制频率（429）。"
)
@openapi.secured("bearer")
@openapi.body({"application/json": HelpRequestIn.model_json_schema()})
@protected(kinds=[UserKind.RESIDENT])
async def create_help_request(request: Request, principal: Principal) -> HTTPResponse:
    """Send a help request; it becomes a lead in the township window's queue."""
    help_in = body(request, HelpRequestIn)
    settings = app_context(request).settings
    # Retries of one request wait for its first send, then answer what it wrote: a burst of
    # them is one request to her quota, not six.
    async with first_send(
        request, kind="help", owner=principal.user_id, client_id=help_in.client_id
    ):
        lead, created = await intake.submit_help_request(
            help_in=help_in,
            resident=principal,
            cipher=app_context(request).cipher,
            policy=app_context(request).intake_policy,
            router=app_context(request).route_lead,
            before_create=_screen(
                request,
                principal,
                help_in.free_text(),
                [
                    (settings.help_rate_limit, ("mp-help-user", str(principal.user_id))),
                    (settings.help_device_rate_limit, ("mp-help-device", help_in.device_id)),
                ],
            ),
        )
    return ok(await help_out(request, lead), status=201 if created else 200)


async def _own_help(principal: Principal, lead_id: str) -> Lead:
    try:
        lead = await intake.get_lead_for_reporter(
            lead_id=path_uuid(lead_id, "求助编号"), reporter=principal
        )
    except NotFound:
        lead = None
    if lead is None or lead.source != LeadSource.RESIDENT:
        raise NotFound("找不到这条求助")
    return lead


@bp.get("/help-requests/<lead_id:str>")
@openapi.summary("我的一条求助与办理进度")
@openapi.secured("bearer")
@protected(kinds=[UserKind.RESIDENT])
async def get_help_request(request: Request, lead_id: str, principal: Principal) -> HTTPResponse:
    """One of my help requests, with its timeline."""
    return ok(await help_out(request, await _own_help(principal, lead_id)))


@bp.post("/help-requests/<lead_id:str>/photos")
@openapi.summary("为求助上传一张照片（multipart，wx.uploadFile）")
@openapi.description(
    "文件字段 file，另附 client_photo_id（UUID）。"
    f"每条求助最多 {MAX_HELP_PHOTOS} 张，每张不超过 15 MB。"
)
@openapi.secured("bearer")
@protected(kinds=[UserKind.RESIDENT])
async def post_help_photo(request: Request, lead_id: str, principal: Principal) -> HTTPResponse:
    """Upload one photo of a help request; processed in the background like a report's."""
    lead = await _own_help(principal, lead_id)
    client_photo_id, data = multipart_photo(request)
    info = accept_photo(data)
    photo, created = await intake.add_photo(
        lead=lead,
        client_photo_id=client_photo_id,
        data=data,
        mime=info.mime,
        reporter=principal,
        put_original=original_putter(request),
        max_photos=MAX_HELP_PHOTOS,
    )
    # A retry of the same photo answers the first upload (200), like a replayed request.
    return ok(
        {"photo_id": str(photo.id), "status": photo.status.value}, status=201 if created else 200
    )


@bp.post("/applications")
@openapi.summary("申请救助")
@openapi.description(
    "按户籍村（社区）分派到所属乡镇（街道）受理窗口。身份证号按校验码核对；"
    "须勾选授权核对家庭经济状况并签名（与申请人姓名一致），否则返回 422 consent-required。"
)
@openapi.secured("bearer")
@openapi.body({"application/json": ApplicationIn.model_json_schema()})
@protected(kinds=[UserKind.RESIDENT])
async def create_application(request: Request, principal: Principal) -> HTTPResponse:
    """File an application at the window of the applicant's 户籍 township."""
    application_in = body(request, ApplicationIn)
    settings = app_context(request).settings
    async with first_send(
        request, kind="application", owner=principal.user_id, client_id=application_in.client_id
    ):
        application, created = await cases.submit_application(
            application_in=application_in,
            resident=principal,
            cipher=app_context(request).cipher,
            before_create=_screen(
                request,
                principal,
                application_in.free_text(),
                [(settings.help_rate_limit, ("mp-apply-user", str(principal.user_id)))],
            ),
        )
    return ok(await application_out(request, application), status=201 if created else 200)


@bp.get("/applications/<application_id:str>")
@openapi.summary("我的一份申请与办理进度")
@openapi.secured("bearer")
@protected(kinds=[UserKind.RESIDENT])
async def get_application(
    request: Request, application_id: str, principal: Principal
) -> HTTPResponse:
    """One of my applications, with its timeline."""
    application = await cases.get_application_for_resident(
        application_id=path_uuid(application_id, "申请编号"), resident=principal
    )
    return ok(await application_out(request, application))


@bp.post("/applications/<application_id:str>/photos")
@openapi.summary("为申请上传一张材料照片（multipart，wx.uploadFile）")
@openapi.secured("bearer")
@protected(kinds=[UserKind.RESIDENT])
async def post_application_photo(
    request: Request, application_id: str, principal: Principal
) -> HTTPResponse:
    """Upload one supporting photo (kept private)."""
    application = await cases.get_application_for_resident(
        application_id=path_uuid(application_id, "申请编号"), resident=principal
    )
    client_photo_id, data = multipart_photo(request)
    info = accept_photo(data)
    document, created = await cases.add_document(
        application=application,
        client_photo_id=client_photo_id,
        data=data,
        mime=info.mime,
        actor=principal,
        put_original=original_putter(request),
    )
    return ok({"photo_id": str(document.id), "status": "received"}, status=201 if created else 200)


@bp.get("/items")
@openapi.summary("我的求助和申请（分页，最新在前）")
@openapi.secured("bearer")
@openapi.parameter("cursor", str)
@openapi.parameter("limit", int)
@protected(kinds=[UserKind.RESIDENT])
async def list_items(request: Request, principal: Principal) -> HTTPResponse:
    """My help requests and applications, newest first."""
    params = query(request, ItemsQuery)
    before = decode_cursor(params.cursor)
    leads = await intake.list_leads_for_reporter(
        reporter=principal, before=before, limit=params.limit + 1
    )
    applications = await cases.list_applications_for_resident(
        resident=principal, before=before, limit=params.limit + 1
    )
    rows: list[tuple[datetime, uuid.UUID, dict[str, Any]]] = []
    for lead in leads:
        rows.append(
            (
                lead.created_at,
                lead.id,
                {
                    "kind": "help",
                    "id": str(lead.id),
                    "number": lead.number,
                    "title": "一键求助"
                    if lead.description == intake.QUICK_HELP_DESCRIPTION
                    else ("为自己求助" if lead.for_self else f"为{lead.subject_name}求助"),
                    "status": lead.status.value,
                    "status_label": help_status_label(lead.status),
                    "created_at": lead.created_at.isoformat(),
                    "updated_at": lead.updated_at.isoformat(),
                },
            )
        )
    for app_row in applications:
        rows.append(
            (
                app_row.created_at,
                app_row.id,
                {
                    "kind": "application",
                    "id": str(app_row.id),
                    "number": app_row.number,
                    "title": f"{case_labels.category_label(app_row.category)}申请",
                    "status": app_row.status.value,
                    "status_label": application_status_label(app_row.status),
                    "created_at": app_row.created_at.isoformat(),
                    "updated_at": app_row.updated_at.isoformat(),
                },
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    page, more = rows[: params.limit], len(rows) > params.limit
    next_cursor = encode_cursor(page[-1][0], page[-1][1]) if more else None
    return ok({"items": [r[2] for r in page], "next_cursor": next_cursor})


@bp.post("/subscriptions")
@openapi.summary("记录订阅消息授权（wx.requestSubscribeMessage 的结果）")
@openapi.secured("bearer")
@openapi.body({"application/json": ConsentIn.model_json_schema()})
@protected(kinds=[UserKind.RESIDENT])
async def post_subscription(request: Request, principal: Principal) -> HTTPResponse:
    """Count a one-time consent for the status template."""
    consent_in = body(request, ConsentIn)
    known = app_context(request).settings.wechat_status_template
    if not known or consent_in.template_id != known:
        raise ValidationFailed(
            "不认识的消息模板",
            errors=[{"field": "template_id", "message": "不是本小程序的状态通知模板"}],
        )
    remaining = await record_consent(
        user_id=principal.user_id, template_id=consent_in.template_id, accepted=consent_in.accepted
    )
    return ok({"remaining": remaining})
