"""Limits shared by every process through Redis: rate windows and one send at a time."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator

from limits import parse as parse_limit
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import LockError
from sanic import Request

from backend.errors import Conflict, TooManyRequests
from backend.web.context import web_context


async def ensure_rate(
    request: Request, *, limit: str, key: tuple[str, str], message: str, count: bool = True
) -> None:
    """429 with Retry-After once a limit (limits on Redis) is used up; count this request too.

    count=False only looks, so a caller can refuse early and count once the request is
    accepted (a refused request should not use up a person's quota).
    """
    item = parse_limit(limit)
    limiter = MovingWindowRateLimiter(web_context(request).limiter_storage)
    allowed = await limiter.hit(item, *key) if count else await limiter.test(item, *key)
    if not allowed:
        stats = await limiter.get_window_stats(item, *key)
        raise TooManyRequests(
            message, headers={"Retry-After": str(max(1, int(stats.reset_time - time.time())))}
        )


# A first send holds its lock through WeChat's text check (10 s at most) and the insert; a
# retry of it waits that long for the answer before it is told to try again.
FIRST_SEND_LOCK_S = 30
FIRST_SEND_WAIT_S = 30


@contextlib.asynccontextmanager
async def first_send(
    request: Request, *, kind: str, owner: uuid.UUID, client_id: uuid.UUID
) -> AsyncIterator[None]:
    """Serialise the sends of one item (one person's client_id) across workers.

    Inside, a retry finds the item its first send wrote and answers it as a replay, so only the
    first send looks at (and counts against) the rate limits.
    """
    context = web_context(request)
    settings = context.settings
    lock = context.redis.lock(
        f"{settings.redis_prefix}first-send:{kind}:{owner}:{client_id}",
        timeout=FIRST_SEND_LOCK_S,
        blocking_timeout=FIRST_SEND_WAIT_S,
        sleep=0.05,
    )
    if not await lock.acquire():
        raise Conflict(
            "上一次提交仍在处理中，请稍后再试",
            type_slug="still-processing",
            headers={"Retry-After": "5"},
        )
    try:
        yield
    finally:
        with contextlib.suppress(LockError):
            await lock.release()
