"""Leads: reports from grid workers and residents' help requests, their photos."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.indexes import Index
from tortoise.models import Model


class LeadSource(StrEnum):
    """Who sent a lead."""

    GRID_WORKER = "grid_worker"
    RESIDENT = "resident"


class LeadStatus(StrEnum):
    """Where a lead stands at the window (the machine is in backend.intake.triage)."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    REFERRED = "referred"
    CONVERTED = "converted"
    MERGED = "merged"
    CLOSED = "closed"


# Still waiting for the window's work; the rest are finished and never come back.
OPEN_STATUSES = frozenset({LeadStatus.RECEIVED, LeadStatus.ACKNOWLEDGED, LeadStatus.REFERRED})


class CloseReason(StrEnum):
    """Why a window closed a lead (the fixed list the console offers)."""

    NOT_IN_HARDSHIP = "not_in_hardship"
    ALREADY_ASSISTED = "already_assisted"
    UNREACHABLE = "unreachable"
    MOVED_AWAY = "moved_away"
    DUPLICATE = "duplicate"
    OTHER = "other"


class ReferralStatus(StrEnum):
    """Where a referral stands (overdue is derived from the due date, never stored)."""

    PENDING = "pending"
    DONE = "done"


def queue_rank(*, status: LeadStatus, urgent: bool) -> int:
    """The queue's first sort key: open before finished, urgent before the rest."""
    return (0 if status in OPEN_STATUSES else 2) + (0 if urgent else 1)


class PhotoStatus(StrEnum):
    """Where a photo stands in the pipeline."""

    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"


