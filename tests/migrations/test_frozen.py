"""The migrations are frozen: they carry their own enums, agree with the models, and replay.

An old migration must replay the same way whatever later happens to the domain, so it imports
nothing from it (the "migrations-frozen" import-linter contract in `make lint` enforces that):
the enums a migration's `CharEnumField`s need are copies inside the migration file, with the
members they had when it was written. The checks here are that each copy is faithful to what
the migration itself wrote down, that replaying them all still lands exactly on the models
(Tortoise's autodetector finds nothing to migrate), and that an empty database replayed by
`yimen migrate` has the tables and columns the models declare.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from enum import Enum
from types import ModuleType
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.fields.data import CharEnumFieldInstance, CharField
from tortoise.migrations import operations as ops
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.models import Model

import backend.migrations
from backend.db import MODEL_MODULES
from tests.harness import models as model_fixtures
from tests.harness.cli import CliDb, ok, yimen

APPS = {
    "models": {
        "models": MODEL_MODULES,
        "default_connection": "default",
        "migrations": "backend.migrations",
    }
}

# The models, loaded without a connection (a fixture shared with the other schema test).
models = model_fixtures.models


def _migrations() -> list[ModuleType]:
    names = sorted(m.name for m in pkgutil.iter_modules(backend.migrations.__path__))
    return [importlib.import_module(f"backend.migrations.{name}") for name in names]


def _fields(migration: ModuleType) -> Iterator[tuple[str, Any]]:
    """(model.field, field) of every field a migration creates or alters."""
    for op in migration.Migration.operations:
        if isinstance(op, ops.CreateModel):
            for name, field in op.fields:
                yield f"{op.name}.{name}", field
        elif isinstance(op, ops.AddField | ops.AlterField):
            yield f"{op.model_name}.{op.name}", op.field


def test_every_migrated_enum_is_a_copy_frozen_in_its_migration() -> None:
    seen = 0
    for migration in _migrations():
        for where, field in _fields(migration):
            if not isinstance(field, CharEnumFieldInstance):
                continue
            seen += 1
            enum_type: type[Enum] = field.enum_type
            label = f"{migration.__name__}: {where}"
            assert enum_type.__module__ == migration.__name__, f"{label} uses a live enum"
            # The members are those the migration wrote into the column's description.
            members = "\n".join(f"{e.name}: {e.value}" for e in enum_type)
            assert members == field.description, label
            assert all(len(str(e.value)) <= field.max_length for e in enum_type), label
            if field.default is not None:
                assert field.default in enum_type, label
    assert seen == 14  # 0001, 0004-0007: every CharEnumField the migrations hold


async def test_the_migrations_replay_to_exactly_the_models() -> None:
    """`tortoise makemigrations` would write nothing: models and migrations agree field by field."""
    await Tortoise.init(
        config={
            "connections": {"default": "asyncpg://postgres@127.0.0.1:5432/unused"},
            "apps": APPS,
            "use_tz": True,
            "timezone": "UTC",
        },
        _create_db=False,
    )
    try:
        writers = await MigrationAutodetector(Tortoise.apps, APPS).changes()
    finally:
        await Tortoise.close_connections()
    pending = [(w.name, [type(op).__name__ for op in w.operations]) for w in writers]
    assert not pending, f"models differ from the migrations: {pending}"


LIVE_COLUMNS = """
SELECT table_name, column_name, is_nullable = 'YES' AS nullable, character_maximum_length
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name NOT LIKE 'tortoise%'
"""


async def test_an_empty_database_replays_to_the_declared_columns(
    cli_db: CliDb, models: list[type[Model]]
) -> None:
    ok(yimen(cli_db, "migrate"))
    conn = await asyncpg.connect(cli_db.url)
    try:
        rows = await conn.fetch(LIVE_COLUMNS)
    finally:
        await conn.close()
    live = {
        (r["table_name"], r["column_name"]): (r["nullable"], r["character_maximum_length"])
        for r in rows
    }
    declared: dict[tuple[str, str], tuple[bool, int | None]] = {}
    for model in models:
        meta = model._meta
        for name, column in meta.fields_db_projection.items():
            field = meta.fields_map[name]
            length = field.max_length if isinstance(field, CharField) else None
            declared[(meta.db_table, column)] = (bool(field.null), length)
    assert ("notify_notice", "status") in declared  # a frozen enum's column is among them
    assert set(live) == set(declared), {
        "in the schema only": sorted(set(live) - set(declared)),
        "declared only": sorted(set(declared) - set(live)),
    }
    differ = {key: (live[key], declared[key]) for key in declared if live[key] != declared[key]}
    assert not differ, f"(nullable, max length) live vs declared: {differ}"
