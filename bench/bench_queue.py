"""The console's triage queue over HTTP (one Sanic worker on PostgreSQL, 200,000 leads), against
the same queries run raw over asyncpg and a naive OFFSET page, measured in the same run.

Run: .venv/bin/python bench/bench_queue.py [--leads 200000] [--requests 50]
Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (as on the development machines).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import html
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from benchlib import create_database, drop_database, free_port, percentile, wait_http, yimen_env

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BOUNDARIES = ROOT / "backend" / "data" / "boundaries" / "demo-townships-wgs84.geojson"
VILLAGES = ROOT / "backend" / "data" / "boundaries" / "demo-villages.csv"
CLERK = ("dipu_clerk", "yimen-demo-2026", "330523001")
APPROVER = ("anji_approver", "yimen-demo-2026", "330523")
PAGE = 50  # QUEUE_PAGE_SIZE of the console; list_queue fetches one more to know of a next page
DEEP_PAGE = 20
WARMUP = 5
SEED = 20260301

# What backend.intake.models says (kept literal: the benchmark writes rows, not models).
OPEN = ("received", "acknowledged", "referred")
FINISHED = ("closed", "converted", "merged")
URGENT_TAGS = ("no_housing", "disaster")
OTHER_TAGS = (
    "no_income",
    "serious_illness",
    "disability",
    "elderly_alone",
    "left_behind_child",
    "unemployment",
    "medical_expense",
    "education_expense",
    "other",
)
CLOSE_REASONS = ("not_in_hardship", "already_assisted", "unreachable", "moved_away", "other")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
GIVEN = "秀英桂兰玉梅建国志强海燕明华丽娟金凤德福春生永红国平淑珍文斌翠花宝山"

COLUMNS = (
    "id",
    "number",
    "source",
    "reporter_id",
    "client_id",
    "request_hash",
    "status",
    "township_code",
    "county_code",
    "routed_by",
    "ambiguous",
    "subject_name",
    "subject_address",
    "subject_village_code",
    "household_size",
    "hardship",
    "description",
    "urgent",
    "lat",
    "lng",
    "observed_at",
    "ack_due_at",
    "created_at",
    "updated_at",
    "version",
    "queue_rank",
    "acknowledged_at",
    "acknowledged_by_id",
    "closed_reason",
    "closed_at",
    "closed_by_id",
    "home_visit_note",
)

# The two statements list_queue issues for a first page without filters (scope, open ranks,
# the index's order, one row more than a page; then the counts per status of the scope).
QUEUE_SQL = (
    "SELECT * FROM intake_lead WHERE {scope} = $1 AND queue_rank <= 1"
    " ORDER BY queue_rank, ack_due_at, id LIMIT $2"
)
COUNTS_SQL = "SELECT status, COUNT(status) FROM intake_lead WHERE {scope} = $1 GROUP BY status"
# The page a naive implementation would serve: the same order skipped by OFFSET, a full count.
NAIVE_SQL = (
    "SELECT * FROM intake_lead WHERE township_code = $1 AND queue_rank <= 1"
    " ORDER BY queue_rank, ack_due_at, id OFFSET $2 LIMIT $3"
)
NAIVE_COUNT_SQL = "SELECT COUNT(*) FROM intake_lead WHERE township_code = $1"
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')


def townships() -> list[tuple[str, str]]:
    """The demo townships (code, county) that have boundaries and windows."""
    features = json.loads(BOUNDARIES.read_text(encoding="utf-8"))["features"]
    return [(f["properties"]["code"], f["properties"]["county_code"]) for f in features]


def villages() -> dict[str, list[tuple[str, float, float]]]:
    """The demo villages of each township, with a point inside."""
    found: dict[str, list[tuple[str, float, float]]] = {}
    with VILLAGES.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(row["township_code"], []).append(
                (row["code"], float(row["lng"]), float(row["lat"]))
            )
    return found


def lead_rows(total: int, now: datetime) -> list[tuple[object, ...]]:
    """Leads as the service would have written them: ~40,000 at 递铺, the rest spread out."""
    rng = random.Random(SEED)
    places = townships()
    by_township = villages()
    clerk_share = 40_000 / 200_000
    others = [t for t in places if t[0] != CLERK[2]]
    reporters = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(600)]
    clerks = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(40)]
    year = timedelta(days=365)
    rows: list[tuple[object, ...]] = []
    for i in range(total):
        if rng.random() < clerk_share:
            township, county = CLERK[2], CLERK[2][:6]
        else:
            township, county = rng.choice(others)
        routed_by = rng.choice(("polygon", "polygon", "polygon", "village_code", "household"))
        # A few leads of a county no township could be found for (the county's window routes).
        unrouted = rng.random() < 0.003
        code: str | None = None if unrouted else township
        if unrouted:
            routed_by = "county_unrouted"
        tags = rng.sample(OTHER_TAGS, rng.choice((1, 1, 2, 2, 3)))
        if rng.random() < 0.06:
            tags.append(rng.choice(URGENT_TAGS))
        urgent = any(t in URGENT_TAGS for t in tags)
        # ~10% still open: most received ones recent, some overdue; the rest finished.
        if rng.random() < 0.10:
            status = rng.choices(OPEN, weights=(6, 3, 1))[0]
            if status == "received":
                late = rng.random() < 0.3
                age = timedelta(days=rng.uniform(5, 40) if late else rng.uniform(0, 2.5))
            else:
                age = timedelta(days=rng.uniform(0, 90))
        else:
            status = rng.choices(FINISHED, weights=(7, 2, 1))[0]
            age = year * rng.random()
        created = now - age
        due = created + (timedelta(hours=24) if urgent else timedelta(days=rng.choice((3, 4, 5))))
        rank = (0 if status in OPEN else 2) + (0 if urgent else 1)
        acknowledged = status != "received"
        acked_at = created + timedelta(hours=rng.uniform(1, 48)) if acknowledged else None
        acked_at = min(acked_at, now) if acked_at else None
        finished = status in FINISHED
        closed = status == "closed"
        closed_at = (
            min(now, created + timedelta(days=rng.uniform(2, 30))) if finished and closed else None
        )
        place = rng.choice(by_township.get(township, [("", 119.6, 30.6)]))
        village = place[0] or None
        lng, lat = place[1] + rng.uniform(-0.01, 0.01), place[2] + rng.uniform(-0.01, 0.01)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN))
        number = f"{township if code else county}-2026-{i:06d}"
        rows.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                number,
                "grid_worker" if rng.random() < 0.85 else "resident",
                rng.choice(reporters),
                uuid.UUID(int=rng.getrandbits(128), version=4),
                hashlib.sha256(number.encode()).hexdigest(),
                status,
                code,
                county,
                routed_by,
                routed_by == "nearest_window",
                name,
                f"{name}家，{rng.randint(1, 99)}号",
                village,
                rng.randint(1, 6),
                json.dumps(tags),
                "网格走访发现，家庭困难，请窗口核实。",
                urgent,
                lat,
                lng,
                created - timedelta(minutes=rng.randint(0, 600)),
                due,
                created,
                closed_at or acked_at or created,
                1 + acknowledged + finished,
                rank,
                acked_at,
                rng.choice(clerks) if acknowledged else None,
                rng.choice(CLOSE_REASONS) if closed else None,
                closed_at,
                rng.choice(clerks) if closed else None,
                "",
            )
        )
    return rows


async def load_leads(dsn: str, total: int) -> tuple[int, float]:
    """COPY the leads into intake_lead, then VACUUM ANALYZE; returns (rows, seconds)."""
    started = time.perf_counter()
    rows = lead_rows(total, datetime.now(UTC))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("intake_lead", records=rows, columns=COLUMNS)
        # Statistics and the visibility map, as autovacuum would leave them after a bulk load.
        await conn.execute("VACUUM (ANALYZE) intake_lead")
        count = await conn.fetchval("SELECT COUNT(*) FROM intake_lead")
    finally:
        await conn.close()
    return int(count), time.perf_counter() - started


async def login(client: httpx.AsyncClient, username: str, password: str) -> None:
    """Sign in through the console's login form (CSRF token bound to the nonce cookie)."""
    form = await client.get("/console/login", params={"next": "/console/leads"})
    form.raise_for_status()
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if not found:
        raise RuntimeError("the login page has no csrf_token field")
    answer = await client.post(
        "/console/login",
        data={
            "csrf_token": found.group(1),
            "next": "/console/leads",
            "username": username,
            "password": password,
        },
    )
    if answer.status_code != 303 or "yimen_console" not in client.cookies:
        raise RuntimeError(f"login as {username} failed: HTTP {answer.status_code}")


