"""Report and help-request creation over HTTP (one Sanic worker on PostgreSQL, 32 connections),
against a bare Sanic JSON endpoint and a raw asyncpg insert loop, measured in the same run.

Run: .venv/bin/python bench/bench_reports.py [--seconds 10]
Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (as on the development machines).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from benchlib import create_database, drop_database, free_port, percentile, wait_http, yimen_env

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONNECTIONS = 32
BARE_APP = textwrap.dedent(
    """
    import sys
    from sanic import Sanic, json
    app = Sanic("bare")
    @app.post("/echo")
    async def echo(request):
        return json({"ok": True, "got": len(request.json)})
    app.run(host="127.0.0.1", port=int(sys.argv[1]), single_process=True, access_log=False,
            motd=False)
    """
)


def ensure_wrk() -> str:
    """wrk, installed from Debian's packages when missing (the load must not be the bottleneck)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (apt-get install -y wrk) ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def wrk(url: str, script: Path, seconds: float, token: str = "") -> dict:
    """Run wrk with 2 threads and CONNECTIONS connections; the script prints a JSON line."""
    result = subprocess.run(
        [ensure_wrk(), "-t2", f"-c{CONNECTIONS}", f"-d{int(seconds)}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"TOKEN": token},
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("JSON "))
    return json.loads(line[5:])


async def raw_inserts(dsn: str, seconds: float) -> tuple[int, list[float]]:
    """The floor: one INSERT per report into a table shaped like intake_lead, 32 at a time."""
    pool = await asyncpg.create_pool(dsn, min_size=CONNECTIONS, max_size=CONNECTIONS)
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS raw_lead (id uuid primary key, number text, reporter uuid,"
        " client_id uuid, township text, subject text, hardship jsonb, description text,"
        " lat float8, lng float8, created_at timestamptz)"
    )
    latencies: list[float] = []
    end = time.monotonic() + seconds

    async def one() -> None:
        n = 0
        while time.monotonic() < end:
            started = time.perf_counter()
            await pool.execute(
                "INSERT INTO raw_lead VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
                uuid.uuid4(),
                f"n{n}",
                uuid.uuid4(),
                uuid.uuid4(),
                "330523001",
                "张阿婆",
                json.dumps(["elderly_alone"]),
                "独居",
                30.6,
                119.6,
                datetime.now(UTC),
            )
            n += 1
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
    await pool.close()
    return len(latencies), latencies


def row(name: str, rate: float, p50: float, p99: float) -> float:
    print(f"{name:<28} {rate:>9.0f} req/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    return rate


async def main(seconds: float) -> None:
    database, dsn = await create_database()
    work = Path(tempfile.mkdtemp(prefix="yimen-bench-"))
    env = yimen_env(dsn, work)
    cli = [sys.executable, "-m", "backend.cli"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        print("preparing: migrate, demo data (divisions, boundaries, accounts) ...", flush=True)
        subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*cli, "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
        port, bare_port = free_port(), free_port()
        procs.append(
            subprocess.Popen(
                [*cli, "serve", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", BARE_APP, str(bare_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        await wait_http(base + "/healthz")
        await wait_http(bare + "/echo")
        async with httpx.AsyncClient() as client:
            token = (
                await client.post(
                    base + "/mobile/v1/auth/login",
                    json={
                        "username": "dipu_grid",
                        "password": "yimen-demo-2026",
                        "device_id": "bench",
                    },
                )
            ).json()["access_token"]
            # The development WeChat stand-in signs the resident in (no WeChat call, no check).
            resident_token = (
                await client.post(base + "/mp/v1/auth/login", json={"code": "dev:bench"})
            ).json()["access_token"]

        print(f"\n{CONNECTIONS} connections, {seconds:.0f} s each, one Sanic worker, PostgreSQL")
        results = {}
        bare_run = wrk(bare + "/echo", HERE / "bare.lua", seconds)
        results["bare"] = row(
            "bare Sanic JSON endpoint",
            bare_run["requests"] / bare_run["seconds"],
            bare_run["p50_ms"],
            bare_run["p99_ms"],
        )
        count, lat = await raw_inserts(dsn, seconds)
        results["raw"] = row(
            "raw asyncpg insert loop", count / seconds, percentile(lat, 0.5), percentile(lat, 0.99)
        )
        ours = wrk(base + "/mobile/v1/reports/", HERE / "report.lua", seconds, token)
        results["ours"] = row(
            "POST /mobile/v1/reports",
            ours["requests"] / ours["seconds"],
            ours["p50_ms"],
            ours["p99_ms"],
        )
        if ours["non2xx"] or ours["errors"]:
            print(f"  ({ours['non2xx']} non-2xx answers, {ours['errors']} socket errors)")
        helps = wrk(base + "/mp/v1/help-requests", HERE / "help.lua", seconds, resident_token)
        results["help"] = row(
            "POST /mp/v1/help-requests",
            helps["requests"] / helps["seconds"],
            helps["p50_ms"],
            helps["p99_ms"],
        )
        if helps["non2xx"] or helps["errors"]:
            print(f"  ({helps['non2xx']} non-2xx answers, {helps['errors']} socket errors)")
        print(
            f"\nreport creation / bare Sanic   = {results['ours'] / results['bare']:.3f}"
            "   (goal >= 0.10)"
        )
        print(
            f"report creation / raw inserts  = {results['ours'] / results['raw']:.3f}"
            "   (goal >= 0.50)"
        )
        print(
            f"help request / bare Sanic      = {results['help'] / results['bare']:.3f}"
            f"   help request / raw inserts = {results['help'] / results['raw']:.3f}"
        )
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        await drop_database(database)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(main(parser.parse_args().seconds))
