"""Leads: reports from grid workers (and, later, residents' help requests), their photos."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class LeadSource(StrEnum):
    """Who sent a lead."""

    GRID_WORKER = "grid_worker"
    RESIDENT = "resident"


class LeadStatus(StrEnum):
    """Where a lead stands at the window."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


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

    class Meta:
        table = "intake_lead"
        unique_together = (("reporter_id", "client_id"),)


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

    class Meta:
        table = "intake_lead_event"


class Counter(Model):
    """Sequences for numbers people read out (township, year)."""

    key = fields.CharField(max_length=32, primary_key=True)
    value = fields.IntField(default=0)

    class Meta:
        table = "intake_counter"
