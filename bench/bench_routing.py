"""Point-in-township lookups per second: our cell index, a plain STRtree, PostGIS ST_Contains."""

# Run as `.venv/bin/python bench/bench_routing.py` (not a test). It uses the PostgreSQL server at
# 127.0.0.1:5432 (user postgres, trust) in a throwaway database, and installs Debian's PostGIS
# package first when the server lacks the extension.

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from backend.geo.routing import BoundaryIndex

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "backend" / "data" / "boundaries" / "demo-townships-wgs84.geojson"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
CHINA_BOX = (73.0, 18.0, 135.0, 53.0)
BATCH = 1000

Rows = list[tuple[str, BaseGeometry]]


@dataclass
class Case:
    """One data set and what was measured on it (lookups per second)."""

    name: str
    rows: Rows
    made_s: float
    build_s: float = 0.0
    border_share: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)
    mismatches: dict[str, str] = field(default_factory=dict)


def demo_rows() -> Rows:
    """The 18 demo townships."""
    features = json.loads(DEMO.read_text(encoding="utf-8"))["features"]
    return [(f["properties"]["code"], shape(f["geometry"])) for f in features]


def synthetic_rows(count: int, seed: int = 7) -> Rows:
    """A Voronoi tessellation of a China-sized box, its edges bent by a smooth warp."""
    # The warp moves every vertex by a function of where it is, so the two sides of a shared
    # edge move together: still no gaps and no overlaps.
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = CHINA_BOX
    seeds = shapely.multipoints(
        np.column_stack([rng.uniform(minx, maxx, count), rng.uniform(miny, maxy, count)])
    )
    frame = shapely.box(*CHINA_BOX)
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame
    )
    cells = shapely.segmentize(cells, 0.03)

    def warp(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = xy[:, 0], xy[:, 1]
        dx = 0.012 * np.sin(y * 31.4 + 1.3) + 0.006 * np.sin(y * 77.0 + x * 5.0)
        dy = 0.012 * np.sin(x * 29.7 + 0.4) + 0.006 * np.sin(x * 71.0 + y * 3.0)
        return np.column_stack([x + dx, y + dy])

    cells = shapely.transform(cells, warp)
    return [(f"{100000000 + i:09d}", geom) for i, geom in enumerate(cells)]


def random_points(rows: Rows, count: int, seed: int = 1) -> tuple[list[float], list[float]]:
    """Uniform points over the data set's bounding box."""
    minx, miny, maxx, maxy = shapely.total_bounds([g for _, g in rows])
    rng = np.random.default_rng(seed)
    return rng.uniform(minx, maxx, count).tolist(), rng.uniform(miny, maxy, count).tolist()


def per_second(
    lookup: Callable[[float, float], object],
    xs: Sequence[float],
    ys: Sequence[float],
    budget: float,
) -> float:
    """One-at-a-time lookups per second, cycling through the points until the budget is spent."""
    done, started = 0, time.perf_counter()
    while True:
        for x, y in zip(xs, ys, strict=True):
            lookup(x, y)
        done += len(xs)
        elapsed = time.perf_counter() - started
        if elapsed >= budget:
            return done / elapsed


class StrtreeOnly:
    """The baseline DESIGN.md measured: a shapely STRtree queried one point at a time."""

    def __init__(self, rows: Rows) -> None:
        ordered = sorted(rows, key=lambda row: row[0])
        self.codes = [code for code, _ in ordered]
        geoms = np.empty(len(ordered), dtype=object)
        geoms[:] = [geom for _, geom in ordered]
        shapely.prepare(geoms)
        self.tree = shapely.STRtree(geoms)

    def locate(self, lng: float, lat: float) -> str | None:
        """The lowest code whose polygon covers the point."""
        hits = self.tree.query(shapely.Point(lng, lat), predicate="intersects")
        return self.codes[int(hits.min())] if len(hits) else None


def install_postgis(major: int) -> None:
    """apt-get install Debian's PostGIS for this server's major version (update first if needed)."""
    package = f"postgresql-{major}-postgis-3"
    print(f"PostGIS is missing: installing {package} ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", package]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        # A fresh machine has no package lists yet.
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=True)
        subprocess.run(install, env=env, capture_output=True, check=True)


async def ensure_postgis(conn: asyncpg.Connection) -> str:
    """CREATE EXTENSION postgis, installing the package first when the server lacks it."""
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except asyncpg.PostgresError:
        major = int(await conn.fetchval("SHOW server_version_num")) // 10000
        await asyncio.to_thread(install_postgis, major)
        await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return str(await conn.fetchval("SELECT postgis_lib_version()"))


async def load_postgis(conn: asyncpg.Connection, rows: Rows) -> None:
    """The same polygons in a table with a GiST index."""
    await conn.execute("DROP TABLE IF EXISTS township, township_wkb")
    await conn.execute("CREATE TABLE township_wkb (code text, wkb bytea)")
    await conn.copy_records_to_table(
        "township_wkb", records=[(code, shapely.to_wkb(geom)) for code, geom in rows]
    )
    await conn.execute(
        "CREATE TABLE township AS"
        " SELECT code, ST_GeomFromWKB(wkb, 4326)::geometry(Geometry, 4326) AS geom"
        " FROM township_wkb"
    )
    await conn.execute("ALTER TABLE township ADD PRIMARY KEY (code)")
    await conn.execute("CREATE INDEX township_geom ON township USING gist (geom)")
    await conn.execute("ANALYZE township")


ONE_POINT = (
    "SELECT code FROM township"
    " WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code LIMIT 1"
)
MANY_POINTS = (
    "SELECT p.i, (SELECT code FROM township t"
    "   WHERE ST_Contains(t.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))"
    "   ORDER BY code LIMIT 1)"
    " FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i) ORDER BY p.i"
)


