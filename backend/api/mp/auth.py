"""Resident sign-in through WeChat: login with a wx.login code, refresh, logout, my phone."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.accounts.authz import Principal
from backend.accounts.models import User, UserKind
from backend.accounts.schemas import TokenOut
from backend.accounts.service import (
    get_or_create_resident,
    get_user,
    resident_phone,
    set_resident_phone,
)
from backend.api.mp.schemas import CodeIn
from backend.context import app_context
from backend.crypto import mask_phone
from backend.errors import Problem
from backend.guard import protected
from backend.logs import get_logger
from backend.token_routes import add_token_routes
from backend.web.http import body, client_ip, ok
from backend.web.limits import ensure_rate
from backend.wechat import ERR_WATERMARK, WeChatError

bp = Blueprint("mp_auth", url_prefix="")
add_token_routes(bp, kinds=[UserKind.RESIDENT])
log = get_logger("yimen.mp")
# Per address, and generous: carriers put many phones behind one address (CGNAT).
CODE_RATE = "300/minute"


def wechat_problem(exc: WeChatError, *, phone: bool = False) -> Problem:
    """What a resident reads when WeChat refused or failed a call."""
    if exc.errcode in (40029, 40163):  # invalid code, code already used
        what = "手机号授权" if phone else "登录凭证"
        return Problem(
            f"{what}无效或已使用，请重新操作一次",
            status=401 if not phone else 422,
            type_slug="wechat-code-invalid",
            title="微信授权无效",
        )
    if exc.errcode == ERR_WATERMARK:
        return Problem(
            "手机号授权信息与本小程序不符，请重新点击按钮授权手机号",
            status=422,
            type_slug="wechat-phone-mismatch",
            title="手机号授权无效",
        )
    if exc.errcode == 45011:
        return Problem(
            "操作太频繁，请一分钟后再试",
            status=429,
            type_slug="wechat-too-frequent",
            title="操作太频繁",
            headers={"Retry-After": "60"},
        )
    if exc.errcode == 40226:
        return Problem(
            "微信提示该账号存在风险，暂不能登录；可到乡镇（街道）窗口或拨打窗口电话求助",
            status=403,
            type_slug="wechat-risky-user",
            title="暂不能登录",
        )
    log.warning("wechat call failed", errcode=exc.errcode)
    return Problem(
        "微信服务暂时不可用，请稍后再试；情况紧急请直接拨打乡镇（街道）窗口电话",
        status=502,
        type_slug="wechat-unavailable",
        title="微信服务暂时不可用",
    )


def resident_out(user: User, request: Request) -> dict[str, Any]:
    """The resident as the mini-program shows her (phone masked)."""
    phone = resident_phone(user, app_context(request).cipher)
    return {"id": str(user.id), "display_name": user.display_name, "phone": mask_phone(phone)}


@bp.post("/auth/login")
@openapi.summary("居民登录（wx.login 的 code）")
@openapi.description(
    "服务器用 code 向微信换取 openid（code2session），签发本系统的令牌；"
    "微信 session_key 不离开服务器。"
    "code 只能用一次：40029 返回 401 wechat-code-invalid，请重新调用 wx.login。"
)
@openapi.body({"application/json": CodeIn.model_json_schema()})
async def login(request: Request) -> HTTPResponse:
    """Trade a wx.login code for our own tokens, bound to the resident's openid."""
    code_in = body(request, CodeIn)
    await ensure_rate(
        request,
        limit=CODE_RATE,
        key=("mp-login-ip", client_ip(request)),
        message="登录太频繁，请稍后再试",
    )
    try:
        session = await app_context(request).wechat.code2session(code_in.code)
    except WeChatError as exc:
        raise wechat_problem(exc) from None
    user, _ = await get_or_create_resident(openid=session.openid)
    if not user.is_active:
        # 403, not 401: logging in again cannot help; a person at the window can.
        raise Problem(
            "您的账号已停用，请联系乡镇（街道）受理窗口",
            status=403,
            type_slug="account-disabled",
            title="账号已停用",
        )
    pair = await app_context(request).tokens.issue(user.id)
    return ok(TokenOut(**pair.__dict__).model_dump() | {"resident": resident_out(user, request)})


@bp.get("/me")
@openapi.summary("我的信息")
@openapi.secured("bearer")
@protected(kinds=[UserKind.RESIDENT])
async def me(request: Request, principal: Principal) -> HTTPResponse:
    """The signed-in resident."""
    return ok(resident_out(await get_user(user_id=principal.user_id), request))


@bp.post("/me/phone")
@openapi.summary("绑定手机号（getPhoneNumber 按钮的 code）")
@openapi.secured("bearer")
@openapi.body({"application/json": CodeIn.model_json_schema()})
@protected(kinds=[UserKind.RESIDENT])
async def bind_phone(request: Request, principal: Principal) -> HTTPResponse:
    """Ask WeChat for the phone the resident agreed to share; store it encrypted."""
    code_in = body(request, CodeIn)
    try:
        phone = await app_context(request).wechat.phone_number(code_in.code)
    except WeChatError as exc:
        raise wechat_problem(exc, phone=True) from None
    user = await set_resident_phone(
        user_id=principal.user_id, phone=phone, cipher=app_context(request).cipher
    )
    return ok({"phone": mask_phone(resident_phone(user, app_context(request).cipher))})
