"""What the benchmarks share: local PostgreSQL, free ports, waiting for a server, percentiles."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from pathlib import Path

import asyncpg
import httpx

ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    """The p-quantile of durations in seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


async def wait_http(url: str, limit_s: float = 60) -> None:
    """Poll a URL until it answers below 500, or give up."""
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


async def create_database() -> tuple[str, str]:
    """A throwaway database on the local PostgreSQL: its name and DSN."""
    database = f"yimen_bench_{os.getpid()}"
    admin = await asyncpg.connect(ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    return database, f"postgres://postgres@127.0.0.1:5432/{database}"


async def drop_database(database: str) -> None:
    """Drop a database create_database made, even with connections left open."""
    admin = await asyncpg.connect(ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


def yimen_env(dsn: str, work: Path) -> dict[str, str]:
    """The environment for `python -m backend.cli` against the bench database."""
    return {k: v for k, v in os.environ.items() if not k.startswith("YIMEN_")} | {
        "YIMEN_DATABASE_URL": dsn,
        "YIMEN_REDIS_URL": "redis://127.0.0.1:6379/12",
        "YIMEN_REDIS_PREFIX": f"bench{os.getpid()}:",
        "YIMEN_DATA_DIR": str(work),
        "YIMEN_LOG_LEVEL": "WARNING",
        "YIMEN_LOGIN_RATE_LIMIT": "1000/minute",
        "YIMEN_LOGIN_USER_RATE_LIMIT": "100000/hour",
        "YIMEN_LOGIN_ADDRESS_RATE_LIMIT": "100000/minute",
        # The benchmarks measure the path, not the per-resident quota.
        "YIMEN_HELP_RATE_LIMIT": "10000000/hour",
        "YIMEN_HELP_DEVICE_RATE_LIMIT": "10000000/hour",
    }
