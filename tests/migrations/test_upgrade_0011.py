"""Upgrading a database that already holds accepted applications to the decision clock (0011).

The column Tortoise would add NOT NULL without a default fails on a table with rows; and cases
accepted before the clock existed get one from their first 'accepted' event.
"""

from __future__ import annotations

import uuid

import asyncpg
import numpy as np

from tests.harness.cli import CliDb, ok, python, yimen

TO_0010 = """
import asyncio
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from backend.config import load_settings
from backend.db import tortoise_config

async def main():
    try:
        config = tortoise_config(load_settings())
        await migrate(config=config, target="models.0010_one_person_index")
    finally:
        await Tortoise.close_connections()

asyncio.run(main())
"""


def migrate_to_0010(cli: CliDb) -> None:
    ok(python(cli, "-c", TO_0010))


async def test_accepted_cases_get_their_clock_and_rows_survive(cli_db: CliDb) -> None:
    migrate_to_0010(cli_db)
    accepted, received = uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(cli_db.url)
    try:
        for app_id, number, status in (
            (accepted, "N-1", "accepted"),
            (received, "N-2", "received"),
        ):
            await conn.execute(
                "INSERT INTO cases_application (id, number, category, township_code, county_code,"
                " source, applicant_name, members, assets, reason, on_behalf,"
                " consent_signed_name, content_review, request_hash, status, created_by_id,"
                " created_at, updated_at, version) VALUES ($1, $2, 'dibao', '330523001',"
                " '330523', 'resident', '张三', '[]', '{}', '', false, '', false, '', $3, $4,"
                " now(), now(), 2)",
                app_id,
                number,
                status,
                uuid.uuid4(),
            )
        # Accepted at 10:00 Beijing time on Monday 28 September 2026.
        await conn.execute(
            "INSERT INTO cases_application_event (application_id, at, kind, message, actor_label)"
            " VALUES ($1, '2026-09-28T02:00:00Z', 'accepted', '窗口已受理', 'window_clerk:c')",
            accepted,
        )
    finally:
        await conn.close()
    ok(yimen(cli_db, "migrate"))
    conn = await asyncpg.connect(cli_db.url)
    try:
        rows = {
            r["id"]: r
            for r in await conn.fetch(
                "SELECT id, accepted_at, decision_due_at, extension_reason FROM cases_application"
            )
        }
    finally:
        await conn.close()
    assert rows[accepted]["accepted_at"].isoformat() == "2026-09-28T02:00:00+00:00"
    # No holidays configured: the 30th weekday after 28 Sep, at 17:30 Beijing (09:30 UTC).
    expected = np.busday_offset(np.datetime64("2026-09-28"), 30, roll="forward")
    assert str(expected) == "2026-11-09"
    assert rows[accepted]["decision_due_at"].isoformat() == "2026-11-09T09:30:00+00:00"
    assert rows[received]["accepted_at"] is None and rows[received]["decision_due_at"] is None
    assert rows[accepted]["extension_reason"] == "" == rows[received]["extension_reason"]
