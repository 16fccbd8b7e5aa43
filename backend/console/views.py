"""The clerk console: server-rendered pages under /console, and /files for the local store."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw, redirect

from backend.accounts import service as accounts_service
from backend.accounts.authz import Principal, covers, ensure_jurisdiction, ensure_role
from backend.accounts.models import ROLE_LABELS, Role
from backend.cases import labels as case_labels
from backend.cases import service as cases_service
from backend.cases.models import (
    Application,
    ApplicationDocument,
    ApplicationSource,
    ApplicationStatus,
)
from backend.cases.policy import ROLES as APPLICATION_ROLES
from backend.cases.policy import ApplicationAction
from backend.console import session as sessions
from backend.console.render import (
    STATIC,
    problem_page,
    render,
    security_headers,
    township_map,
    wants_problem,
)
from backend.context import app_context
from backend.crypto import PiiCipher, mask_id_number, mask_phone
from backend.errors import (
    Forbidden,
    NotFound,
    Problem,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from backend.geo import service as geo_service
from backend.intake import labels as lead_labels
from backend.intake import service as intake_service
from backend.intake import triage
from backend.intake.catalog import HARDSHIP_TAGS
from backend.intake.models import (
    OPEN_STATUSES,
    Lead,
    LeadPhoto,
    LeadSource,
    LeadStatus,
    PhotoStatus,
)
from backend.intake.policy import LeadAction, allowed_actions, roles_for
from backend.validation import parse_model, refuse_control_characters
from backend.web.problems import problem_response
from backend.windows import service as windows_service
from backend.windows.catalog import CATEGORIES, DEPARTMENTS
from backend.windows.schemas import WindowIn
from backend.workdays import SHANGHAI
from storage import ObjectNotFound, StorageError
from storage.local import LocalStore

bp = Blueprint("console", url_prefix="/console")
bp.static("/static", STATIC, name="static")
files_bp = Blueprint("console_files")
group = Blueprint.group(bp, files_bp)

# Who may open the console at all (staff who may read the queue); actions narrow it further.
CONSOLE_ROLES = triage.VIEW_ROLES
QUEUE_PAGE_SIZE = 50
QUEUE_FILTERS = ("status", "source", "hardship", "village", "overdue", "duplicate", "after")
PHOTO_LINK_TTL = timedelta(minutes=5)
SOURCE_LABELS = {"grid_worker": "网格员上报", "resident": "居民求助"}
ROUTED_BY_LABELS = {
    "polygon": "按定位所在乡镇（街道）",
    "village_code": "按所选村（社区）",
    "household": "按户籍所在村（社区）",
    "nearest_window": "按最近的受理窗口（请核实）",
    "county_unrouted": "未能确定乡镇，县级待分派",
    "transferred": "由其他乡镇（街道）转交",
}
DUPLICATE_REASONS = {
    "same_person": "身份证号码相同",
    "nearby_similar": "位置相近（150 米内），姓名或地址相似",
    "photo_hash": "照片几乎相同",
}
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
PageHandler = Callable[..., Awaitable[HTTPResponse]]
# The actions the lead page's buttons take (reveal has its own route; a visit is the phone's).
BUTTONS = frozenset(LeadAction) - {LeadAction.REVEAL, LeadAction.RECORD_VISIT}


def _login_url(request: Request) -> str:
    target = request.path + (f"?{request.query_string}" if request.query_string else "")
    return "/console/login?next=" + quote(target, safe="")


def _safe_next(value: str | None) -> str:
    # Only back into the console: never an open redirect to another site.
    if value and value.startswith("/console/") and not value.startswith("//"):
        if "\\" not in value and "\n" not in value and "\r" not in value:
            return value
    return "/console/"


def page(*, roles: Iterable[Role] = CONSOLE_ROLES) -> Callable[[PageHandler], PageHandler]:
    """A signed-in console page: session, CSRF on POST, role; errors shown as Chinese text."""
    allowed = tuple(roles)

    def decorate(handler: PageHandler) -> PageHandler:
        @functools.wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            found = await sessions.current_session(request)
            if found is None:
                if wants_problem(request):
                    response = problem_response(
                        Unauthorized("登录已过期，请重新登录", type_slug="session-expired"),
                        request,
                    )
                    response.headers["HX-Redirect"] = _login_url(request)
                    return security_headers(request, response)
                return redirect(_login_url(request), status=303)
            session, principal = found
            request.ctx.console_session = session
            request.ctx.principal = principal
            try:
                if request.method == "POST":
                    sessions.ensure_csrf(request, session)
                ensure_role(principal, allowed)
                return await handler(request, *args, principal=principal, **kwargs)
            except Problem as problem:
                return problem_page(request, problem)

        return wrapper

    return decorate


def form_value(request: Request, name: str) -> str:
    """One field of a posted form, stripped ('' when absent)."""
    form = request.form
    value = (form.get(name) if form is not None else None) or ""
    refuse_control_characters({name: value})
    return value.strip()


# --- login and logout ------------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    username: str = "",
    next_url: str = "/console/",
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    store = sessions.sessions(request)
    nonce = request.cookies.get(sessions.LOGIN_COOKIE) or sessions.new_nonce()
    response = render(
        request,
        "login.html",
        status=status,
        error=error,
        username=username,
        next_url=next_url,
        login_token=store.login_token(nonce),
        principal=None,
        csrf_token="",
    )
    store.set_login_cookie(response, nonce)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    """The login page (straight on to the console when already signed in)."""
    next_url = _safe_next(request.args.get("next"))
    if await sessions.current_session(request) is not None:
        return redirect(next_url, status=303)
    return _login_page(request, next_url=next_url)


@bp.post("/login")
async def login_submit(request: Request) -> HTTPResponse:
    """Check the password through the rate-limited login service; start a session."""
    store = sessions.sessions(request)
    username = form_value(request, "username")[:64]
    next_url = _safe_next(form_value(request, "next"))
    if not store.check_login_token(
        request.cookies.get(sessions.LOGIN_COOKIE), form_value(request, sessions.CSRF_FIELD)
    ):
        return _login_page(
            request, status=403, error=sessions.CSRF_FAILED, username=username, next_url=next_url
        )
    password = (request.form.get("password") if request.form is not None else None) or ""
    if not username or not password:
        return _login_page(
            request, status=422, error="请填写用户名和密码", username=username, next_url=next_url
        )
    try:
        session_id, _principal, device_cookie = await sessions.login(
            request, username=username, password=password[:256]
        )
    except (Unauthorized, TooManyRequests) as problem:
        return _login_page(
            request,
            status=problem.status,
            error=problem.detail,
            username=username,
            next_url=next_url,
            headers={k: v for k, v in problem.headers.items() if k.lower() == "retry-after"},
        )
    response = redirect(next_url, status=303)
    store.set_cookie(response, session_id)
    store.set_device_cookie(response, device_cookie)
    store.clear_cookie(response, sessions.LOGIN_COOKIE)
    return security_headers(request, response)


@bp.post("/logout")
@page()
async def logout(request: Request, principal: Principal) -> HTTPResponse:
    """End the session (the CSRF check keeps other sites from signing the clerk out)."""
    store = sessions.sessions(request)
    await store.delete(request.ctx.console_session)
    response = redirect("/console/login", status=303)
    store.clear_cookie(response)
    return security_headers(request, response)


# --- the window profile ----------------------------------------------------------------------


def _township_of(request: Request, principal: Principal, value: str | None) -> str:
    code = (value or "").strip() or (principal.jurisdiction or "")
    if len(code) != 9 or not code.isdigit():
        raise NotFound("请指定乡镇（街道）代码（例如 ?township=330523001）")
    ensure_jurisdiction(principal, code, hide=True)
    return code


def _window_form(window: Any) -> dict[str, Any]:
    return {
        "version": window.version,
        "name": window.name,
        "address": window.address,
        "opening_hours": window.opening_hours,
        "phone": window.phone,
        "complaint_phone": window.complaint_phone,
        "policies": "\n".join(window.policies),
        "duties": "\n".join(window.duties),
    }


@bp.get("/window")
@page(roles=[Role.TOWNSHIP_HEAD])
async def window_form(request: Request, principal: Principal) -> HTTPResponse:
    """The township head's form for the window's posted information (一明显三上墙)."""
    code = _township_of(request, principal, request.args.get("township"))
    window, township = await windows_service.get_window(township_code=code)
    return render(
        request,
        "window.html",
        township=township,
        form=_window_form(window),
        field_errors={},
        notice="已保存" if request.args.get("saved") else None,
    )


@bp.post("/window")
@page(roles=[Role.TOWNSHIP_HEAD])
async def window_save(request: Request, principal: Principal) -> HTTPResponse:
    """Save the window's posted information; a stale version is a conflict, not an overwrite."""
    code = _township_of(request, principal, form_value(request, "township"))
    _window, township = await windows_service.get_window(township_code=code)
    names = ("name", "address", "opening_hours", "phone", "complaint_phone")
    form: dict[str, Any] = {name: form_value(request, name) for name in names}
    form["policies"] = form_value(request, "policies")
    form["duties"] = form_value(request, "duties")
    form["version"] = form_value(request, "version")
    try:
        window_in = parse_model(
            WindowIn,
            {
                **{name: form[name] for name in names},
                "version": form["version"] or "0",
                "policies": form["policies"].splitlines(),
                "duties": form["duties"].splitlines(),
            },
        )
        await windows_service.update_window(
            township_code=code, window_in=window_in, actor=principal
        )
    except ValidationFailed as problem:
        if wants_problem(request):
            raise
        errors = {e["field"].split(".")[0]: e["message"] for e in problem.extra.get("errors", [])}
        return render(
            request,
            "window.html",
            status=422,
            township=township,
            form=form,
            field_errors=errors,
            error="请检查标出的内容后再保存",
        )
    except Problem as problem:
        if wants_problem(request):
            raise
        return render(
            request,
            "window.html",
            status=problem.status,
            township=township,
            form=form,
            field_errors={},
            error=problem.detail,
        )
    query = urlencode({"township": code, "saved": "1"})
    return redirect(f"/console/window?{query}", status=303)


