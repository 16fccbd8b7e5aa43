"""Grid-worker sign-in: login, refresh, logout."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.accounts.authz import Principal
from backend.accounts.models import UserKind
from backend.accounts.schemas import LoginIn, TokenOut
from backend.accounts.service import load_principal
from backend.context import app_context
from backend.errors import ValidationFailed
from backend.geo.service import list_divisions
from backend.token_routes import add_token_routes
from backend.web.http import body, client_ip, ok
from backend.windows.service import get_window_of_township

bp = Blueprint("mobile_auth", url_prefix="/auth")
add_token_routes(bp, kinds=[UserKind.GRID_WORKER], under="")


async def worker_out(principal: Principal) -> dict[str, object]:
    """The grid worker as their phone shows them: name, township and villages."""
    villages = await list_divisions(codes=principal.villages)
    township, _window = await get_window_of_township(township_code=principal.jurisdiction)
    return {
        "id": str(principal.user_id),
        "display_name": principal.display_name,
        "township": {"code": township.code, "name": township.name} if township else None,
        "villages": [{"code": v.code, "name": v.name} for v in villages],
    }


@bp.post("/login")
@openapi.summary("网格员登录")
@openapi.description("失败次数过多会被限制（429，带 Retry-After）。只接受网格员账号。")
@openapi.body({"application/json": LoginIn.model_json_schema()})
async def login(request: Request) -> HTTPResponse:
    """Password login of a grid worker, bound to the phone's device id."""
    login_in = body(request, LoginIn)
    if not login_in.device_id:
        raise ValidationFailed(
            "请提供 device_id（手机的设备编号）",
            errors=[{"field": "device_id", "message": "必填项未填写"}],
        )
    user, pair = await app_context(request).login.login(
        username=login_in.username,
        password=login_in.password,
        client_ip=client_ip(request),
        kinds=(UserKind.GRID_WORKER,),
        device_id=login_in.device_id,
    )
    claims = await app_context(request).tokens.verify_access(pair.access_token)
    principal = await load_principal(
        user_id=user.id, token_id=claims.token_id, family=claims.family
    )
    return ok(TokenOut(**pair.__dict__).model_dump() | {"worker": await worker_out(principal)})
