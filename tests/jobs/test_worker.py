"""`yimen worker` consumes the Redis task stream."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from backend.config import Settings
from backend.jobs.broker import make_broker
from tests.harness.processes import yimen_env

ROOT = Path(__file__).resolve().parents[2]


async def test_worker_runs_a_queued_task(settings: Settings) -> None:
    env = yimen_env(settings)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    broker = make_broker(settings)
    await broker.startup()
    try:
        from backend.jobs.tasks import ping

        # Send through our broker (same stream as the worker's), not the module-level one.
        task = await ping.kicker().with_broker(broker).kiq("你好")
        result = await task.wait_result(timeout=60)
        assert not result.is_err, result.error
        assert result.return_value["payload"] == "你好"
    finally:
        await broker.shutdown()
        os.killpg(proc.pid, signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout=30)
