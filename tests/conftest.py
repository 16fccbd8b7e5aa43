"""The test harness: real PostgreSQL, Redis and S3 for the session, isolated per test."""

from __future__ import annotations

import csv
import itertools
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sanic import Sanic

from backend.app import create_app
from backend.config import Settings
from backend.db import close_db, init_db, migrate
from backend.demo import DEMO_VILLAGES, DIVISIONS_DIR
from tests.harness.cli import CliDb, run_async
from tests.harness.seaweed import SeaweedServer, s3_server
from tests.harness.services import Postgres, RedisServer, start_postgres, start_redis
from tests.harness.tables import empty_tables

__all__ = ["s3_server"]
pytest_plugins = ["tests.harness.wechat_plugin"]

# Many apps start in one process here; test mode keeps Sanic's start-up rewrites repeatable.
Sanic.test_mode = True

_counter = itertools.count(1)
_used: dict[str, str] = {}
TEST_BUCKET = "yimen-test"
# The demo counties (安吉县, 长兴县) and their province and city: enough for every test.
TEST_DIVISION_PREFIXES = ("330522", "330523")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which servers the run used (local ones, or the embedded fallbacks)."""
    if _used:
        used = ", ".join(f"{name}: {kind}" for name, kind in sorted(_used.items()))
        terminalreporter.write_line(f"services: {used}, S3: SeaweedFS")


@pytest.fixture(scope="session")
async def postgres(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Postgres]:
    """A throwaway database, migrated with the committed migrations."""
    pg = await start_postgres(tmp_path_factory.mktemp("pg"))
    _used["PostgreSQL"] = pg.kind
    settings = Settings(env="test", database_url=pg.url)
    await migrate(settings)
    yield pg
    await pg.drop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The session's Redis."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    _used["Redis"] = server.kind
    yield server
    server.stop()


@pytest.fixture(scope="session")
def division_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The NBS files cut down to the demo counties, so each test can load them quickly."""
    out = tmp_path_factory.mktemp("divisions")
    keep = TEST_DIVISION_PREFIXES
    for name in ("provinces.csv", "cities.csv", "areas.csv", "streets.csv"):
        with (DIVISIONS_DIR / name).open(encoding="utf-8") as src:
            rows = list(csv.reader(src))
        header, body = rows[0], rows[1:]
        kept = [r for r in body if any(k.startswith(r[0]) or r[0].startswith(k) for k in keep)]
        with (out / name).open("w", encoding="utf-8", newline="") as dst:
            csv.writer(dst).writerows([header, *kept])
    return out


@pytest.fixture
def cli_db(tmp_path: Path, postgres: Postgres) -> Iterator[CliDb]:
    """An empty database (not migrated) and a data directory for `yimen` commands."""
    name = f"yimen_cli_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(postgres.admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_async(admin(f'CREATE DATABASE "{name}"'))
    base, _, params = postgres.admin_url.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{params}" if params else "")
    yield CliDb(data_dir=tmp_path / "data", url=url)
    run_async(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(
    tmp_path: Path, postgres: Postgres, redis_server: RedisServer, s3_server: SeaweedServer
) -> Settings:
    """Settings for one test: shared servers, its own Redis key prefix and data directory."""
    n = next(_counter)
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=postgres.url,
        redis_url=redis_server.url,
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_bucket=TEST_BUCKET,
        # A random part too: two test runs may share the local Redis.
        redis_prefix=f"yimen-test:{n}:{uuid.uuid4().hex[:8]}:",
        log_json=True,
        login_rate_limit="5/minute",
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The database for service tests without the app; emptied afterwards."""
    await init_db(settings)
    try:
        yield
    finally:
        await empty_tables()
        await close_db()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    """A started app (its own name, so Sanic's registry keeps them apart); tables emptied after."""
    application = create_app(settings, name=f"yimen_test_{next(_counter)}")
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        try:
            yield application
        finally:
            await empty_tables()
            await _clear_redis_prefix(application)


async def _clear_redis_prefix(application: object) -> None:
    redis = application.ctx.redis  # type: ignore[attr-defined]
    prefix = application.ctx.settings.redis_prefix  # type: ignore[attr-defined]
    keys = [k async for k in redis.scan_iter(match=prefix + "*", count=500)]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process over ASGI."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://yimen.test") as c:
        yield c


@pytest.fixture
async def geo(app: object, division_subset: Path) -> None:
    """The demo counties' divisions, villages, windows and departments."""
    from tests.factories import load_geo

    await load_geo(division_subset)


@pytest.fixture
def villages_csv(tmp_path: Path) -> Path:
    """A writable copy of the demo villages file."""
    target = tmp_path / "villages.csv"
    shutil.copy(DEMO_VILLAGES, target)
    return target
