"""Intake: the only writer of leads, their photos, duplicates and timelines."""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from backend import kicks
from backend.accounts.authz import Principal, covers
from backend.accounts.models import User
from backend.accounts.service import resident_phone
from backend.crypto import PiiCipher
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.geo.coords import haversine_m, to_wgs84
from backend.geo.models import Division
from backend.intake.catalog import MAX_PHOTOS_PER_LEAD, URGENT_TAGS
from backend.intake.models import (
    OPEN_STATUSES,
    Lead,
    LeadEvent,
    LeadPhoto,
    LeadSource,
    SuspectedDuplicate,
)
from backend.intake.schemas import HelpRequestIn, PointIn, ReportIn
from backend.integrity.service import record_event
from backend.numbering import fingerprint, next_number
from backend.people.identity import person_index_optional
from backend.uploads import CappedUpload
from backend.workdays import WorkCalendar

H3_RESOLUTION = 10  # cells of about 66 m across: two rings reach past 150 m
NEARBY_M = 150.0
SIMILAR = 0.8
PHASH_NEAR = 8  # bits of 64
MAX_DUPLICATES = 20
ID_PURPOSE = "lead.subject.id"
PHONE_PURPOSE = "lead.subject.phone"

AfterCommit = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Routed:
    """Where a lead goes, and which rule decided."""

    township_code: str | None
    county_code: str
    routed_by: str
    ambiguous: bool


@dataclass(frozen=True)
class IntakePolicy:
    """The configurable numbers of intake."""

    calendar: WorkCalendar
    urgent_hours: int = 24
    working_days: int = 3

    def ack_due(self, *, urgent: bool, now: datetime) -> datetime:
        """When the window must have acknowledged a lead."""
        if urgent:
            return now + timedelta(hours=self.urgent_hours)
        return self.calendar.add_working_days(now, self.working_days)


def request_hash(report_in: ReportIn, cipher: PiiCipher) -> str:
    """A fingerprint of what the phone sent (client_id included), for replay checks."""
    return fingerprint(report_in, cipher)


def is_urgent(report_in: ReportIn) -> bool:
    """The flag, or a tag that cannot wait."""
    return report_in.urgent or bool(URGENT_TAGS & set(report_in.hardship))


