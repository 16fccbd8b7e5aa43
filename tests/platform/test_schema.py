"""What the models declare is what `yimen migrate` builds: every unique constraint and index.

A migration that silently drops a `unique_together` (as Tortoise's SQLite schema once did to
`UNIQUE (reporter_id, client_id)`, letting a storm of replays make six reports) fails here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from tortoise.models import Model

from tests.harness import models as model_fixtures
from tests.harness.cli import CliDb, ok, yimen

# The models, loaded without a connection (a fixture shared with the other schema test).
models = model_fixtures.models


@dataclass(frozen=True)
class LiveIndex:
    """One index as PostgreSQL has it."""

    table: str
    columns: tuple[str, ...]
    unique: bool
    partial: bool


LIVE_INDEXES = """
SELECT t.relname AS table_name,
       i.indisunique AS is_unique,
       i.indpred IS NOT NULL AS is_partial,
       array_agg(a.attname ORDER BY k.ord) AS columns
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
GROUP BY t.relname, i.indexrelid, i.indisunique, i.indpred
"""


@pytest.fixture
async def live(cli_db: CliDb) -> AsyncIterator[list[LiveIndex]]:
    """The indexes of a database that `yimen migrate` built from nothing."""
    ok(yimen(cli_db, "migrate"))
    conn = await asyncpg.connect(cli_db.url)
    try:
        rows = await conn.fetch(LIVE_INDEXES)
    finally:
        await conn.close()
    yield [
        LiveIndex(r["table_name"], tuple(r["columns"]), r["is_unique"], r["is_partial"])
        for r in rows
    ]


def _column(model: type[Model], name: str) -> str:
    meta = model._meta
    if name in meta.fields_db_projection:
        return meta.fields_db_projection[name]
    return meta.fields_map[name].source_field  # a foreign key: user -> user_id


def _declared(models: list[type[Model]]) -> tuple[set[tuple], set[tuple]]:
    """(table, columns) of every declared unique set and every declared index."""
    unique: set[tuple] = set()
    indexed: set[tuple] = set()
    for model in models:
        meta = model._meta
        table = meta.db_table
        for together in meta.unique_together:
            unique.add((table, tuple(sorted(_column(model, f) for f in together))))
        for index in meta.indexes:
            names = index.fields if hasattr(index, "fields") else index
            indexed.add((table, tuple(_column(model, f) for f in names)))
        for name, field in meta.fields_map.items():
            if field.pk or name not in meta.fields_db_projection:
                continue
            column = meta.fields_db_projection[name]
            if field.unique:
                unique.add((table, (column,)))
            elif field.index:
                indexed.add((table, (column,)))
    return unique, indexed


async def test_every_declared_unique_and_index_exists(
    live: list[LiveIndex], models: list[type[Model]]
) -> None:
    unique, indexed = _declared(models)
    # Sanity: the declarations the replay storm and the queue depend on are among them.
    assert ("intake_lead", ("client_id", "reporter_id")) in unique
    assert ("intake_lead", ("township_code", "queue_rank", "ack_due_at", "id")) in indexed
    live_unique = {(i.table, tuple(sorted(i.columns))) for i in live if i.unique and not i.partial}
    live_indexed = {(i.table, i.columns) for i in live}
    missing_unique = sorted(unique - live_unique)
    missing_index = sorted(
        (table, cols)
        for table, cols in indexed
        # A declared index is there when some index starts with exactly its columns.
        if not any(t == table and c[: len(cols)] == cols for t, c in live_indexed)
    )
    assert not missing_unique, f"declared unique, not in the schema: {missing_unique}"
    assert not missing_index, f"declared index, not in the schema: {missing_index}"


async def test_the_schema_has_no_unique_the_models_do_not_declare(
    live: list[LiveIndex], models: list[type[Model]]
) -> None:
    unique, _ = _declared(models)
    primary = {(m._meta.db_table, (m._meta.pk.source_field or m._meta.pk_attr,)) for m in models}
    extra = sorted(
        (i.table, tuple(sorted(i.columns)))
        for i in live
        if i.unique
        and not i.partial
        and (i.table, tuple(sorted(i.columns))) not in unique | primary
        and not i.table.startswith("tortoise")
    )
    assert not extra, f"unique in the schema, not declared by a model: {extra}"