# --- files of the local object store ---------------------------------------------------------


@files_bp.get("/files/<key:path>")
async def local_file(request: Request, key: str) -> HTTPResponse:
    """An object of the local store, for the holder of a valid presigned link."""
    store = app_context(request).store
    if not isinstance(store, LocalStore):
        raise NotFound("找不到该文件")
    expires = request.args.get("expires") or ""
    signature = request.args.get("signature") or ""
    if not store.verify_signed(key, expires, signature):
        raise Forbidden("链接无效或已过期，请回到页面重新打开", type_slug="link-expired")
    try:
        data = await store.get(key)
    except ObjectNotFound:
        raise NotFound("找不到该文件") from None
    info = await store.stat(key)
    content_type = info.content_type if info else "application/octet-stream"
    # Only images are shown inline; anything else downloads (and never runs as a page).
    inline = content_type.startswith("image/") and content_type != "image/svg+xml"
    return raw(
        data,
        content_type=content_type if inline else "application/octet-stream",
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": "inline" if inline else "attachment",
            "Referrer-Policy": "no-referrer",
        },
    )


# --- the front page --------------------------------------------------------------------------


@bp.get("/")
@page()
async def home(request: Request, principal: Principal) -> HTTPResponse:
    """The front page: today's figures of each window under the caller (received, overdue...)."""
    day = _day(request.args.get("day"))
    summary = await triage.window_summary(principal=principal, day=day)
    return render(request, "home.html", summary=summary)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "日期格式应为 年-月-日（例如 2026-03-01）",
            errors=[{"field": "day", "message": "格式不正确"}],
        ) from None


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
    fragment = request.headers.get("hx-request", "").lower() == "true"
    return render(
        request,
        "_queue.html" if fragment else "queue.html",
        status=422 if error else 200,
        error=error,
        notice=DONE_MESSAGES.get(request.args.get("done") or ""),
        result=result,
        rows=[_queue_row(lead, now, villages) for lead in result.items],
        filters=filters,
        villages=villages,
        self_url=_queue_link(filters),
        next_url=(_queue_link(filters, after=result.next_cursor) if result.next_cursor else None),
        first_url=_queue_link(filters, after="") if filters["after"] else None,
        status_labels=lead_labels.STATUS_LABELS,
        source_labels=SOURCE_LABELS,
        hardship_tags=HARDSHIP_TAGS,
        now=now,
    )