async def timed(call: Callable[[], Awaitable[object]], requests: int) -> list[float]:
    for _ in range(WARMUP):
        await call()
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    return latencies


def page_check(client: httpx.AsyncClient, url: str, must_show: str) -> Callable[[], Awaitable]:
    """GET a queue page; fail unless it is the page itself and lists the expected lead."""

    async def call() -> httpx.Response:
        response = await client.get(url)
        if response.status_code != 200 or f'data-lead="{must_show}"' not in response.text:
            raise RuntimeError(f"{url}: HTTP {response.status_code}, lead {must_show} not listed")
        return response

    return call


def row(name: str, latencies: list[float]) -> tuple[float, float]:
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(f"{name:<50} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    return p50, p95


async def main(total: int, requests: int) -> None:
    database, dsn = await create_database()
    work = Path(tempfile.mkdtemp(prefix="yimen-bench-"))
    env = yimen_env(dsn, work)
    cli = [sys.executable, "-m", "backend.cli"]
    procs: list[subprocess.Popen[bytes]] = []
    conn: asyncpg.Connection | None = None
    try:
        print("preparing: migrate, demo data (divisions, boundaries, accounts) ...", flush=True)
        subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*cli, "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
        print(f"loading {total:,} leads (COPY, then VACUUM ANALYZE) ...", flush=True)
        loaded, load_s = await load_leads(dsn, total)
        port = free_port()
        procs.append(
            subprocess.Popen(
                [*cli, "serve", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/healthz")

        conn = await asyncpg.connect(dsn)
        township, county = CLERK[2], APPROVER[2]
        sizes = await conn.fetch(
            "SELECT COUNT(*) FILTER (WHERE township_code = $1) AS town,"
            " COUNT(*) FILTER (WHERE township_code = $1 AND queue_rank <= 1) AS town_open,"
            " COUNT(*) FILTER (WHERE township_code = $1 AND status = 'received'"
            "   AND ack_due_at < now()) AS town_overdue,"
            " COUNT(*) FILTER (WHERE county_code = $2) AS county,"
            " COUNT(*) FILTER (WHERE county_code = $2 AND queue_rank <= 1) AS county_open"
            " FROM intake_lead",
            township,
            county,
        )
        size = sizes[0]
        print(
            f"{loaded:,} leads in {load_s:.1f} s; 递铺 {township}: {size['town']:,}"
            f" ({size['town_open']:,} open, {size['town_overdue']:,} overdue);"
            f" 安吉 {county}: {size['county']:,} ({size['county_open']:,} open)"
        )

        def first_number(scope: str, code: str, offset: int = 0) -> Awaitable[str]:
            return conn.fetchval(
                f"SELECT number FROM intake_lead WHERE {scope} = $1 AND queue_rank <= 1"
                " ORDER BY queue_rank, ack_due_at, id OFFSET $2 LIMIT 1",
                code,
                offset,
            )

        town_first = await first_number("township_code", township)
        county_first = await first_number("county_code", county)
        deep_first = await first_number("township_code", township, (DEEP_PAGE - 1) * PAGE)

        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        clerk = httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
        approver = httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
        results: dict[str, tuple[float, float]] = {}
        notes: list[str] = []
        async with clerk, approver:
            await login(clerk, CLERK[0], CLERK[1])
            await login(approver, APPROVER[0], APPROVER[1])

            # The 20th page: follow the next links the page itself renders.
            deep_url: str | None = "/console/leads"
            for _ in range(DEEP_PAGE - 1):
                assert deep_url is not None
                walked = await clerk.get(deep_url)
                if walked.status_code != 200 or 'data-lead="' not in walked.text:
                    raise RuntimeError(f"{deep_url}: HTTP {walked.status_code}, no leads listed")
                found = NEXT_LINK.search(walked.text)
                deep_url = html.unescape(found.group(1)) if found else None
                if deep_url is None:
                    break

            print(
                f"\none connection, sequential: {requests} requests after {WARMUP} warm-ups,"
                " one Sanic worker, PostgreSQL"
            )
            results["clerk"] = row(
                "(1) GET /console/leads  clerk, first page",
                await timed(page_check(clerk, "/console/leads", town_first), requests),
            )
            results["county"] = row(
                "(2) GET /console/leads  county approver, first",
                await timed(page_check(approver, "/console/leads", county_first), requests),
            )
            if deep_url:
                results["deep"] = row(
                    f"(3) GET /console/leads  clerk, page {DEEP_PAGE} (cursor)",
                    await timed(page_check(clerk, deep_url, deep_first), requests),
                )
            else:
                notes.append(f"(3) skipped: the queue shows no next link before page {DEEP_PAGE}")

        async def raw(scope: str, code: str) -> None:
            await conn.fetch(QUEUE_SQL.format(scope=scope), code, PAGE + 1)
            await conn.fetch(COUNTS_SQL.format(scope=scope), code)

        async def naive() -> None:
            await conn.fetch(NAIVE_SQL, township, DEEP_PAGE * PAGE, PAGE)
            await conn.fetchval(NAIVE_COUNT_SQL, township)

        results["raw"] = row(
            "(4) raw asyncpg: first-page query + counts, clerk",
            await timed(lambda: raw("township_code", township), requests),
        )
        results["raw_county"] = row(
            "(4b) raw asyncpg: the same for the county",
            await timed(lambda: raw("county_code", county), requests),
        )
        results["naive"] = row(
            f"(5) raw asyncpg: OFFSET {DEEP_PAGE * PAGE} + COUNT(*), clerk",
            await timed(naive, requests),
        )
        for note in notes:
            print(note)

        print()
        ratios = [
            ("clerk first page / raw query", "clerk", "raw"),
            ("county first page / raw county query", "county", "raw_county"),
            (f"clerk page {DEEP_PAGE} / clerk first page", "deep", "clerk"),
            ("naive OFFSET page / raw query", "naive", "raw"),
        ]
        for label, top, bottom in ratios:
            if top in results and bottom in results:
                ratio50 = results[top][0] / results[bottom][0]
                ratio95 = results[top][1] / results[bottom][1]
                print(f"{label:<40} = {ratio50:6.2f} (p50)  {ratio95:6.2f} (p95)")
        p50, p95 = results["clerk"]
        verdict = "met" if p95 < 100 else "NOT met"
        print(
            f"\nfirst page server time {p95:.1f} ms (goal < 100 ms): {verdict}"
            f"   [clerk's first page over loopback, p95; p50 {p50:.1f} ms]"
        )
    finally:
        if conn is not None:
            await conn.close()
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)
        await drop_database(database)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.leads, args.requests))
