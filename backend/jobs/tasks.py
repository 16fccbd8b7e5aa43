"""Background tasks. Every task is idempotent: a retry or a second delivery changes nothing."""

from __future__ import annotations

import time

from backend.jobs.broker import broker


@broker.task(task_name="yimen.ping")
async def ping(payload: str) -> dict[str, object]:
    """Answer with the payload: proves a worker is consuming the queue end to end."""
    return {"payload": payload, "at": time.time()}
