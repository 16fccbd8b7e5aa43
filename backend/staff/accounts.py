"""Staff and grid-worker sign-in: /api/v1/auth and /api/v1/me."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.accounts.authz import Principal
from backend.accounts.models import ROLE_LABELS, UserKind
from backend.accounts.schemas import LoginIn, MeOut, TokenOut
from backend.accounts.service import get_user
from backend.context import app_context
from backend.errors import Unauthorized
from backend.guard import protected
from backend.metrics import LOGIN_FAILURES
from backend.token_routes import add_token_routes
from backend.web.http import body, client_ip, ok

bp = Blueprint("accounts", url_prefix="/api/v1")
# Refresh for staff and grid workers; logout for anyone signed in.
add_token_routes(bp, kinds=[UserKind.STAFF, UserKind.GRID_WORKER], logout_kinds=[])


def me_out(principal: Principal, username: str | None) -> dict[str, object]:
    """The /me document."""
    return MeOut(
        id=str(principal.user_id),
        kind=principal.kind.value,
        username=username,
        display_name=principal.display_name,
        role=principal.role.value if principal.role else None,
        role_label=ROLE_LABELS.get(principal.role) if principal.role else None,
        jurisdiction=principal.jurisdiction,
        villages=sorted(principal.villages),
    ).model_dump()


@bp.post("/auth/login")
@openapi.summary("工作人员、网格员登录")
@openapi.body({"application/json": LoginIn.model_json_schema()})
@openapi.response(200, {"application/json": TokenOut.model_json_schema()}, "令牌")
async def login(request: Request) -> HTTPResponse:
    """Password login for staff and grid workers."""
    login_in = body(request, LoginIn)
    try:
        _user, pair = await app_context(request).login.login(
            username=login_in.username,
            password=login_in.password,
            client_ip=client_ip(request),
            kinds=(UserKind.STAFF, UserKind.GRID_WORKER),
            device_id=login_in.device_id,
        )
    except Unauthorized:
        LOGIN_FAILURES.inc()
        raise
    return ok(TokenOut(**pair.__dict__).model_dump())


@bp.get("/me")
@openapi.summary("当前用户")
@openapi.secured("bearer")
@openapi.response(200, {"application/json": MeOut.model_json_schema()}, "当前用户")
@protected()
async def me(request: Request, principal: Principal) -> HTTPResponse:
    """Who am I."""
    user = await get_user(user_id=principal.user_id)
    return ok(me_out(principal, user.username))
