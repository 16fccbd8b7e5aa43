"""Who is asking: the Bearer token to a Principal, and the decorator every JSON face uses."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from backend.accounts.authz import Principal, ensure_kind, ensure_role
from backend.accounts.models import Role, UserKind
from backend.accounts.service import load_principal
from backend.context import app_context
from backend.errors import Unauthorized

Handler = Callable[..., Awaitable[HTTPResponse]]


async def authenticate(request: Request) -> Principal:
    """The caller from the Bearer token; 401 for a missing, forged, expired or revoked one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("请先登录（缺少 Authorization: Bearer 令牌）", type_slug="missing-token")
    claims = await app_context(request).tokens.verify_access(token.strip())
    return await load_principal(
        user_id=claims.user_id, token_id=claims.token_id, family=claims.family
    )


def protected(
    *, kinds: Iterable[UserKind] | None = None, roles: Iterable[Role] | None = None
) -> Callable[[Handler], Handler]:
    """Require a signed-in caller of these kinds/roles; the handler gets `principal`."""
    kind_set = tuple(kinds) if kinds else None
    role_set = tuple(roles) if roles else None

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            principal = await authenticate(request)
            if kind_set:
                ensure_kind(principal, *kind_set)
            if role_set:
                ensure_role(principal, role_set)
            request.ctx.principal = principal
            return await handler(request, *args, principal=principal, **kwargs)

        return wrapper

    return decorate
