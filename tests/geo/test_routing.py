"""The boundary index, the routing rules in order, and reloading the index across processes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, shape
from shapely.geometry.base import BaseGeometry

from backend.geo import routing, service
from backend.geo.boundaries import import_boundaries
from backend.geo.coords import from_wgs84, haversine_m, to_wgs84
from backend.geo.routing import BoundaryIndex, RoutingIndex, gps_usable, route
from tests.geo.helpers import border_point, metric_buffer
from tests.geo.test_boundaries import DEMO_WGS, demo_features, write

DIPU, CHANGSHUO = "330523001", "330523002"
HANGGAI, XIAOFENG = "330523104", "330523105"  # 孝丰镇 borders 递铺街道; 杭垓镇 does not
SIAN, MEISHAN = "330522111", "330522112"


def demo_rows() -> list[tuple[str, BaseGeometry]]:
    """The demo townships as (code, WGS-84 polygon)."""
    features = json.loads(DEMO_WGS.read_text(encoding="utf-8"))["features"]
    return [(f["properties"]["code"], shape(f["geometry"])) for f in features]


@pytest.fixture(scope="module")
def index() -> BoundaryIndex:
    """The demo townships' index."""
    return BoundaryIndex.build(demo_rows())


@pytest.fixture(scope="module")
def windows(index: BoundaryIndex) -> dict[str, tuple[float, float] | None]:
    """Every demo township has a window; its position stands in at a point inside the township."""
    return dict(index.representative_points())


def geometry(index: BoundaryIndex, code: str) -> BaseGeometry:
    """A township's polygon from the index."""
    geom = index.geometry(code)
    assert geom is not None
    return geom


def exclave(index: BoundaryIndex) -> Polygon:
    """昌硕街道's smaller part, inside 递铺街道's hole."""
    return min(geometry(index, CHANGSHUO).geoms, key=lambda g: g.area)


def distance_m(point: tuple[float, float], geom: BaseGeometry) -> float:
    """Great-circle distance from a point to a shape's boundary, on a fine sampling of it."""
    coords = shapely.get_coordinates(shapely.segmentize(geom.boundary, 1e-5))
    return min(haversine_m(point[0], point[1], x, y) for x, y in coords)


def brute_force(rows: list[tuple[str, BaseGeometry]], xs: np.ndarray, ys: np.ndarray) -> list:
    """The lowest township code whose polygon covers each point, by testing every polygon."""
    found: list[str | None] = [None] * len(xs)
    for code, geom in sorted(rows, key=lambda row: row[0], reverse=True):
        for i in np.flatnonzero(shapely.intersects_xy(geom, xs, ys)):
            found[i] = code
    return found


# --- the index -------------------------------------------------------------------------------


def test_point_inside_dipu_from_wgs84_and_gcj02(index: BoundaryIndex) -> None:
    dipu = geometry(index, DIPU)
    point = dipu.representative_point()
    assert index.locate(point.x, point.y) == DIPU

    gcj = from_wgs84(point.x, point.y, "gcj02")
    assert haversine_m(point.x, point.y, *gcj) > 300  # the raw GCJ-02 point is elsewhere
    assert index.locate(*to_wgs84(*gcj, "gcj02")) == DIPU


def test_exclave_in_dipus_hole_belongs_to_changshuo(index: BoundaryIndex) -> None:
    piece = exclave(index)
    point = piece.representative_point()
    dipu = geometry(index, DIPU)
    assert Polygon(dipu.interiors[0]).contains(point) and not dipu.contains(point)

    assert index.locate(point.x, point.y) == CHANGSHUO
    assert index.locate_with_margin(point.x, point.y, 5.0) == (CHANGSHUO, False)


def test_border_within_accuracy_is_ambiguous(index: BoundaryIndex) -> None:
    piece = exclave(index)
    # A point ~150 m outside the exclave, so in 递铺街道, with 昌硕街道 150 m away.
    x, y = metric_buffer(piece, 150.0).exterior.coords[0]
    assert index.locate(x, y) == DIPU
    assert distance_m((x, y), piece) == pytest.approx(150.0, abs=1.0)
    assert distance_m((x, y), Polygon(geometry(index, DIPU).exterior)) > 1000

    assert index.locate_with_margin(x, y, 500.0) == (DIPU, True)
    assert index.locate_with_margin(x, y, 160.0) == (DIPU, True)
    assert index.locate_with_margin(x, y, 140.0) == (DIPU, False)
    assert index.locate_with_margin(x, y, 5.0) == (DIPU, False)
    assert index.locate_with_margin(x, y, 0.0) == (DIPU, False)


