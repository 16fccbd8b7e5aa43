"""What the web layer needs of the running app: the ground's resources, typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from limits.aio.storage import RedisStorage
from redis.asyncio import Redis
from sanic import Request

from backend.config import Settings
from backend.crypto import PiiCipher
from storage import ObjectStore


@dataclass
class WebContext:
    """The resources every face shares. Those opened at start-up are set in each worker."""

    settings: Settings
    cipher: PiiCipher
    store: ObjectStore
    redis: Redis = field(init=False)
    limiter_storage: RedisStorage = field(init=False)


def web_context(request: Request) -> WebContext:
    """This request's app context, as the web layer sees it."""
    return cast(WebContext, request.app.ctx)
