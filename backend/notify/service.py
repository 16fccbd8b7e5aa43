"""Status messages to residents: consents, the outbox, and sending one message once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from backend.logs import get_logger
from backend.notify.models import Notice, NoticeStatus, SubscribeConsent

log = get_logger("yimen.notify")
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=2)  # longer than one WeChat call with its retries can take
RETRY_AFTER = timedelta(seconds=30)  # then 1, 2, 4 minutes
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
    try:
        # The row first, on its own: two first taps at once must not both try to create it.
        await SubscribeConsent.create(user_id=user_id, template_id=template_id, remaining=0)
    except IntegrityError:
        pass
    async with in_transaction() as conn:
        row = (
            await SubscribeConsent.filter(user_id=user_id, template_id=template_id)
            .select_for_update()
            .using_db(conn)
            .get()
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


async def pending_notices(*, limit: int = 200) -> list[uuid.UUID]:
    """Messages due for an attempt: pending past their backoff, or claimed by a task that died."""
    now = datetime.now(UTC)
    due = Q(status=NoticeStatus.PENDING, attempts__lt=MAX_ATTEMPTS) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(status=NoticeStatus.SENDING, lease_until__lt=now)
    rows = (
        await Notice.filter(due | abandoned)
        .order_by("created_at")
        .limit(limit)
        .values_list("id", flat=True)
    )
    return [uuid.UUID(str(r)) for r in rows]


async def fresh_notices(*, within: timedelta = timedelta(minutes=2)) -> list[uuid.UUID]:
    """Messages just written and never tried: what a console action has just queued."""
    since = datetime.now(UTC) - within
    rows = (
        await Notice.filter(status=NoticeStatus.PENDING, attempts=0, created_at__gte=since)
        .order_by("created_at")
        .limit(100)
        .values_list("id", flat=True)
    )
    return [uuid.UUID(str(r)) for r in rows]


async def _claim(
    notice_id: uuid.UUID,
    template_id: str,
    openid_of: Callable[[uuid.UUID], Awaitable[str | None]],
) -> tuple[Notice | None, str | None]:
    """Take a due message for one attempt, reserving one consent; (notice, None) when not."""
    now = datetime.now(UTC)
    async with in_transaction() as conn:
        notice = await Notice.filter(id=notice_id).select_for_update().using_db(conn).first()
        if notice is None:
            return None, None
        claimable = (
            notice.status == NoticeStatus.PENDING
            and (notice.next_attempt_at is None or notice.next_attempt_at <= now)
        ) or (
            notice.status == NoticeStatus.SENDING
            and notice.lease_until is not None
            and notice.lease_until < now
        )
        if not claimable:
            return notice, None
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
            return notice, None
        consent.remaining -= 1
        await consent.save(using_db=conn, update_fields=["remaining", "updated_at"])
        notice.status, notice.lease_until = NoticeStatus.SENDING, now + LEASE
        await notice.save(using_db=conn, update_fields=["status", "lease_until"])
    return notice, openid


async def send_notice(
    *,
    notice_id: uuid.UUID,
    template_id: str,
    openid_of: Callable[[uuid.UUID], Awaitable[str | None]],
    send: Sender,
) -> Notice | None:
    """Send one message if the resident has a consent left; a second run changes nothing.

    The message is claimed (and one consent reserved) in a short transaction, WeChat is called
    with no transaction open, and the outcome is written after. No template, no consent, or
    WeChat's 43101 means skipped (never retried: the resident did not ask); another error gives
    the consent back and leaves the message pending with a growing backoff.
    """
    notice, openid = await _claim(notice_id, template_id, openid_of)
    if notice is None or openid is None:
        return notice
    try:
        outcome = await send(openid, template_id, notice.page, dict(notice.data))
    except Exception as exc:  # WeChat down or refusing this message
        return await _failed(notice, template_id, exc)
    now = datetime.now(UTC)
    if outcome == "no_consent":
        # WeChat has no consent left whatever our count says: believe WeChat.
        await SubscribeConsent.filter(user_id=notice.user_id, template_id=template_id).update(
            remaining=0
        )
        await Notice.filter(id=notice.id).update(
            status=NoticeStatus.SKIPPED, error="43101", attempts=F("attempts") + 1
        )
    else:
        await Notice.filter(id=notice.id).update(
            status=NoticeStatus.SENT, sent_at=now, error=None, attempts=F("attempts") + 1
        )
    return await Notice.get(id=notice.id)


async def _failed(notice: Notice, template_id: str, exc: Exception) -> Notice:
    """Give the reserved consent back and schedule the next attempt (or give up)."""
    attempts = notice.attempts + 1
    status = NoticeStatus.FAILED if attempts >= MAX_ATTEMPTS else NoticeStatus.PENDING
    errcode = getattr(exc, "errcode", None)
    error = (f"wechat {errcode}" if errcode is not None else type(exc).__name__)[:255]
    log.warning("status message not sent", notice_id=str(notice.id), error=error)
    await SubscribeConsent.filter(user_id=notice.user_id, template_id=template_id).update(
        remaining=F("remaining") + 1
    )
    await Notice.filter(id=notice.id).update(
        attempts=F("attempts") + 1,
        status=status,
        error=error,
        next_attempt_at=datetime.now(UTC) + RETRY_AFTER * (2 ** (attempts - 1)),
        lease_until=None,
    )
    return await Notice.get(id=notice.id)


async def list_notices(*, user_id: uuid.UUID) -> list[Notice]:
    """A resident's status messages, newest first (for tests and support)."""
    return await Notice.filter(user_id=user_id).order_by("-created_at").limit(100)
