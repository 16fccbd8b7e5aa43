"""Residents' subscribe-message consents and the outbox of status messages."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class NoticeStatus(StrEnum):
    """Where a status message stands."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a task, until lease_until (then it may be claimed again)
    SENT = "sent"
    SKIPPED = "skipped"  # no consent left, or no template configured: never retried
    FAILED = "failed"


class SubscribeConsent(Model):
    """How many one-time consents a resident has given for a template (each allows one send)."""

    id = fields.IntField(primary_key=True)
    user_id = fields.UUIDField()
    template_id = fields.CharField(max_length=128)
    remaining = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "notify_subscribe_consent"
        unique_together = (("user_id", "template_id"),)


class Notice(Model):
    """One status message to one resident, written in the transaction of the change it tells."""

    id = fields.UUIDField(primary_key=True)
    user_id = fields.UUIDField(db_index=True)
    item_kind = fields.CharField(max_length=16)  # help | application
    item_id = fields.UUIDField()
    page = fields.CharField(max_length=255)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharEnumField(NoticeStatus, max_length=16, default=NoticeStatus.PENDING)
    attempts = fields.IntField(default=0)
    error = fields.CharField(max_length=255, null=True)
    # After a failed attempt: not before this (backoff).
    next_attempt_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notify_notice"
