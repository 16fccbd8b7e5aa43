"""The task broker: taskiq on Redis Streams (acknowledged, so a killed worker loses nothing)."""

from __future__ import annotations

import os

from taskiq import AsyncBroker, InMemoryBroker, SimpleRetryMiddleware
from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

from backend.config import Settings, load_settings


def make_broker(settings: Settings) -> AsyncBroker:
    """A Redis Streams broker with results kept an hour (in memory when no Redis is set)."""
    if not settings.redis_url:
        # `yimen serve` on embedded defaults sets YIMEN_REDIS_URL before workers load this.
        return InMemoryBroker()
    backend: RedisAsyncResultBackend[object] = RedisAsyncResultBackend(
        redis_url=settings.redis_url, result_ex_time=3600
    )
    return (
        RedisStreamBroker(
            url=settings.redis_url,
            queue_name=settings.redis_prefix + "tasks",
            consumer_group_name=settings.redis_prefix + "workers",
        )
        .with_result_backend(backend)
        # Tasks marked retry_on_error are sent again on failure; the sweep catches the rest.
        .with_middlewares(SimpleRetryMiddleware(default_retry_count=3))
    )


# The taskiq CLI imports `backend.jobs.broker:broker`; tests build their own with make_broker.
broker = make_broker(load_settings(os.environ))
