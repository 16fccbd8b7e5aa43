"""The real `yimen` command in a separate process, against a fresh database of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from backend.embedded import run_async

REPO = Path(__file__).resolve().parents[2]
__all__ = ["REPO", "CliDb", "ok", "query", "run_async", "yimen"]


@dataclass(frozen=True)
class CliDb:
    """A data directory and an empty PostgreSQL database for one test's commands."""

    data_dir: Path
    url: str


def yimen(cli: CliDb, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run `yimen ARGS` as a separate process against the test's database."""
    return python(cli, "-m", "backend.cli", *map(str, args))


def python(cli: CliDb, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python with these arguments as a separate process against the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIMEN_")}
    env |= {
        "YIMEN_DATA_DIR": str(cli.data_dir),
        "YIMEN_DATABASE_URL": cli.url,
        "YIMEN_ENV": "development",
        "PYTHONUTF8": "1",
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def query(cli: CliDb, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows from the command's database, read directly ($1, $2 ... placeholders)."""

    async def fetch() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(cli.url)
        try:
            return [tuple(r) for r in await conn.fetch(sql, *params)]
        finally:
            await conn.close()

    return run_async(fetch())


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The command's output, once it has succeeded."""
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout
