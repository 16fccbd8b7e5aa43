"""The application's database role: rows yes, the audit table append-only, no DDL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from backend.db_roles import create_or_update_app_role
from tests.harness.services import Postgres


def _as(url: str, user: str, password: str) -> str:
    parts = urlsplit(url.replace("asyncpg://", "postgres://", 1))
    netloc = f"{user}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(("postgres", netloc, parts.path, "", ""))


@pytest.fixture
async def app_role(postgres: Postgres) -> AsyncIterator[str]:
    """A fresh application role on the test database, dropped afterwards."""
    role = f"yimen_app_{uuid.uuid4().hex[:8]}"
    yield role
    owner = await asyncpg.connect(postgres.url.replace("asyncpg://", "postgres://", 1))
    try:
        await owner.execute(f'DROP OWNED BY "{role}"')
        await owner.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await owner.close()


async def test_the_app_role_may_append_to_the_audit_table_only(
    postgres: Postgres, app_role: str
) -> None:
    password = "app-role-password-0123"
    for _ in range(2):  # idempotent: a second `up` runs it again
        await create_or_update_app_role(owner_dsn=postgres.url, role=app_role, password=password)
    app = await asyncpg.connect(_as(postgres.url, app_role, password))
    try:
        row = await app.fetchrow(
            "INSERT INTO integrity_audit_event (at, actor_label, action, entity, entity_id) "
            "VALUES (now(), 'test', 'role.check', 'test', $1) RETURNING id",
            app_role,
        )
        assert row is not None
        refused = [
            "UPDATE integrity_audit_event SET action = 'x'",
            "DELETE FROM integrity_audit_event",
            "TRUNCATE integrity_audit_event",
            "TRUNCATE accounts_user CASCADE",
            "CREATE TABLE intruder (id int)",
            "ALTER TABLE accounts_user ADD COLUMN intruder int",
            "DROP TABLE integrity_audit_event",
            "ALTER TABLE integrity_audit_event DISABLE TRIGGER ALL",
        ]
        for sql in refused:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute(sql)
        # Ordinary rows elsewhere: read, write, delete.
        assert await app.fetchval("SELECT count(*) FROM accounts_user") >= 0
        await app.execute("UPDATE accounts_user SET display_name = display_name WHERE false")
        await app.execute("DELETE FROM accounts_user WHERE false")
    finally:
        await app.close()
    # A table a later migration adds is covered by the default privileges.
    owner = await asyncpg.connect(postgres.url.replace("asyncpg://", "postgres://", 1))
    table = "later_table"
    try:
        await owner.execute(f'CREATE TABLE "{table}" (id serial PRIMARY KEY, v int)')
        app = await asyncpg.connect(_as(postgres.url, app_role, password))
        try:
            await app.execute("INSERT INTO later_table (v) VALUES (1)")
            await app.execute("UPDATE later_table SET v = 2")
        finally:
            await app.close()
    finally:
        await owner.execute(f'DROP TABLE "{table}"')
        await owner.close()