async def postgis_rates(
    conn: asyncpg.Connection, xs: list[float], ys: list[float], budget: float
) -> tuple[float, float, list[str | None]]:
    """(one-at-a-time rate, batched rate, answers for the first points) over asyncpg."""
    one = await conn.prepare(ONE_POINT)
    answers = [await one.fetchval(x, y) for x, y in zip(xs[:2000], ys[:2000], strict=True)]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < budget:
        start = done % (len(xs) - 500)
        for x, y in zip(xs[start : start + 500], ys[start : start + 500], strict=True):
            await one.fetchval(x, y)
        done += 500
    single = done / (time.perf_counter() - started)
    many = await conn.prepare(MANY_POINTS)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < budget:
        start = done % (len(xs) - BATCH)
        await many.fetch(xs[start : start + BATCH], ys[start : start + BATCH])
        done += BATCH
    return single, done / (time.perf_counter() - started), answers


def measure_python(case: Case, xs: list[float], ys: list[float], budget: float) -> BoundaryIndex:
    """Build our index and time it and the STRtree baseline."""
    started = time.perf_counter()
    index = BoundaryIndex.build(case.rows)
    case.build_s = time.perf_counter() - started
    case.border_share = index.border_cell_share
    baseline = StrtreeOnly(case.rows)
    check = 20_000
    ours = [index.locate(x, y) for x, y in zip(xs[:check], ys[:check], strict=True)]
    theirs = [baseline.locate(x, y) for x, y in zip(xs[:check], ys[:check], strict=True)]
    case.mismatches["STRtree"] = f"{sum(a != b for a, b in zip(ours, theirs, strict=True))}/{check}"
    case.rates["ours"] = per_second(index.locate, xs, ys, budget)
    started, done = time.perf_counter(), 0
    while time.perf_counter() - started < budget / 4:
        index.locate_many(xs, ys)
        done += len(xs)
    case.rates["ours batch"] = done / (time.perf_counter() - started)
    case.rates["STRtree"] = per_second(baseline.locate, xs[:50_000], ys[:50_000], budget)
    return index


async def run(cases: list[Case], budget: float) -> str:
    """Measure every case; returns the PostGIS version used."""
    admin = await asyncpg.connect(ADMIN_URL)
    database = f"yimen_bench_{os.getpid()}"
    await admin.execute(f'CREATE DATABASE "{database}"')
    try:
        conn = await asyncpg.connect(ADMIN_URL.rsplit("/", 1)[0] + "/" + database)
        try:
            version = await ensure_postgis(conn)
            for case in cases:
                xs, ys = random_points(case.rows, 200_000)
                index = measure_python(case, xs, ys, budget)
                await load_postgis(conn, case.rows)
                single, batched, answers = await postgis_rates(conn, xs, ys, budget)
                case.rates["PostGIS"], case.rates["PostGIS batch"] = single, batched
                ours = [index.locate(x, y) for x, y in zip(xs[:2000], ys[:2000], strict=True)]
                wrong = sum(a != b for a, b in zip(ours, answers, strict=True))
                case.mismatches["PostGIS"] = f"{wrong}/2000"
                print(f"  measured {case.name}", flush=True)
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
    return version


def table(cases: list[Case]) -> str:
    """The results as a fixed-width table."""
    head = (
        f"{'data set':<16}{'townships':>10}{'vertices':>10}{'made s':>8}{'build s':>8}"
        f"{'border':>8}{'ours/s':>11}{'batch/s':>11}{'STRtree/s':>11}{'PostGIS/s':>11}"
        f"{'PG batch/s':>11}{'ours/PG':>9}{'ours/STR':>9}"
    )
    lines = [head, "-" * len(head)]
    for c in cases:
        vertices = int(shapely.get_num_coordinates([g for _, g in c.rows]).sum())
        r = c.rates
        lines.append(
            f"{c.name:<16}{len(c.rows):>10,}{vertices:>10,}{c.made_s:>8.1f}{c.build_s:>8.1f}"
            f"{c.border_share:>8.1%}{r['ours']:>11,.0f}{r['ours batch']:>11,.0f}"
            f"{r['STRtree']:>11,.0f}{r['PostGIS']:>11,.0f}{r['PostGIS batch']:>11,.0f}"
            f"{r['ours'] / r['PostGIS']:>8.0f}x{r['ours'] / r['STRtree']:>8.0f}x"
        )
    lines.append("")
    lines.append(
        "disagreements with ours: "
        + "; ".join(
            f"{c.name}: STRtree {c.mismatches['STRtree']}, PostGIS {c.mismatches['PostGIS']}"
            for c in cases
        )
    )
    return "\n".join(lines)


def main() -> None:
    """Build the data sets, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="time per measurement")
    parser.add_argument("--townships", type=int, default=40_000, help="synthetic set size")
    args = parser.parse_args()

    started = time.perf_counter()
    cases = [Case("demo", demo_rows(), time.perf_counter() - started)]
    started = time.perf_counter()
    synthetic = synthetic_rows(args.townships)
    cases.append(
        Case(f"synthetic {args.townships // 1000}k", synthetic, time.perf_counter() - started)
    )
    print(f"data sets ready; measuring ({args.seconds:g} s a measurement) ...", flush=True)
    version = asyncio.run(run(cases, args.seconds))
    print()
    print(table(cases))
    print()
    print(
        f"PostGIS {version}, one point per query over asyncpg (prepared statement) and"
        f" {BATCH} points per query; points uniform over each data set's bounding box;"
        f" {os.cpu_count()} CPUs."
    )


if __name__ == "__main__":
    main()
