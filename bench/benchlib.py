"""What the benchmarks share: local PostgreSQL, free ports, waiting for a server, percentiles."""

from __future__ import annotations

import asyncio
import socket
import time

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
