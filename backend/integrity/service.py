"""The audit trail: the only writer of integrity_audit_event."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.integrity.models import AuditEvent
from backend.logs import get_logger
from backend.request_context import current_request_id

log = get_logger(__name__)


async def record_event(
    *,
    actor_id: uuid.UUID | None,
    actor_label: str,
    action: str,
    entity: str,
    entity_id: str,
    jurisdiction: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> AuditEvent:
    """Append one event; call it inside the transaction that makes the change."""
    event = await AuditEvent.create(
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        entity=entity,
        entity_id=entity_id,
        jurisdiction=jurisdiction,
        before=before,
        after=after,
        request_id=current_request_id(),
        using_db=using_db,
    )
    log.info("audit", action=action, entity=entity, entity_id=entity_id)
    return event


async def list_events(
    *,
    jurisdiction_prefix: str,
    entity: str | None = None,
    entity_id: str | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """Events under a jurisdiction prefix, newest first (keyset by id)."""
    query = AuditEvent.filter(jurisdiction__startswith=jurisdiction_prefix)
    if entity:
        query = query.filter(entity=entity)
    if entity_id:
        query = query.filter(entity_id=entity_id)
    if before_id:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)
