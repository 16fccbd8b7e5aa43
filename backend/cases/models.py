"""Applications for assistance at a township window, their supporting photos and timeline."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from backend.intake.models import Lead


class ApplicationStatus(StrEnum):
    """Where an application stands (the workflow past acceptance comes with the case issue)."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    MATERIALS_REQUESTED = "materials_requested"
    REFUSED = "refused"


class ApplicationSource(StrEnum):
    """Who filed an application."""

    WINDOW = "window"  # a clerk, from a lead (代为申请)
    RESIDENT = "resident"  # the mini-program


class Application(Model):
    """An application of one category, filed at the window of the applicant's 户籍 township."""

    id = fields.UUIDField(primary_key=True)
    # <township>-SQ-<year>-<seq>: read out over the phone like a lead's number.
    number = fields.CharField(max_length=32, unique=True)
    category = fields.CharField(max_length=16)
    township_code = fields.CharField(max_length=9, db_index=True)
    county_code = fields.CharField(max_length=6, default="", db_index=True)
    source = fields.CharEnumField(
        ApplicationSource, max_length=16, default=ApplicationSource.WINDOW
    )
    lead: fields.ForeignKeyNullableRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="applications", null=True, on_delete=fields.SET_NULL
    )
    applicant_name = fields.CharField(max_length=64)
    applicant_id_enc = fields.TextField(null=True)
    applicant_id_index = fields.CharField(max_length=64, null=True, db_index=True)
    applicant_phone_enc = fields.TextField(null=True)
    # Household members: name, relation, and the ID number encrypted with its blind index.
    members: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    income_monthly_fen = fields.BigIntField(null=True)
    assets: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    hukou_village_code = fields.CharField(max_length=12, null=True)
    reason = fields.TextField(default="")
    on_behalf = fields.BooleanField(default=False)
    # 授权: the applicant's consent to the household economic check, and the name signed.
    consent_at = fields.DatetimeField(null=True)
    consent_signed_name = fields.CharField(max_length=64, default="")
    content_review = fields.BooleanField(default=False)
    # The resident who sent it from the mini-program, with the phone's idempotency key.
    resident_id = fields.UUIDField(null=True, db_index=True)
    client_id = fields.UUIDField(null=True)
    request_hash = fields.CharField(max_length=64, default="")
    # The clock: from acceptance, 30 working days, once extended to 45 by the township head.
    accepted_at = fields.DatetimeField(null=True)
    decision_due_at = fields.DatetimeField(null=True, db_index=True)
    extended_at = fields.DatetimeField(null=True)
    extension_reason = fields.CharField(max_length=200, default="")
    status = fields.CharEnumField(
        ApplicationStatus, max_length=24, default=ApplicationStatus.RECEIVED
    )
    created_by_id = fields.UUIDField()
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    version = fields.IntField(default=1)

    events: fields.ReverseRelation[ApplicationEvent]
    documents: fields.ReverseRelation[ApplicationDocument]

    class Meta:
        table = "cases_application"
        unique_together = (("resident_id", "client_id"),)


class ApplicationEvent(Model):
    """The application's timeline as the applicant reads it."""

    id = fields.BigIntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="events", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField(auto_now_add=True)
    kind = fields.CharField(max_length=32)
    message = fields.CharField(max_length=255)
    actor_label = fields.CharField(max_length=96, default="")

    class Meta:
        table = "cases_application_event"


class ApplicationDocument(Model):
    """A supporting photo of an application (kept private, clerks see it by presigned link)."""

    id = fields.UUIDField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="documents", on_delete=fields.CASCADE
    )
    client_photo_id = fields.UUIDField()
    sha256 = fields.CharField(max_length=64)
    mime = fields.CharField(max_length=32)
    size = fields.IntField()
    original_key = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "cases_application_document"
        unique_together = (("application", "client_photo_id"),)
