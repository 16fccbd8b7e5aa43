"""Background tasks. Every task is idempotent: a retry or a second delivery changes nothing."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from backend.jobs.broker import broker
from backend.logs import get_logger

log = get_logger("yimen.jobs")
SWEEP_AFTER = timedelta(minutes=2)
# What the worker opened at start-up (backend.jobs.worker): store, settings, wechat.
_state: dict[str, Any] = {}


async def sweep_photos() -> int:
    """Re-queue photos left unprocessed (a lost message or a killed worker loses nothing)."""
    from backend.intake.photos import photos_to_retry

    ids = await photos_to_retry(older_than=SWEEP_AFTER)
    for photo_id in ids:
        await process_photo_task.kiq(str(photo_id))
    if ids:
        log.info("sweep re-queued photos", count=len(ids))
    return len(ids)


async def sweep_notices() -> int:
    """Re-queue status messages left pending (a lost message, or WeChat failing earlier)."""
    from backend.notify.service import pending_notices

    ids = await pending_notices()
    for notice_id in ids:
        await send_notice_task.kiq(str(notice_id))
    if ids:
        log.info("sweep re-queued status messages", count=len(ids))
    return len(ids)


@broker.task(task_name="yimen.ping")
async def ping(payload: str) -> dict[str, object]:
    """Answer with the payload: proves a worker is consuming the queue end to end."""
    return {"payload": payload, "at": time.time()}


@broker.task(task_name="yimen.process_photo", retry_on_error=True, max_retries=3)
async def process_photo_task(photo_id: str) -> str:
    """Make a lead photo's copies and evidence."""
    from backend.intake.photos import process_lead_photo

    photo = await process_lead_photo(photo_id=uuid.UUID(photo_id), store=_state["store"])
    return photo.status.value if photo else "missing"


@broker.task(task_name="yimen.send_notice", retry_on_error=True, max_retries=3)
async def send_notice_task(notice_id: str) -> str:
    """Send one status message to a resident (skipped without consent)."""
    from backend.accounts.models import User
    from backend.notify.service import send_notice

    wechat = _state["wechat"]

    async def openid_of(user_id: uuid.UUID) -> str | None:
        user = await User.filter(id=user_id).first()
        return user.openid if user else None

    async def send(openid: str, template_id: str, page: str, data: dict[str, str]) -> str:
        return str(
            await wechat.send_subscribe(
                openid=openid, template_id=template_id, page=page, data=data
            )
        )

    notice = await send_notice(
        notice_id=uuid.UUID(notice_id),
        template_id=_state["settings"].wechat_status_template,
        openid_of=openid_of,
        send=send,
    )
    return notice.status.value if notice else "missing"