async def _villages_of(principal: Principal) -> dict[str, str]:
    # A township's villages fit in a list; a county's are filtered by typing the code.
    code = principal.jurisdiction or ""
    if len(code) != 9:
        return {}
    return {v.code: v.name for v in await geo_service.list_children(code=code)}


def _is_overdue(lead: Lead, now: datetime) -> bool:
    return lead.status == LeadStatus.RECEIVED and lead.ack_due_at < now


def _queue_row(lead: Lead, now: datetime, villages: dict[str, str]) -> dict[str, Any]:
    return {
        "lead": lead,
        "overdue": _is_overdue(lead, now),
        "open": lead.status in OPEN_STATUSES,
        "status_label": lead_labels.STATUS_LABELS.get(lead.status, lead.status),
        "source_label": SOURCE_LABELS.get(lead.source, lead.source),
        "hardship": lead_labels.hardship_labels(lead.hardship),
        "village": villages.get(lead.subject_village_code or "", lead.subject_village_code or ""),
    }


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
    merged_into = None
    if lead.merged_into_id:  # type: ignore[attr-defined]
        try:
            merged_into = await triage.get_lead_for_staff(
                principal=principal,
                lead_id=lead.merged_into_id,  # type: ignore[attr-defined]
            )
        except NotFound:
            merged_into = None
    routing = app_context(request).routing
    await routing.ensure_fresh()
    geometry = routing.index.geometry(lead.township_code) if lead.township_code else None
    point = (lead.lng, lead.lat) if lead.lng is not None and lead.lat is not None else None
    actions = allowed_actions(principal, lead)
    return {
        "lead": lead,
        "now": now,
        "overdue": _is_overdue(lead, now),
        "status_label": lead_labels.STATUS_LABELS.get(lead.status, lead.status),
        "source_label": SOURCE_LABELS.get(lead.source, lead.source),
        "routed_by_label": ROUTED_BY_LABELS.get(lead.routed_by, lead.routed_by),
        "hardship": lead_labels.hardship_labels(lead.hardship),
        "township": township,
        "village": village,
        "subject": _masked_subject(lead, cipher),
        "requester": _requester(lead, cipher),
        "revealed": revealed or {},
        "map": township_map(geometry, point),
        "photos": [await _photo_view(request, photo) for photo in photos],
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
                "reasons": [DUPLICATE_REASONS.get(r, r) for r in reasons],
                "status_label": lead_labels.STATUS_LABELS.get(other.status, other.status),
                "hardship": lead_labels.hardship_labels(other.hardship),
                "subject": _masked_subject(other, cipher),
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
        "application_label": (
            CATEGORIES.get(application.category, (application.category, ""))[0]
            if application
            else ""
        ),
        "merged_into": merged_into,
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
        "categories": {k: v[0] for k, v in CATEGORIES.items()},
        "departments": {k: v[0] for k, v in DEPARTMENTS.items()},
        "close_reasons": lead_labels.CLOSE_REASON_LABELS,
        "default_due": (now.astimezone(SHANGHAI).date() + timedelta(days=10)).isoformat(),
        "today": now.astimezone(SHANGHAI).date().isoformat(),
        "form": _posted(request),
    }