def _similar(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    return bool(a and b) and difflib.SequenceMatcher(None, a, b).ratio() >= SIMILAR


async def _find_duplicates(lead: Lead, conn: Any) -> list[tuple[Lead, list[str]]]:
    """Open leads of the same window that look like the same household."""
    scope = (
        Lead.filter(township_code=lead.township_code)
        if lead.township_code
        else Lead.filter(county_code=lead.county_code, township_code=None)
    )
    # Merged, converted and closed leads are settled: a new report is not their duplicate.
    scope = scope.exclude(id=lead.id).filter(status__in=sorted(OPEN_STATUSES)).using_db(conn)
    found: dict[uuid.UUID, tuple[Lead, list[str]]] = {}
    if lead.subject_id_index:
        for other in await scope.filter(subject_id_index=lead.subject_id_index).limit(20):
            found[other.id] = (other, ["same_person"])
    if lead.h3_cell and lead.lat is not None and lead.lng is not None:
        cells = list(h3.grid_disk(lead.h3_cell, 2))
        nearby = await scope.filter(h3_cell__in=cells).order_by("-created_at").limit(200)
        for other in nearby:
            if other.lat is None or other.lng is None:
                continue
            if haversine_m(lead.lng, lead.lat, other.lng, other.lat) > NEARBY_M:
                continue
            if _similar(lead.subject_name, other.subject_name) or _similar(
                lead.subject_address, other.subject_address
            ):
                entry = found.setdefault(other.id, (other, []))
                entry[1].append("nearby_similar")
    # A clerk compares a handful side by side; past that the list says nothing more.
    return list(found.values())[:MAX_DUPLICATES]


async def _record_duplicates(lead: Lead, matches: list[tuple[Lead, list[str]]], conn: Any) -> None:
    for other, reasons in matches:
        existing = await SuspectedDuplicate.filter(lead=lead, other=other).using_db(conn).first()
        if existing is None:
            await SuspectedDuplicate.create(lead=lead, other=other, reasons=reasons, using_db=conn)
        elif not set(reasons) <= set(existing.reasons):
            existing.reasons = sorted(set(existing.reasons) | set(reasons))
            await existing.save(using_db=conn, update_fields=["reasons"])


async def recheck_duplicates(*, lead: Lead, conn: Any) -> tuple[list[str], list[str]]:
    """After a lead moved: drop its pairs with other windows' leads, look again where it is now.

    A suspected duplicate pairs two leads of one window, the only place both can be opened and
    merged. Returns the numbers of the leads unpaired and of those newly paired.
    """
    links = (
        await SuspectedDuplicate.filter(Q(lead_id=lead.id) | Q(other_id=lead.id))
        .using_db(conn)
        .prefetch_related("lead", "other")
    )
    dropped: list[str] = []
    kept: set[uuid.UUID] = set()
    for link in links:
        other = link.other if link.lead.id == lead.id else link.lead
        if (other.township_code, other.county_code) == (lead.township_code, lead.county_code):
            kept.add(other.id)
            continue
        dropped.append(other.number)
        await link.delete(using_db=conn)
    matches = [m for m in await _find_duplicates(lead, conn) if m[0].id not in kept]
    await _record_duplicates(lead, matches, conn)
    return sorted(dropped), sorted(other.number for other, _ in matches)


async def submit_report(
    *,
    report_in: ReportIn,
    reporter: Principal,
    cipher: PiiCipher,
    policy: IntakePolicy,
    router: Callable[..., Awaitable[Routed]],
) -> tuple[Lead, bool]:
    """File a grid worker's report; a replay returns the first lead (created False)."""
    digest = request_hash(report_in, cipher)
    existing = await Lead.filter(
        reporter_id=reporter.user_id, client_id=report_in.client_id
    ).first()
    if existing is not None:
        return _replayed(existing, digest), False
    subject = report_in.subject
    point, routed = await _locate(
        location=report_in.location,
        village_code=subject.village_code,
        reporter=reporter,
        router=router,
    )
    # After _locate, so an unknown code is told as unknown (422) rather than as not yours.
    ensure_village_in_grid(reporter=reporter, village_code=subject.village_code)
    ensure_routed_in_county(reporter=reporter, routed=routed)
    outside_grid = is_outside_grid(reporter=reporter, routed=routed)
    urgent = is_urgent(report_in)
    return await _file_lead(
        reporter=reporter,
        client_id=report_in.client_id,
        fingerprint=digest,
        routed=routed,
        policy=policy,
        location=report_in.location,
        point=point,
        values={
            "source": LeadSource.GRID_WORKER,
            "outside_grid": outside_grid,
            "subject_name": subject.name,
            "subject_phone_enc": cipher.encrypt_optional(subject.phone, purpose=PHONE_PURPOSE),
            "subject_id_enc": cipher.encrypt_optional(subject.id_number, purpose=ID_PURPOSE),
            "subject_id_index": person_index_optional(cipher=cipher, id_number=subject.id_number),
            "subject_address": subject.address or "",
            "subject_village_code": subject.village_code,
            "household_size": subject.household_size,
            "hardship": report_in.hardship,
            "description": report_in.description,
            "urgent": urgent,
            "observed_at": report_in.observed_at,
        },
    )


def worker_county(reporter: Principal) -> str | None:
    """The county a grid worker works in: of their township, else of their grid's villages."""
    county = (reporter.jurisdiction or "")[:6]
    if len(county) == 6:
        return county
    counties = {village[:6] for village in reporter.villages}
    return counties.pop() if len(counties) == 1 else None


def ensure_village_in_grid(*, reporter: Principal, village_code: str | None) -> None:
    """403 unless a chosen village is one of the worker's grid (no filing into other windows)."""
    if village_code and village_code not in reporter.villages:
        raise Forbidden(
            f"村（社区）{village_code} 不在您的网格内，只能选择本网格的村（社区）；"
            "确需上报网格外的情况，请在现场开启定位后上报",
            type_slug="outside-grid",
            title="不在您的网格内",
        )


def ensure_routed_in_county(*, reporter: Principal, routed: Routed) -> None:
    """403 when a report lies outside the worker's county.

    A worker who meets a household just past the grid's edge may still report it by GPS (the
    window of that place receives it, marked 网格外 for the clerk); past the county it is not
    their work, and accepting it would let anyone file into any window in the country.
    """
    county = worker_county(reporter)
    if county is None or routed.county_code != county:
        raise Forbidden(
            "定位不在您网格所在的县（市、区）内，不能上报；请联系当地的网格员或乡镇（街道）受理窗口",
            type_slug="outside-county",
            title="不在您的工作范围内",
        )


def is_outside_grid(*, reporter: Principal, routed: Routed) -> bool:
    """Whether a report routed to a township the worker's grid does not reach (网格外)."""
    return not (routed.township_code and covers(reporter, routed.township_code))


QUICK_HELP_DESCRIPTION = "居民通过小程序“一键求助”发出求助，请尽快电话联系并核实情况"
UNDESCRIBED_HELP_DESCRIPTION = "居民未填写具体情况，请电话联系了解"


async def submit_help_request(
    *,
    help_in: HelpRequestIn,
    resident: Principal,
    cipher: PiiCipher,
    policy: IntakePolicy,
    router: Callable[..., Awaitable[Routed]],
    before_create: Callable[[], Awaitable[bool]],
) -> tuple[Lead, bool]:
    """File a resident's help request as a lead; a replay returns the first (created False).

    before_create runs only for a new request (rate limits, WeChat's content check) and says
    whether the text needs a clerk's second look.
    """
    digest = fingerprint(help_in, cipher)
    existing = await Lead.filter(reporter_id=resident.user_id, client_id=help_in.client_id).first()
    if existing is not None:
        return _replayed(existing, digest), False
    subject = help_in.subject
    # For someone else the chosen village is where they are, the phone only where she is; for
    # herself the phone is where she is (急难型 help goes there), a border aside.
    point, routed = await _locate(
        location=help_in.location,
        village_code=subject.village_code,
        reporter=resident,
        router=router,
        village_first=not help_in.for_self,
    )
    if routed.township_code is None and routed.county_code == UNKNOWN_COUNTY:
        raise ValidationFailed(
            "无法根据定位确定您所在的乡镇（街道），请选择所在的村（社区）后再发送",
            type_slug="not-routable",
            errors=[{"field": "subject.village_code", "message": "请选择所在村（社区）"}],
        )
    review = await before_create()
    user = await User.filter(id=resident.user_id).first()
    own_phone = resident_phone(user, cipher) if user is not None else None
    contact = help_in.contact_phone or own_phone
    if help_in.for_self:
        name = subject.name or (resident.display_name if resident.display_name != "居民" else "")
        phone = subject.phone or contact
    else:
        name, phone = subject.name or "", subject.phone
    urgent = help_in.quick or help_in.urgent or bool(URGENT_TAGS & set(help_in.hardship))
    return await _file_lead(
        reporter=resident,
        client_id=help_in.client_id,
        fingerprint=digest,
        routed=routed,
        policy=policy,
        location=help_in.location,
        point=point,
        values={
            "source": LeadSource.RESIDENT,
            "subject_name": name or "求助人",
            "subject_phone_enc": cipher.encrypt_optional(phone, purpose=PHONE_PURPOSE),
            "subject_address": subject.address or "",
            "subject_village_code": subject.village_code,
            "hardship": help_in.hardship,
            "description": help_in.description
            or (QUICK_HELP_DESCRIPTION if help_in.quick else UNDESCRIBED_HELP_DESCRIPTION),
            "urgent": urgent,
            "observed_at": datetime.now(UTC),
            "for_self": help_in.for_self,
            "subject_relation": "" if help_in.for_self else (help_in.relation or ""),
            "contact_phone_enc": cipher.encrypt_optional(contact, purpose=PHONE_PURPOSE),
            "content_review": review,
            "device_id": help_in.device_id,
        },
    )


UNKNOWN_COUNTY = "000000"


async def _locate(
    *,
    location: PointIn | None,
    village_code: str | None,
    reporter: Principal,
    router: Callable[..., Awaitable[Routed]],
    village_first: bool = False,
) -> tuple[tuple[float, float] | None, Routed]:
    """The point in WGS-84 and where it routes (the chosen village must exist).

    The point is returned (and stored on the lead) whichever rule decided: it is evidence.
    """
    if village_code and await Division.filter(code=village_code, abolished=False).first() is None:
        raise ValidationFailed(
            f"村（社区）代码 {village_code} 不存在或已撤销",
            errors=[{"field": "subject.village_code", "message": "不存在或已撤销"}],
        )
    point = to_wgs84(location.lng, location.lat, location.coord_type) if location else None
    routed = await router(
        point=point,
        accuracy_m=location.accuracy_m if location else None,
        village_code=village_code,
        reporter=reporter,
        village_first=village_first,
    )
    return point, routed


async def _file_lead(
    *,
    reporter: Principal,
    client_id: uuid.UUID,
    fingerprint: str,
    routed: Routed,
    policy: IntakePolicy,
    location: PointIn | None,
    point: tuple[float, float] | None,
    values: dict[str, Any],
) -> tuple[Lead, bool]:
    """Write a new lead with its timeline, duplicates and audit row in one transaction."""
    now = datetime.now(UTC)
    number = await next_number(routed.township_code or f"{routed.county_code}000", now.year)
    try:
        async with in_transaction() as conn:
            lead = await Lead.create(
                id=uuid.uuid4(),
                number=number,
                reporter_id=reporter.user_id,
                client_id=client_id,
                request_hash=fingerprint,
                township_code=routed.township_code,
                county_code=routed.county_code,
                routed_by=routed.routed_by,
                ambiguous=routed.ambiguous,
                lat=point[1] if point else None,
                lng=point[0] if point else None,
                accuracy_m=location.accuracy_m if location else None,
                sent_location=location.model_dump(mode="json") if location else None,
                h3_cell=h3.latlng_to_cell(point[1], point[0], H3_RESOLUTION) if point else None,
                captured_at=location.captured_at if location else None,
                ack_due_at=policy.ack_due(urgent=values["urgent"], now=now),
                using_db=conn,
                **values,
            )
            await LeadEvent.create(
                lead=lead, kind="received", message=_received_message(lead), using_db=conn
            )
            await _record_duplicates(lead, await _find_duplicates(lead, conn), conn)
            await record_event(
                actor_id=reporter.user_id,
                actor_label=reporter.label,
                action="lead.create",
                entity="lead",
                entity_id=str(lead.id),
                jurisdiction=lead.township_code or lead.county_code,
                after={
                    "number": lead.number,
                    "source": lead.source.value,
                    "township": lead.township_code,
                    "routed_by": lead.routed_by,
                    "ambiguous": lead.ambiguous,
                    "outside_grid": lead.outside_grid,
                    "hardship": lead.hardship,
                    "urgent": lead.urgent,
                },
                using_db=conn,
            )
    except IntegrityError:
        # The same client_id raced in twice: the first one won.
        existing = await Lead.filter(reporter_id=reporter.user_id, client_id=client_id).first()
        if existing is None:
            raise
        return _replayed(existing, fingerprint), False
    return lead, True


def _replayed(existing: Lead, fingerprint: str) -> Lead:
    if existing.request_hash != fingerprint:
        what = "求助" if existing.source == LeadSource.RESIDENT else "报告"
        raise Conflict(
            f"这个编号（client_id）已用于另一份内容不同的{what}；新{what}请使用新的 client_id",
            type_slug="client-id-reused",
        )
    return existing


def _received_message(lead: Lead) -> str:
    if lead.township_code is None:
        return "已收到，暂未确定所属乡镇（街道），由县级统一分派"
    return "已收到，已分派到所属乡镇（街道）受理窗口"


async def get_lead_for_reporter(*, lead_id: uuid.UUID, reporter: Principal) -> Lead:
    """A lead the caller reported, or 404 (others' leads do not exist for them)."""
    lead = await Lead.filter(id=lead_id, reporter_id=reporter.user_id).first()
    if lead is None:
        raise NotFound("找不到这份报告")
    return lead


async def list_leads_for_reporter(
    *, reporter: Principal, before: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Lead]:
    """The caller's leads, newest first, keyset-paginated on (created_at, id)."""
    query = Lead.filter(reporter_id=reporter.user_id)
    if before is not None:
        at, lead_id = before
        query = query.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=lead_id))
    return await query.order_by("-created_at", "-id").limit(limit)


