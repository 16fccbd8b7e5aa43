"""The append-only audit trail."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    """One state change: who, what, when, before and after. Never updated or deleted."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor_id = fields.UUIDField(null=True)
    actor_label = fields.CharField(max_length=96, default="")
    action = fields.CharField(max_length=64, db_index=True)
    entity = fields.CharField(max_length=32)
    entity_id = fields.CharField(max_length=64, db_index=True)
    # The division code the record belongs to, so supervisors see their own jurisdiction.
    jurisdiction = fields.CharField(max_length=12, null=True, db_index=True)
    before: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    after: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    request_id = fields.CharField(max_length=64, null=True)
    # Filled by the hash chain (sha256 over the previous hash and this row); null until then.
    prev_hash = fields.CharField(max_length=64, null=True)
    hash = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "integrity_audit_event"
