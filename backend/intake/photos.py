"""The photo task's work: copies without metadata, evidence, and reused-photo detection."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from backend.geo.coords import haversine_m
from backend.intake.models import OPEN_STATUSES, Lead, LeadEvent, LeadPhoto, PhotoStatus
from backend.intake.service import PHASH_NEAR, _record_duplicates, photo_key
from backend.logs import get_logger
from storage import ObjectStore
from storage.photos import PhotoRejected, phash_distance, process_photo

log = get_logger("yimen.intake.photos")
MAX_ATTEMPTS = 5
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def process_lead_photo(*, photo_id: uuid.UUID, store: ObjectStore) -> LeadPhoto | None:
    """Process one uploaded photo; running it again after success changes nothing."""
    photo = await LeadPhoto.filter(id=photo_id).prefetch_related("lead").first()
    if photo is None or photo.status != PhotoStatus.RECEIVED:
        return photo
    lead: Lead = photo.lead
    try:
        original = await store.get(photo.original_key)
        result = await asyncio.to_thread(process_photo, original)
    except PhotoRejected as exc:
        await _fail(photo, exc.message, final=True)
        return photo
    except Exception as exc:  # storage hiccup, killed decoder: try again later
        log.warning("photo processing failed", photo_id=str(photo.id), error=type(exc).__name__)
        await _fail(photo, type(exc).__name__, final=photo.attempts + 1 >= MAX_ATTEMPTS)
        return photo
    display_key = photo_key(lead, photo.id, "display.jpg")
    thumb_key = photo_key(lead, photo.id, "thumb.jpg")
    await store.put(display_key, result.display_bytes, content_type="image/jpeg")
    await store.put(thumb_key, result.thumb_bytes, content_type="image/jpeg")
    # Phones write local wall-clock time; without an offset tag, local means China.
    taken = result.captured_at(assume=SHANGHAI)
    async with in_transaction() as conn:
        fresh = await LeadPhoto.filter(id=photo.id).select_for_update().using_db(conn).get()
        if fresh.status != PhotoStatus.RECEIVED:
            return fresh  # another delivery of the task finished first
        # The lead as it is now: it may have been transferred while the photo was processed,
        # and a transfer waits for this lock (and rechecks its pairs) rather than racing us.
        lead = await _share_lead(lead.id, conn)
        fresh.display_key, fresh.thumb_key = display_key, thumb_key
        fresh.width, fresh.height = result.original_width, result.original_height
        fresh.phash = result.phash
        fresh.camera = result.camera
        fresh.exif_lat, fresh.exif_lng = result.exif_gps if result.exif_gps else (None, None)
        fresh.exif_time = taken
        if result.exif_gps and lead.lat is not None and lead.lng is not None:
            fresh.exif_distance_m = round(
                haversine_m(lead.lng, lead.lat, result.exif_gps[1], result.exif_gps[0]), 1
            )
        if taken is not None:
            fresh.exif_minutes_off = round((taken - lead.observed_at).total_seconds() / 60, 1)
        fresh.status = PhotoStatus.PROCESSED
        fresh.processed_at = datetime.now(UTC)
        fresh.attempts += 1
        fresh.error = None
        await fresh.save(using_db=conn)
        await LeadEvent.create(
            lead=lead, kind="photo_processed", message="照片已处理", using_db=conn
        )
        matches = await _reused_photos(lead, fresh, conn)
        await _record_duplicates(lead, matches, conn)
    return fresh


async def _share_lead(lead_id: uuid.UUID, conn: BaseDBAsyncClient) -> Lead:
    """The lead, locked against a transfer (or merge) until the transaction ends.

    FOR SHARE, not FOR UPDATE: two photo tasks lock each other's leads (a pair has two) and
    must not deadlock; a transfer's FOR UPDATE still waits for both.
    """
    await conn.execute_query("SELECT id FROM intake_lead WHERE id = $1 FOR SHARE", [lead_id])
    return await Lead.filter(id=lead_id).using_db(conn).get()


async def _still_in_window(
    lead: Lead, others: list[uuid.UUID], conn: BaseDBAsyncClient
) -> set[uuid.UUID]:
    """Those of the other leads still open in the lead's window, locked against a transfer.

    Postgres checks the condition again on a row it had to wait for, so a lead that was
    transferred meanwhile drops out here instead of being paired across windows.
    """
    if not others:
        return set()
    _, rows = await conn.execute_query(
        "SELECT id FROM intake_lead WHERE id = ANY($1::uuid[])"
        " AND township_code IS NOT DISTINCT FROM $2 AND county_code = $3"
        " AND status = ANY($4::text[]) ORDER BY id FOR SHARE",
        [
            sorted(others),
            lead.township_code,
            lead.county_code,
            sorted(s.value for s in OPEN_STATUSES),
        ],
    )
    return {uuid.UUID(str(row["id"])) for row in rows}


async def _reused_photos(
    lead: Lead, photo: LeadPhoto, conn: BaseDBAsyncClient
) -> list[tuple[Lead, list[str]]]:
    """Open leads of the lead's current window with a near-identical photo."""
    if not photo.phash:
        return []
    others = (
        await LeadPhoto.filter(
            lead__township_code=lead.township_code,
            lead__county_code=lead.county_code,
            status=PhotoStatus.PROCESSED,
            phash__isnull=False,
        )
        .exclude(lead_id=lead.id)
        .filter(lead__status__in=sorted(OPEN_STATUSES))
        .using_db(conn)
        .prefetch_related("lead")
        .limit(5000)
    )
    found: dict[uuid.UUID, tuple[Lead, list[str]]] = {}
    for other in others:
        if other.phash and phash_distance(photo.phash, other.phash) <= PHASH_NEAR:
            found.setdefault(other.lead.id, (other.lead, ["photo_hash"]))
    kept = await _still_in_window(lead, list(found), conn)
    return [match for other_id, match in found.items() if other_id in kept]


async def _fail(photo: LeadPhoto, reason: str, *, final: bool) -> None:
    photo.attempts += 1
    photo.error = reason[:255]
    if final:
        photo.status = PhotoStatus.FAILED
    await photo.save(update_fields=["attempts", "error", "status"])


async def photos_to_retry(*, older_than: timedelta) -> list[uuid.UUID]:
    """Photos still unprocessed after a while: their task was lost or their worker killed."""
    cutoff = datetime.now(UTC) - older_than
    rows = await LeadPhoto.filter(
        status=PhotoStatus.RECEIVED, created_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS
    ).limit(500)
    return [row.id for row in rows]