def _posted(request: Request) -> dict[str, str]:
    # What the clerk typed, kept in the forms when an action is refused.
    if request.method != "POST" or request.form is None:
        return {}
    return {k: (request.form.get(k) or "") for k in request.form if k != sessions.CSRF_FIELD}


def _masked_subject(lead: Lead, cipher: PiiCipher) -> dict[str, str | None]:
    phone = cipher.decrypt_optional(lead.subject_phone_enc, purpose=intake_service.PHONE_PURPOSE)
    id_number = cipher.decrypt_optional(lead.subject_id_enc, purpose=intake_service.ID_PURPOSE)
    return {"phone": mask_phone(phone), "id_number": mask_id_number(id_number)}


def _requester(lead: Lead, cipher: PiiCipher) -> dict[str, Any] | None:
    """Who sent a resident's help request: for herself or someone else, her phone masked."""
    if lead.source != LeadSource.RESIDENT:
        return None
    phone = cipher.decrypt_optional(lead.contact_phone_enc, purpose=intake_service.PHONE_PURPOSE)
    return {
        "for_self": lead.for_self,
        "for_self_label": "为本人求助" if lead.for_self else "为他人求助",
        "relation": lead.subject_relation,
        "phone": mask_phone(phone),
    }


async def _photo_view(request: Request, photo: LeadPhoto) -> dict[str, Any]:
    store = app_context(request).store
    thumb = display = None
    if photo.status == PhotoStatus.PROCESSED and photo.thumb_key and photo.display_key:
        try:
            # Five minutes: long enough to look, too short to pass around.
            thumb = await store.presigned_get_url(photo.thumb_key, expires=PHOTO_LINK_TTL)
            display = await store.presigned_get_url(photo.display_key, expires=PHOTO_LINK_TTL)
        except StorageError:
            thumb = display = None
    return {
        "photo": photo,
        "thumb_url": thumb,
        "display_url": display,
        "status_label": lead_labels.PHOTO_STATUS_LABELS[photo.status],
        "has_gps": photo.exif_lat is not None and photo.exif_lng is not None,
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
    if request.headers.get("hx-request", "").lower() == "true":
        return render(request, "_revealed.html", value=value)
    lead = await triage.get_lead_for_staff(principal=principal, lead_id=lead_uuid)
    context = await _lead_context(request, principal, lead, revealed={field: value})
    return render(request, "lead.html", **context)


# --- actions ---------------------------------------------------------------------------------


def _version(request: Request) -> int:
    value = form_value(request, "version")
    # isdigit() alone takes "²" and other digits int() refuses.
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise ValidationFailed(
            "表单缺少版本号，请刷新页面后重试", errors=[{"field": "version", "message": "无效"}]
        )
    return int(value)


def _uuid_field(request: Request, name: str, message: str) -> uuid.UUID:
    try:
        return uuid.UUID(form_value(request, name))
    except ValueError:
        raise ValidationFailed(message, errors=[{"field": name, "message": message}]) from None


def _date_field(request: Request, name: str) -> date:
    try:
        return date.fromisoformat(form_value(request, name))
    except ValueError:
        raise ValidationFailed(
            "请填写办理期限（年-月-日）", errors=[{"field": name, "message": "格式不正确"}]
        ) from None


Action = Callable[[Request, Principal, uuid.UUID, int], Awaitable[Lead]]


async def _acknowledge(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    return await triage.acknowledge_lead(principal=p, lead_id=lead_id, expected_version=v)


async def _assign(request: Request, p: Principal, lead_id: uuid.UUID, v: int) -> Lead:
    investigator = _uuid_field(request, "investigator_id", "请选择调查员")
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
        due_date=_date_field(request, "due_date"),
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
        lead = await handler(request, principal, lead_uuid, _version(request))
    except Problem as problem:
        if wants_problem(request):
            raise
        # The page as it is now (a stale form sees the change), with the reason it was refused.
        current = await triage.get_lead_for_staff(principal=principal, lead_id=lead_uuid)
        context = await _lead_context(request, principal, current)
        return render(request, "lead.html", status=problem.status, error=problem.detail, **context)
    await app_context(request).enqueue_notices()
    if wants_problem(request):
        state = {"id": str(lead.id), "status": lead.status.value, "version": lead.version}
        return security_headers(request, json(state))
    if not covers(principal, lead.township_code or lead.county_code):
        # Transferred out of the clerk's reach: back to the queue, which says where it went.
        return redirect(f"/console/leads?done={action}", status=303)
    return redirect(f"/console/leads/{lead.id}?done={action}", status=303)


# --- applications ----------------------------------------------------------------------------

APPLICATION_SOURCE_LABELS = {
    ApplicationSource.RESIDENT: "居民小程序",
    ApplicationSource.WINDOW: "窗口代为申请",
}
APPLICATION_DONE_MESSAGES = {
    "accept": "已受理该申请",
    "request-materials": "已一次性告知申请人需补充的材料",
}
APPLICATION_PAGE_SIZE = 100
APPLICATION_NOT_FOUND = "找不到该申请，或不在您的管辖范围内"


def _application_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(APPLICATION_NOT_FOUND) from None


def _yuan(fen: int | None) -> str | None:
    """Fen as yuan with two decimals, without going through floats."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def _actor(label: str) -> str:
    """An audit-style actor label ("window_clerk:张三") as a clerk reads it."""
    if not label:
        return ""
    role, sep, name = label.partition(":")
    if not sep:
        return label
    if role == "resident":
        return f"申请人（{name}）" if name else "申请人"
    known = {r.value: text for r, text in ROLE_LABELS.items()}.get(role)
    return f"{known} {name}" if known else label


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
    error = None
    rows: list[Application] = []
    try:
        rows = await cases_service.list_applications_for_staff(
            principal=principal,
            status=_application_status(status_filter),
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
    return render(
        request,
        "applications.html",
        status=422 if error else 200,
        error=error,
        rows=[
            {
                "application": a,
                "category_label": case_labels.category_label(a.category),
                "source_label": APPLICATION_SOURCE_LABELS.get(a.source, a.source),
                "status_label": case_labels.STATUS_LABELS.get(a.status, a.status),
                "township": townships.get(a.township_code, a.township_code),
            }
            for a in rows
        ],
        status_filter=status_filter,
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


async def _document_view(request: Request, document: ApplicationDocument) -> dict[str, Any]:
    store = app_context(request).store
    try:
        # The original is private: a five-minute link, like a lead's photos.
        url = await store.presigned_get_url(document.original_key, expires=PHOTO_LINK_TTL)
    except StorageError:
        url = None
    return {"document": document, "url": url, "size_kb": max(1, round(document.size / 1024))}


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
        "category_label": case_labels.category_label(application.category),
        "status_label": case_labels.STATUS_LABELS.get(application.status, application.status),
        "source_label": APPLICATION_SOURCE_LABELS.get(application.source, application.source),
        "township": township,
        "village": village,
        "applicant": {"id_number": mask_id_number(id_number), "phone": mask_phone(phone)},
        "members": members,
        "income_yuan": _yuan(application.income_monthly_fen),
        "assets": {
            "house_count": assets.get("house_count"),
            "car_count": assets.get("car_count"),
            "savings_yuan": _yuan(assets.get("savings_fen")),
            "note": assets.get("note") or "",
        },
        "documents": [await _document_view(request, d) for d in documents],
        "events": [{"event": e, "actor": _actor(e.actor_label)} for e in events],
        # What the caller may do with this application: the buttons shown, nothing else.
        "actions": allowed_actions(principal, application),
        "form": _posted(request),
    }


AppAction = Callable[[Request, Principal, uuid.UUID, int], Awaitable[Application]]


async def _accept_application(
    request: Request, p: Principal, application_id: uuid.UUID, v: int
) -> Application:
    return await cases_service.accept_application(
        principal=p, application_id=application_id, expected_version=v
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
APPLICATION_ACTIONS: dict[str, tuple[ApplicationAction, AppAction]] = {
    "accept": (ApplicationAction.ACCEPT, _accept_application),
    "request-materials": (ApplicationAction.REQUEST_MATERIALS, _request_materials),
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
        application = await handler(request, principal, application_uuid, _version(request))
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
    await app_context(request).enqueue_notices()
    if wants_problem(request):
        state = {
            "id": str(application.id),
            "status": application.status.value,
            "version": application.version,
        }
        return security_headers(request, json(state))
    return redirect(f"/console/applications/{application.id}?done={action}", status=303)
