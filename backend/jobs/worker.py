"""The task worker's start-up and shutdown: a composition root, as app.py is for the web.

The taskiq CLI loads `backend.jobs.broker:broker` and this module, which brings the tasks.
"""

from __future__ import annotations

import asyncio
import contextlib

from taskiq import TaskiqEvents, TaskiqState

from backend.config import load_settings
from backend.db import close_db, init_db
from backend.jobs.broker import broker
from backend.jobs.tasks import _state, sweep_notices, sweep_photos
from backend.logs import configure_logging, get_logger
from backend.wechat import create_wechat
from storage import build_store

log = get_logger("yimen.jobs")
SWEEP_EVERY_S = 60


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _startup(state: TaskiqState) -> None:
    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    await init_db(settings)
    _state["store"] = build_store(settings)
    _state["settings"] = settings
    _state["wechat"] = create_wechat(settings)
    _state["sweeper"] = asyncio.create_task(_sweep_forever())


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _shutdown(state: TaskiqState) -> None:
    sweeper = _state.pop("sweeper", None)
    if sweeper is not None:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
    wechat = _state.pop("wechat", None)
    if wechat is not None:
        wechat.close()
    await close_db()


async def _sweep_forever() -> None:
    while True:
        try:
            await sweep_photos()
            await sweep_notices()
        except Exception as exc:  # the next round tries again; a sweep must never kill a worker
            log.warning("sweep failed", error=type(exc).__name__)
        await asyncio.sleep(SWEEP_EVERY_S)