async def has_suspected_duplicate(*, lead: Lead) -> bool:
    """Whether any lead is suspected to be the same household (the reporter learns no more)."""
    return await SuspectedDuplicate.filter(Q(lead_id=lead.id) | Q(other_id=lead.id)).exists()


async def get_duplicates(*, lead: Lead) -> list[tuple[Lead, list[str]]]:
    """The suspected duplicates of a lead, both directions."""
    rows = await SuspectedDuplicate.filter(lead=lead).prefetch_related("other")
    back = await SuspectedDuplicate.filter(other=lead).prefetch_related("lead")
    result: dict[uuid.UUID, tuple[Lead, list[str]]] = {}
    for row in rows:
        result[row.other.id] = (row.other, list(row.reasons))
    for row in back:
        entry = result.setdefault(row.lead.id, (row.lead, []))
        entry[1].extend(r for r in row.reasons if r not in entry[1])
    return list(result.values())


async def list_events(*, lead: Lead) -> list[LeadEvent]:
    """The lead's timeline, oldest first."""
    return await LeadEvent.filter(lead=lead).order_by("id")


async def list_photos(*, lead: Lead) -> list[LeadPhoto]:
    """The lead's photos in upload order."""
    return await LeadPhoto.filter(lead=lead).order_by("created_at", "id")