def test_outside_every_township(index: BoundaryIndex) -> None:
    minx, miny, maxx, maxy = shapely.total_bounds([g for _, g in demo_rows()])
    assert index.locate(2.35, 48.85) is None
    assert index.locate(minx - 0.01, miny) is None
    assert index.locate(math.nan, 30.7) is None
    assert index.locate_with_margin(maxx + 0.1, maxy + 0.1, 500.0) == (None, False)
    assert BoundaryIndex.empty().locate(119.5, 30.7) is None
    assert BoundaryIndex.empty().locate_with_margin(119.5, 30.7, 100.0) == (None, False)
    assert BoundaryIndex.empty().locate_many([119.5], [30.7]) == [None]


def test_index_agrees_with_testing_every_polygon(index: BoundaryIndex) -> None:
    rows = demo_rows()
    minx, miny, maxx, maxy = shapely.total_bounds([g for _, g in rows])
    rng = np.random.default_rng(11)
    xs, ys = (
        rng.uniform(minx - 0.02, maxx + 0.02, 20_000),
        rng.uniform(miny - 0.02, maxy + 0.02, 20_000),
    )
    # Points on borders too, where the cells must hand over to the polygons.
    on_border = shapely.get_coordinates(shapely.segmentize(geometry(index, DIPU).boundary, 0.001))
    xs, ys = np.r_[xs, on_border[:, 0] + 1e-7], np.r_[ys, on_border[:, 1] - 1e-7]

    expected = brute_force(rows, xs, ys)

    assert [index.locate(x, y) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)] == expected
    assert index.locate_many(xs, ys) == expected
    assert index.border_cell_share < 0.05


