"""The refresh and logout routes every face with sign-in has, written once.

A face adds them to its blueprint with the kinds of user it serves; URLs, bodies, statuses and
the OpenAPI summaries stay the face's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.accounts.authz import Principal
from backend.accounts.models import UserKind
from backend.accounts.schemas import RefreshIn, TokenOut
from backend.accounts.service import refresh_login
from backend.context import app_context
from backend.guard import protected
from backend.web.http import body, ok

T = TypeVar("T")
REFRESH_SUMMARY = "刷新令牌"
LOGOUT_SUMMARY = "退出登录"


def add_token_routes(
    bp: Blueprint,
    *,
    kinds: Iterable[UserKind],
    logout_kinds: Iterable[UserKind] | None = None,
    under: str = "/auth",
    refresh_summary: str = REFRESH_SUMMARY,
    logout_summary: str = LOGOUT_SUMMARY,
    tag: str | None = None,
) -> None:
    """Add POST {under}/refresh and POST {under}/logout to a face's blueprint.

    Refresh rotates a refresh token of a user of `kinds`. Logout revokes the caller's login
    (its token family); it admits `logout_kinds`, or `kinds` when not given; an empty list
    admits any signed-in user. `tag` files both under an OpenAPI tag besides the blueprint's.
    """
    refresh_kinds = tuple(kinds)
    if not refresh_kinds:
        raise ValueError("add_token_routes needs the kinds of user whose tokens it refreshes")
    revoke_kinds = refresh_kinds if logout_kinds is None else tuple(logout_kinds)

    tagged = openapi.tag(tag) if tag is not None else _untagged

    @bp.post(f"{under}/refresh", name="refresh")
    @tagged
    @openapi.summary(refresh_summary)
    @openapi.body({"application/json": RefreshIn.model_json_schema()})
    async def refresh(request: Request) -> HTTPResponse:
        """Rotate a refresh token."""
        refresh_in = body(request, RefreshIn)
        pair = await refresh_login(
            tokens=app_context(request).tokens,
            refresh_token=refresh_in.refresh_token,
            kinds=refresh_kinds,
        )
        return ok(TokenOut(**pair.__dict__).model_dump())

    @bp.post(f"{under}/logout", name="logout")
    @tagged
    @openapi.summary(logout_summary)
    @openapi.secured("bearer")
    @protected(kinds=revoke_kinds or None)
    async def logout(request: Request, principal: Principal) -> HTTPResponse:
        """Revoke this login's tokens."""
        await app_context(request).tokens.revoke_family(principal.token_family)
        return ok({"status": "logged_out"})


def _untagged(handler: T) -> T:
    return handler
