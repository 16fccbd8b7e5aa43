"""The audit trail is written with each change and cannot be rewritten."""

from __future__ import annotations

import uuid

import pytest
from tortoise.transactions import in_transaction

from backend.integrity.models import AuditEvent
from backend.integrity.service import list_events, record_event


async def _event(jurisdiction: str, action: str = "test.change") -> AuditEvent:
    return await record_event(
        actor_id=uuid.uuid4(),
        actor_label="window_clerk:测试",
        action=action,
        entity="thing",
        entity_id="42",
        jurisdiction=jurisdiction,
        before={"a": 1},
        after={"a": 2},
    )


async def test_record_and_list_by_jurisdiction(db: None) -> None:
    await _event("330523001")
    await _event("330523002")
    await _event("330522100")
    events = await list_events(jurisdiction_prefix="330523")
    assert [e.jurisdiction for e in events] == ["330523002", "330523001"]  # newest first
    assert events[0].before == {"a": 1} and events[0].after == {"a": 2}
    assert len(await list_events(jurisdiction_prefix="330523001")) == 1


async def test_keyset_pagination(db: None) -> None:
    for _ in range(5):
        await _event("330523001")
    first = await list_events(jurisdiction_prefix="3305", limit=2)
    second = await list_events(jurisdiction_prefix="3305", limit=2, before_id=first[-1].id)
    assert len(first) == len(second) == 2
    assert max(e.id for e in second) < min(e.id for e in first)


async def test_update_is_refused_by_the_database(db: None) -> None:
    event = await _event("330523001")
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.filter(id=event.id).update(action="forged")
    assert (await AuditEvent.get(id=event.id)).action == "test.change"


async def test_delete_is_refused_by_the_database(db: None) -> None:
    event = await _event("330523001")
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.filter(id=event.id).delete()
    assert await AuditEvent.filter(id=event.id).exists()


async def test_truncate_is_refused_by_the_database(db: None) -> None:
    from tortoise import connections

    event = await _event("330523001")
    with pytest.raises(Exception, match="append-only"):
        await connections.get("default").execute_script("TRUNCATE integrity_audit_event")
    assert await AuditEvent.filter(id=event.id).exists()


async def test_event_rolls_back_with_its_change(db: None) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with in_transaction() as conn:
            await record_event(
                actor_id=None,
                actor_label="cli",
                action="x",
                entity="thing",
                entity_id="1",
                jurisdiction="330523001",
                using_db=conn,
            )
            raise Boom
    assert await AuditEvent.all().count() == 0
