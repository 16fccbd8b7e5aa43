"""What the console's rooms share: the blueprints, the signed-in page decorator, form fields."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from backend.accounts.authz import ensure_role
from backend.accounts.models import Role
from backend.console import session as sessions
from backend.console.render import STATIC, problem_page, security_headers, wants_problem
from backend.errors import Problem, Unauthorized, ValidationFailed
from backend.intake import triage
from backend.validation import refuse_control_characters
from backend.web.problems import problem_response

bp = Blueprint("console", url_prefix="/console")
bp.static("/static", STATIC, name="static")
files_bp = Blueprint("console_files")

# Who may open the console at all (staff who may read the queue); actions narrow it further.
CONSOLE_ROLES = triage.VIEW_ROLES
# How long a link to a private photo stays valid: long enough to look, too short to pass around.
PHOTO_LINK_TTL = timedelta(minutes=5)
PageHandler = Callable[..., Awaitable[HTTPResponse]]


def login_url(request: Request) -> str:
    """The login page, with the way back to this page."""
    target = request.path + (f"?{request.query_string}" if request.query_string else "")
    return "/console/login?next=" + quote(target, safe="")


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
                    response.headers["HX-Redirect"] = login_url(request)
                    return security_headers(request, response)
                return redirect(login_url(request), status=303)
            session, principal = found
            request.ctx.console_session = session
            request.ctx.principal = principal
            try:
                if request.method == "POST":
                    sessions.ensure_csrf(request, session)
                # The page's door; what may be done with a record is the domain's policy.
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


def posted(request: Request) -> dict[str, str]:
    """What the clerk typed, kept in the forms when an action is refused."""
    if request.method != "POST" or request.form is None:
        return {}
    return {k: (request.form.get(k) or "") for k in request.form if k != sessions.CSRF_FIELD}


def is_fragment(request: Request) -> bool:
    """An htmx request, answered with a fragment of a page."""
    return request.headers.get("hx-request", "").lower() == "true"


def version_field(request: Request) -> int:
    """The version of the record the form was read at."""
    value = form_value(request, "version")
    # isdigit() alone takes "²" and other digits int() refuses.
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise ValidationFailed(
            "表单缺少版本号，请刷新页面后重试", errors=[{"field": "version", "message": "无效"}]
        )
    return int(value)


def uuid_field(request: Request, name: str, message: str) -> uuid.UUID:
    """A posted id (422 with message when it is not one)."""
    try:
        return uuid.UUID(form_value(request, name))
    except ValueError:
        raise ValidationFailed(message, errors=[{"field": name, "message": message}]) from None


def date_field(request: Request, name: str) -> date:
    """A posted due date."""
    try:
        return date.fromisoformat(form_value(request, name))
    except ValueError:
        raise ValidationFailed(
            "请填写办理期限（年-月-日）", errors=[{"field": name, "message": "格式不正确"}]
        ) from None