@pytest.mark.parametrize("max_cells", [500, 20_000, 1_000_000])
def test_synthetic_tessellation_with_overlaps(max_cells: int) -> None:
    rng = np.random.default_rng(max_cells)
    frame = shapely.box(100.0, 25.0, 102.0, 26.5)
    seeds = shapely.multipoints(rng.uniform([100.0, 25.0], [102.0, 26.5], (300, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame
    )
    rows: list[tuple[str, BaseGeometry]] = [(f"5301{i:05d}", g) for i, g in enumerate(cells)]
    # Two overlapping additions and one township inside another: the lowest code must win.
    rows += [
        ("530000000", shapely.Point(101.0, 25.7).buffer(0.2)),
        ("539999999", shapely.box(100.5, 25.5, 100.6, 25.6)),
        ("530000001", shapely.Point(100.2, 26.2).buffer(0.01)),
    ]
    built = BoundaryIndex.build(rows, max_cells=max_cells)
    xs, ys = rng.uniform(99.9, 102.1, 20_000), rng.uniform(24.9, 26.6, 20_000)

    expected = brute_force(rows, xs, ys)

    assert [built.locate(x, y) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)] == expected
    assert built.locate_many(xs, ys) == expected
    assert built.cell_count <= max_cells * 1.2 + 100
    assert built.locate_with_margin(101.0, 25.7, 10.0) == ("530000000", True)  # overlap


# --- the rules -------------------------------------------------------------------------------


def test_gps_usable() -> None:
    assert gps_usable((119.5, 30.7), 30.0, 2000.0)
    assert gps_usable((119.5, 30.7), None, 2000.0)
    assert not gps_usable((119.5, 30.7), 2500.0, 2000.0)
    assert not gps_usable((119.5, 30.7), -1.0, 2000.0)
    assert not gps_usable((119.5, 30.7), math.inf, 2000.0)
    assert not gps_usable((2.35, 48.85), 10.0, 2000.0)
    assert not gps_usable((math.nan, 30.7), 10.0, 2000.0)
    assert not gps_usable(None, 10.0, 2000.0)


def test_routing_order(
    index: BoundaryIndex, windows: dict[str, tuple[float, float] | None]
) -> None:
    dipu = geometry(index, DIPU).representative_point()
    inside = (dipu.x, dipu.y)
    *_, maxx, maxy = shapely.total_bounds([g for _, g in demo_rows()])
    just_outside = (maxx + 0.02, maxy + 0.02)  # in China, in no demo township
    far_away = (110.0, 30.0)
    rules = {
        "windows_by_township": windows,
        "nearest_within_m": 60_000.0,
        "county_fallback": "330523",
        "index": index,
    }

    by_polygon = route(
        point=inside,
        accuracy_m=20.0,
        village_code="330523104200",
        household_village="330523105201",
        **rules,
    )
    assert (by_polygon.township_code, by_polygon.routed_by, by_polygon.ambiguous) == (
        DIPU,
        "polygon",
        False,
    )
    assert by_polygon.county_code == "330523" and by_polygon.reason

    # No point, a point abroad, an absurd accuracy: the chosen village decides.
    for point, accuracy in ((None, None), ((2.35, 48.85), 10.0), (inside, 50_000.0)):
        result = route(
            point=point,
            accuracy_m=accuracy,
            village_code="330523104200",
            household_village="330523105201",
            **rules,
        )
        assert (result.township_code, result.routed_by) == ("330523104", "village_code")

    # A village code that is no code, or of a township without a window: the household's.
    for village in ("not-a-code", "330523999200", "３３０５２３１０４２００", None):
        result = route(
            point=None,
            accuracy_m=None,
            village_code=village,
            household_village="330523105201",
            **rules,
        )
        assert (result.township_code, result.routed_by) == ("330523105", "household")

    nearest = route(
        point=just_outside, accuracy_m=30.0, village_code=None, household_village=None, **rules
    )
    assert nearest.routed_by == "nearest_window" and nearest.ambiguous
    assert nearest.township_code is not None
    best = min(
        (c for c, p in windows.items() if p is not None),
        key=lambda c: haversine_m(*just_outside, *windows[c]),  # type: ignore[misc]
    )
    assert nearest.township_code == best

    for point, accuracy in ((far_away, 30.0), (just_outside, 50_000.0), (None, None)):
        unrouted = route(
            point=point, accuracy_m=accuracy, village_code=None, household_village=None, **rules
        )
        assert (unrouted.township_code, unrouted.routed_by, unrouted.county_code) == (
            None,
            "county_unrouted",
            "330523",
        )


def test_polygon_is_ambiguous_near_a_border(index: BoundaryIndex, windows: dict) -> None:
    x, y = metric_buffer(exclave(index), 150.0).exterior.coords[0]
    common = {
        "village_code": None,
        "household_village": None,
        "windows_by_township": windows,
        "nearest_within_m": 5000.0,
        "county_fallback": "330523",
        "index": index,
    }

    near = route(point=(x, y), accuracy_m=500.0, **common)
    sharp = route(point=(x, y), accuracy_m=5.0, **common)
    picked = route(point=(x, y), accuracy_m=None, **common)

    assert (near.township_code, near.routed_by, near.ambiguous) == (DIPU, "polygon", True)
    assert "500" in near.reason
    assert (sharp.township_code, sharp.routed_by, sharp.ambiguous) == (DIPU, "polygon", False)
    assert (picked.routed_by, picked.ambiguous) == ("polygon", False)


def test_near_a_border_the_chosen_village_decides(index: BoundaryIndex, windows: dict) -> None:
    # Just inside 递铺街道, 150 m from 孝丰镇, every other township over 1.5 km away.
    point = border_point(dict(demo_rows()), DIPU, XIAOFENG, 150.0)
    assert index.locate(*point) == DIPU
    common = {
        "household_village": None,
        "windows_by_township": windows,
        "nearest_within_m": 5000.0,
        "county_fallback": "330523",
        "index": index,
    }

    # The GPS cannot tell the two apart: the village chosen in the neighbour decides.
    near = route(point=point, accuracy_m=500.0, village_code=f"{XIAOFENG}203", **common)
    assert (near.township_code, near.routed_by, near.ambiguous) == (XIAOFENG, "village_code", True)
    assert near.county_code == "330523" and "500" in near.reason

    # A sharp fix is no doubt: the polygon wins over the village.
    sharp = route(point=point, accuracy_m=20.0, village_code=f"{XIAOFENG}203", **common)
    assert (sharp.township_code, sharp.routed_by, sharp.ambiguous) == (DIPU, "polygon", False)

    # A village of the township the point is in, or of one the GPS cannot reach: the polygon
    # wins, still marked for the clerk.
    for village in (f"{DIPU}001", f"{HANGGAI}200", None):
        result = route(point=point, accuracy_m=500.0, village_code=village, **common)
        assert (result.township_code, result.routed_by, result.ambiguous) == (
            DIPU,
            "polygon",
            True,
        ), village

    # A neighbour without a window cannot take it.
    without = {c: p for c, p in windows.items() if c != XIAOFENG}
    result = route(
        point=point,
        accuracy_m=500.0,
        village_code=f"{XIAOFENG}203",
        **common | {"windows_by_township": without},
    )
    assert (result.township_code, result.routed_by) == (DIPU, "polygon")


def test_for_someone_else_the_chosen_village_decides(index: BoundaryIndex, windows: dict) -> None:
    dipu = geometry(index, DIPU).representative_point()
    common = {
        "point": (dipu.x, dipu.y),  # the sender's phone, well inside 递铺街道
        "accuracy_m": 10.0,
        "household_village": None,
        "windows_by_township": windows,
        "nearest_within_m": 5000.0,
        "county_fallback": "330523",
        "index": index,
    }

    elsewhere = route(village_code=f"{HANGGAI}200", village_first=True, **common)
    assert (elsewhere.township_code, elsewhere.routed_by, elsewhere.ambiguous) == (
        HANGGAI,
        "village_code",
        False,
    )
    assert elsewhere.county_code == "330523"
    # The sender's own request (village_first off) still goes where the phone is.
    mine = route(village_code=f"{HANGGAI}200", **common)
    assert (mine.township_code, mine.routed_by) == (DIPU, "polygon")
    # No village, or one whose township has no window: the phone's point routes it.
    for village, table in ((None, windows), (f"{HANGGAI}200", {DIPU: windows[DIPU]})):
        result = route(
            village_code=village, village_first=True, **common | {"windows_by_township": table}
        )
        assert (result.township_code, result.routed_by) == (DIPU, "polygon")


def test_township_without_window_is_skipped(index: BoundaryIndex, windows: dict) -> None:
    dipu = geometry(index, DIPU).representative_point()
    without_dipu = {c: p for c, p in windows.items() if c != DIPU}

    result = route(
        point=(dipu.x, dipu.y),
        accuracy_m=10.0,
        village_code=None,
        household_village="330523105201",
        windows_by_township=without_dipu,
        nearest_within_m=5000.0,
        county_fallback="330523",
        index=index,
    )

    assert (result.township_code, result.routed_by) == ("330523105", "household")
    no_index = route(
        point=(dipu.x, dipu.y),
        accuracy_m=10.0,
        village_code=None,
        household_village=None,
        windows_by_township={DIPU: (dipu.x, dipu.y)},
        nearest_within_m=5000.0,
        county_fallback=None,
        index=None,
    )
    assert (no_index.township_code, no_index.routed_by) == (DIPU, "nearest_window")


# --- reloading -------------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.usefixtures("db")
async def test_index_reloads_after_an_import(
    division_subset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.import_divisions(directory=division_subset, version="2023")
    clock = FakeClock()
    here = RoutingIndex(check_interval_s=5.0, clock=clock)
    monkeypatch.setattr(routing, "_process_index", here)
    elsewhere = RoutingIndex(check_interval_s=5.0, clock=clock)  # another worker process
    assert routing.process_index() is here
    assert not here.loaded and here.generation is None

    assert len(await here.get_current()) == 0
    assert here.loaded and here.generation == 0
    await import_boundaries(path=DEMO_WGS, crs="wgs84")

    # This process rebuilt at once; the other one finds out at its first check.
    assert here.generation == 1 and len(here.index) == 18
    assert len(elsewhere.index) == 0
    assert len(await elsewhere.get_current()) == 18 and elsewhere.generation == 1
    meishan = geometry(here.index, MEISHAN).representative_point()
    assert elsewhere.index.locate(meishan.x, meishan.y) == MEISHAN

    # Now 泗安镇 is (wrongly) drawn over 煤山镇 too: the lower code takes the overlap.
    features = [f for f in demo_features() if f["properties"]["code"] == MEISHAN]
    features[0]["properties"]["code"] = SIAN
    report = await import_boundaries(path=write(tmp_path / "sian.geojson", features), crs="wgs84")
    assert report.written and [(o.first, o.second) for o in report.overlaps] == [(SIAN, MEISHAN)]
    assert here.generation == 2 and here.index.locate(meishan.x, meishan.y) == SIAN

    clock.now += 1.0
    stale = await elsewhere.get_current()
    assert elsewhere.generation == 1 and stale.locate(meishan.x, meishan.y) == MEISHAN
    clock.now += 5.0
    fresh = await elsewhere.get_current()
    assert elsewhere.generation == 2 and fresh.locate(meishan.x, meishan.y) == SIAN
    assert await elsewhere.get_current() is fresh  # unchanged: no rebuild

    # reload() skips the interval; an unused index is not built just because of an import.
    idle = RoutingIndex(clock=clock)
    monkeypatch.setattr(routing, "_process_index", idle)
    await import_boundaries(path=DEMO_WGS, crs="wgs84")
    assert not idle.loaded
    assert (await idle.reload()).locate(meishan.x, meishan.y) == MEISHAN and idle.generation == 3
