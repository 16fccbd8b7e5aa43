"""Status messages to residents: consents, the outbox, and sending one message once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from backend.logs import get_logger
from backend.notify.models import Notice, NoticeStatus, SubscribeConsent

log = get_logger("yimen.notify")
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_ATTEMPTS = 5
# WeChat counts each accepted one-time consent separately; a resident who taps "allow" many
# times does not need more than this many messages queued up.
MAX_CONSENTS = 50

# Send(openid, template_id, page, data) -> "sent" | "no_consent"; raises on other errors.
Sender = Callable[[str, str, str, dict[str, str]], Awaitable[str]]


def item_page(item_kind: str, item_id: uuid.UUID) -> str:
    """The mini-program page a message opens."""
    return f"resident/item/index?kind={item_kind}&id={item_id}"


async def record_consent(*, user_id: uuid.UUID, template_id: str, accepted: bool) -> int:
    """Count one more one-time consent (when accepted); answer how many are left."""
    async with in_transaction() as conn:
        row = (
            await SubscribeConsent.filter(user_id=user_id, template_id=template_id)
            .select_for_update()
            .using_db(conn)
            .first()
        )
        if row is None:
            row = await SubscribeConsent.create(
                user_id=user_id, template_id=template_id, remaining=0, using_db=conn
            )
        if accepted and row.remaining < MAX_CONSENTS:
            row.remaining += 1
            await row.save(using_db=conn, update_fields=["remaining", "updated_at"])
    return row.remaining


async def queue_notice(
    *,
    conn: BaseDBAsyncClient,
    user_id: uuid.UUID,
    item_kind: str,
    item_id: uuid.UUID,
    number: str,
    phrase: str,
    message: str,
    at: datetime | None = None,
) -> Notice:
    """Write a status message in the caller's transaction (sent after commit by a task)."""
    when = (at or datetime.now(UTC)).astimezone(SHANGHAI)
    return await Notice.create(
        id=uuid.uuid4(),
        user_id=user_id,
        item_kind=item_kind,
        item_id=item_id,
        page=item_page(item_kind, item_id),
        # The status template's keys; values are cut to WeChat's rules when sent.
        data={
            "character_string1": number,
            "phrase2": phrase,
            "time3": when.strftime("%Y-%m-%d %H:%M"),
            "thing4": message,
        },
        using_db=conn,
    )


async def pending_notices(
    *, older_than: timedelta = timedelta(0), limit: int = 200
) -> list[uuid.UUID]:
    """Messages not yet sent (the task was lost, WeChat failed, or they were just written)."""
    cutoff = datetime.now(UTC) - older_than
    rows = (
        await Notice.filter(
            status=NoticeStatus.PENDING, created_at__lte=cutoff, attempts__lt=MAX_ATTEMPTS
        )
        .order_by("created_at")
        .limit(limit)
        .values_list("id", flat=True)
    )
    return [uuid.UUID(str(r)) for r in rows]


async def send_notice(
    *,
    notice_id: uuid.UUID,
    template_id: str,
    openid_of: Callable[[uuid.UUID], Awaitable[str | None]],
    send: Sender,
) -> Notice | None:
    """Send one message if the resident has a consent left; a second run changes nothing.

    The notice row stays locked while WeChat answers, so two deliveries of the task cannot
    both send. No template configured, no consent, or WeChat's 43101 means skipped (never
    retried: the resident did not ask); other WeChat errors leave it pending for a retry.
    """
    error: Exception | None = None
    async with in_transaction() as conn:
        notice = await Notice.filter(id=notice_id).select_for_update().using_db(conn).first()
        if notice is None or notice.status != NoticeStatus.PENDING:
            return notice
        openid = await openid_of(notice.user_id)
        consent = (
            await SubscribeConsent.filter(user_id=notice.user_id, template_id=template_id)
            .select_for_update()
            .using_db(conn)
            .first()
            if template_id
            else None
        )
        if not template_id or not openid or consent is None or consent.remaining <= 0:
            notice.status = NoticeStatus.SKIPPED
            notice.error = "no template" if not template_id else "no consent"
            await notice.save(using_db=conn, update_fields=["status", "error"])
            return notice
        try:
            outcome = await send(openid, template_id, notice.page, dict(notice.data))
        except Exception as exc:  # WeChat down or refusing: counted below, after the lock goes
            error = exc
        else:
            if outcome == "no_consent":
                notice.status, notice.error = NoticeStatus.SKIPPED, "43101"
                consent.remaining = 0
            else:
                notice.status, notice.sent_at = NoticeStatus.SENT, datetime.now(UTC)
                consent.remaining = max(consent.remaining - 1, 0)
            notice.attempts += 1
            await consent.save(using_db=conn, update_fields=["remaining", "updated_at"])
            await notice.save(
                using_db=conn, update_fields=["status", "error", "sent_at", "attempts"]
            )
    if error is not None:
        return await _failed(notice, error)
    return notice


async def _failed(notice: Notice, exc: Exception) -> Notice:
    """Count a failed attempt outside the rolled-back transaction."""
    attempts = notice.attempts + 1
    status = NoticeStatus.FAILED if attempts >= MAX_ATTEMPTS else NoticeStatus.PENDING
    errcode = getattr(exc, "errcode", None)
    error = (f"wechat {errcode}" if errcode is not None else type(exc).__name__)[:255]
    log.warning("status message not sent", notice_id=str(notice.id), error=error)
    await Notice.filter(id=notice.id).update(attempts=attempts, status=status, error=error)
    notice.attempts, notice.status, notice.error = attempts, status, error
    return notice


async def list_notices(*, user_id: uuid.UUID) -> list[Notice]:
    """A resident's status messages, newest first (for tests and support)."""
    return await Notice.filter(user_id=user_id).order_by("-created_at").limit(100)
