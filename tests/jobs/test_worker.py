"""`yimen worker` consumes the Redis task stream."""

from __future__ import annotations

from pathlib import Path

from backend.config import Settings
from backend.jobs.broker import make_broker
from tests.harness.processes import task_worker

ROOT = Path(__file__).resolve().parents[2]


async def test_worker_runs_a_queued_task(settings: Settings) -> None:
    broker = make_broker(settings)
    await broker.startup()
    async with task_worker(settings):
        try:
            from backend.jobs.tasks import ping

            # Send through our broker (same stream as the worker's), not the module-level one.
            task = await ping.kicker().with_broker(broker).kiq("你好")
            result = await task.wait_result(timeout=60)
            assert not result.is_err, result.error
            assert result.return_value["payload"] == "你好"
        finally:
            await broker.shutdown()
