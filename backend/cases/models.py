"""An application for assistance at a township window, minimal until the case workflow exists."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from backend.intake.models import Lead


class ApplicationStatus(StrEnum):
    """Where an application stands (only the first state exists so far)."""

    RECEIVED = "received"


class Application(Model):
    """An application of one category, filed at a window (by the window itself for 代为申请)."""

    id = fields.UUIDField(primary_key=True)
    # <township>-SQ-<year>-<seq>: read out over the phone like a lead's number.
    number = fields.CharField(max_length=32, unique=True)
    category = fields.CharField(max_length=16)
    township_code = fields.CharField(max_length=9, db_index=True)
    lead: fields.ForeignKeyNullableRelation[Lead] = fields.ForeignKeyField(
        "models.Lead", related_name="applications", null=True, on_delete=fields.SET_NULL
    )
    applicant_name = fields.CharField(max_length=64)
    status = fields.CharEnumField(
        ApplicationStatus, max_length=16, default=ApplicationStatus.RECEIVED
    )
    created_by_id = fields.UUIDField()
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "cases_application"