class Lead(Model):
    """A household in hardship reported to a township window (主动发现线索)."""

    id = fields.UUIDField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)
    source = fields.CharEnumField(LeadSource, max_length=16)
    reporter_id = fields.UUIDField(db_index=True)
    client_id = fields.UUIDField()
    # sha256 of the canonical request: a replay with other content is a conflict.
    request_hash = fields.CharField(max_length=64)
    status = fields.CharEnumField(LeadStatus, max_length=16, default=LeadStatus.RECEIVED)
    township_code = fields.CharField(max_length=9, null=True, db_index=True)
    county_code = fields.CharField(max_length=6, db_index=True)
    routed_by = fields.CharField(max_length=16)
    ambiguous = fields.BooleanField(default=False)
    # A grid worker's report whose place is not in their grid (accepted within their county).
    outside_grid = fields.BooleanField(default=False)
    subject_name = fields.CharField(max_length=64)
    subject_phone_enc = fields.TextField(null=True)
    subject_id_enc = fields.TextField(null=True)
    # Keyed hash of the normalised ID number: the same person across leads.
    subject_id_index = fields.CharField(max_length=64, null=True, db_index=True)
    subject_address = fields.CharField(max_length=255, default="")
    subject_village_code = fields.CharField(max_length=12, null=True)
    household_size = fields.IntField(null=True)
    hardship: fields.JSONField[list[str]] = fields.JSONField(default=list)
    description = fields.TextField()
    urgent = fields.BooleanField(default=False)
    # WGS-84, and what the phone sent beside it.
    lat = fields.FloatField(null=True)
    lng = fields.FloatField(null=True)
    accuracy_m = fields.FloatField(null=True)
    sent_location: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    h3_cell = fields.CharField(max_length=16, null=True, db_index=True)
    captured_at = fields.DatetimeField(null=True)
    observed_at = fields.DatetimeField()
    ack_due_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    version = fields.IntField(default=1)
    # Derived from status and urgent on every save: one ascending key the queue's index can
    # walk in order (urgent DESC, ack_due_at ASC cannot share one B-tree scan otherwise).
    queue_rank = fields.SmallIntField(default=1)
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by_id = fields.UUIDField(null=True)
    assigned_to_id = fields.UUIDField(null=True, db_index=True)
    assigned_at = fields.DatetimeField(null=True)
    # A home visit the window asked for: the reporting grid worker or the assigned investigator.
    home_visit_requested_at = fields.DatetimeField(null=True)
    home_visit_requested_by_id = fields.UUIDField(null=True)
    home_visit_note = fields.CharField(max_length=255, default="")
    home_visit_done_at = fields.DatetimeField(null=True)
    home_visit_done_by_id = fields.UUIDField(null=True)
    home_visit_result: str | None = fields.TextField(null=True)
    merged_into: fields.ForeignKeyNullableRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="merged_leads", null=True, on_delete=fields.SET_NULL
    )
    closed_reason = fields.CharEnumField(CloseReason, max_length=16, null=True)
    closed_note: str | None = fields.TextField(null=True)
    closed_at = fields.DatetimeField(null=True)
    closed_by_id = fields.UUIDField(null=True)
    # The township (or, for a county-level lead, the county) a transfer took it from.
    transferred_from = fields.CharField(max_length=9, null=True)
    transfer_reason = fields.CharField(max_length=255, null=True)
    # A resident's help request (source resident): for herself or someone else, how she knows
    # them, her own contact phone, and WeChat's content verdict "review" (a clerk looks twice).
    for_self = fields.BooleanField(default=False)
    subject_relation = fields.CharField(max_length=32, default="")
    contact_phone_enc = fields.TextField(null=True)
    content_review = fields.BooleanField(default=False)
    device_id = fields.CharField(max_length=64, null=True)

    merged_leads: fields.ReverseRelation[Lead]
    referrals: fields.ReverseRelation[Referral]

    class Meta:
        table = "intake_lead"
        unique_together = (("reporter_id", "client_id"),)
        indexes = (
            # The triage queue of a township window, and of a county (every lead has a county).
            Index(fields=("township_code", "queue_rank", "ack_due_at", "id")),
            Index(fields=("county_code", "queue_rank", "ack_due_at", "id")),
            # Counts per status, answered from the index alone.
            Index(fields=("township_code", "status")),
            Index(fields=("county_code", "status")),
        )

    async def save(
        self,
        using_db: BaseDBAsyncClient | None = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        """Save, keeping queue_rank in step with status and urgent."""
        self.queue_rank = queue_rank(status=LeadStatus(self.status), urgent=self.urgent)
        if update_fields is not None:
            update_fields = [*update_fields, "queue_rank"]
        await super().save(
            using_db=using_db,
            update_fields=update_fields,
            force_create=force_create,
            force_update=force_update,
        )


class LeadPhoto(Model):
    """A photo of a lead: the private original and, once processed, its copies and evidence."""

    id = fields.UUIDField(primary_key=True)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="photos", on_delete=fields.CASCADE
    )
    client_photo_id = fields.UUIDField()
    sha256 = fields.CharField(max_length=64)
    mime = fields.CharField(max_length=32)
    size = fields.IntField()
    original_key = fields.CharField(max_length=255)
    display_key = fields.CharField(max_length=255, null=True)
    thumb_key = fields.CharField(max_length=255, null=True)
    status = fields.CharEnumField(PhotoStatus, max_length=16, default=PhotoStatus.RECEIVED)
    attempts = fields.IntField(default=0)
    error = fields.CharField(max_length=255, null=True)
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    phash = fields.CharField(max_length=16, null=True, db_index=True)
    exif_lat = fields.FloatField(null=True)
    exif_lng = fields.FloatField(null=True)
    exif_time = fields.DatetimeField(null=True)
    exif_distance_m = fields.FloatField(null=True)
    exif_minutes_off = fields.FloatField(null=True)
    camera = fields.CharField(max_length=96, null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "intake_lead_photo"
        unique_together = (("lead", "client_photo_id"),)


class SuspectedDuplicate(Model):
    """Two leads that may be the same household, for a clerk to judge (never merged here)."""

    id = fields.IntField(primary_key=True)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="duplicates", on_delete=fields.CASCADE
    )
    other: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="duplicated_by", on_delete=fields.CASCADE
    )
    reasons: fields.JSONField[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "intake_suspected_duplicate"
        unique_together = (("lead", "other"),)


class LeadEvent(Model):
    """The lead's timeline as its sender sees it (received, routed, photo processed, ...)."""

    id = fields.BigIntField(primary_key=True)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="events", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField(auto_now_add=True)
    kind = fields.CharField(max_length=32)
    message = fields.CharField(max_length=255)
    # Who did it, for the console's timeline (the sender's view leaves it out).
    actor_label = fields.CharField(max_length=96, default="")
    # What a resident who sent the lead reads instead, where the message carries staff notes.
    public_message = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "intake_lead_event"


class Referral(Model):
    """A lead referred to a county department with a due date (转办), and its result."""

    id = fields.UUIDField(primary_key=True)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="referrals", on_delete=fields.CASCADE
    )
    county_code = fields.CharField(max_length=6)
    department_kind = fields.CharField(max_length=16)
    due_date = fields.DateField()
    note = fields.TextField()
    status = fields.CharEnumField(ReferralStatus, max_length=16, default=ReferralStatus.PENDING)
    result = fields.TextField(null=True)
    done_at = fields.DatetimeField(null=True)
    done_by_id = fields.UUIDField(null=True)
    created_by_id = fields.UUIDField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "intake_referral"
        indexes = (Index(fields=("county_code", "department_kind", "status", "due_date")),)


class Counter(Model):
    """Sequences for numbers people read out (township, year)."""

    key = fields.CharField(max_length=32, primary_key=True)
    value = fields.IntField(default=0)

    class Meta:
        table = "intake_counter"
