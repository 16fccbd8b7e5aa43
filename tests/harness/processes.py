"""Environment for the app's own processes (yimen worker, yimen serve) started by tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from backend.config import Settings


def yimen_env(settings: Settings) -> dict[str, str]:
    """os.environ without YIMEN_*, plus the YIMEN_* that reproduce these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIMEN_")}
    return env | {
        "YIMEN_ENV": "test",
        "YIMEN_DATABASE_URL": settings.database_url,
        "YIMEN_REDIS_URL": settings.redis_url,
        "YIMEN_REDIS_PREFIX": settings.redis_prefix,
        "YIMEN_S3_ENDPOINT": settings.s3_endpoint,
        "YIMEN_S3_ACCESS_KEY": settings.s3_access_key,
        "YIMEN_S3_SECRET_KEY": settings.s3_secret_key,
        "YIMEN_S3_BUCKET": settings.s3_bucket,
        "YIMEN_DATA_DIR": str(settings.data_dir),
        "YIMEN_WECHAT_APPID": settings.wechat_appid,
        "YIMEN_WECHAT_SECRET": settings.wechat_secret,
        "YIMEN_WECHAT_API_BASE": settings.wechat_api_base,
        "YIMEN_WECHAT_STATUS_TEMPLATE": settings.wechat_status_template,
    }


ROOT = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def task_worker(settings: Settings) -> AsyncIterator[asyncio.subprocess.Process]:
    """A real `yimen worker` process for these settings, stopped (SIGTERM) afterwards."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "worker",
        cwd=ROOT,
        env=yimen_env(settings),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout=30)
