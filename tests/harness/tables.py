"""Emptying the tables between tests, past the audit table's append-only triggers."""

from __future__ import annotations

from tortoise import Tortoise


async def empty_tables() -> None:
    """TRUNCATE every model's table as the superuser the tests connect as.

    The audit table refuses UPDATE, DELETE and TRUNCATE (migrations 0002 and 0008); the
    harness, and only the harness, sets session_replication_role so those triggers stay quiet
    for its one statement. The application never connects as a superuser in production.
    """
    models = list(Tortoise.apps.get_models_iterable())
    if not models:
        return
    db = models[0]._meta.db
    tables = ", ".join(f'"{m._meta.db_table}"' for m in models)
    await db.execute_script(
        "SET session_replication_role = replica; "
        f"TRUNCATE {tables} CASCADE; "
        "RESET session_replication_role;"
    )