def photo_key(lead: Lead, photo_id: uuid.UUID, variant: str) -> str:
    """Where a photo's variant lives in the object store."""
    return f"leads/{lead.id}/photos/{photo_id}/{variant}"


async def add_photo(
    *,
    lead: Lead,
    client_photo_id: uuid.UUID,
    data: bytes,
    mime: str,
    reporter: Principal,
    put_original: Callable[[str, bytes, str], Awaitable[None]],
    max_photos: int = MAX_PHOTOS_PER_LEAD,
) -> tuple[LeadPhoto, bool]:
    """Keep a photo's original; a retry of the same photo answers the first (created False)."""

    async def audit(photo_id: uuid.UUID, conn: BaseDBAsyncClient) -> None:
        await record_event(
            actor_id=reporter.user_id,
            actor_label=reporter.label,
            action="lead.photo_add",
            entity="lead",
            entity_id=str(lead.id),
            jurisdiction=lead.township_code or lead.county_code,
            after={"photo_id": str(photo_id), "size": len(data), "mime": mime},
            using_db=conn,
        )

    uploads = CappedUpload(
        model=LeadPhoto,
        record_field="lead",
        cap=max_photos,
        cap_message=f"每份最多 {max_photos} 张照片",
    )
    photo, created = await uploads.add(
        record=lead,
        client_photo_id=client_photo_id,
        data=data,
        mime=mime,
        key_for=lambda photo_id: photo_key(lead, photo_id, "original"),
        put_original=put_original,
        audit=audit,
    )
    if created:  # committed: its processing is queued now, not at the next sweep
        await kicks.photo_stored(photo.id)
    return photo, created
