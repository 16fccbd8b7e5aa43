"""Routing a submission to a township: the in-memory boundary index and the routing rules."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from tortoise import connections

from backend.geo.coords import haversine_m, metres_per_degree, out_of_china
from backend.geo.models import TownshipBoundary

RoutedBy: TypeAlias = Literal[
    "polygon", "village_code", "household", "nearest_window", "county_unrouted"
]
Point: TypeAlias = tuple[float, float]

# A GPS fix worse than this says little about which township a phone is in.
DEFAULT_MAX_ACCURACY_M = 2000.0
DEFAULT_CHECK_INTERVAL_S = 5.0
# The grid's memory bound (4 bytes a cell) and its finest cell (~50 m): finer cells would only
# shave the few lookups that land within metres of a border.
DEFAULT_MAX_CELLS = 4_000_000
DEFAULT_MIN_CELL_DEG = 0.0005

_EMPTY = -1  # a cell outside every township; cells below it name a candidate list


@dataclass(frozen=True)
class _Grid:
    """A uniform grid over the index's extent; cell (col, row) is at cells[row * ncols + col]."""

    x0: float
    y0: float
    x1: float
    y1: float
    inv: float  # cells per degree
    ncols: int
    nrows: int

    def cols(self, x: NDArray[np.float64]) -> NDArray[np.int64]:
        """Column numbers, computed exactly as locate() computes them (the two must agree)."""
        return np.clip(((x - self.x0) * self.inv).astype(np.int64), 0, self.ncols - 1)

    def rows(self, y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Row numbers, as locate() computes them."""
        return np.clip(((y - self.y0) * self.inv).astype(np.int64), 0, self.nrows - 1)


# A cell that no township border crosses lies wholly inside one township (or outside all), so it
# stores that township and answers with one array read; only the cells a border crosses keep
# candidates to test with prepared polygons. Where polygons overlap, the lowest code wins.
class BoundaryIndex:
    """Township polygons (WGS-84) over a cell grid, for point look-ups."""

    def __init__(
        self,
        codes: list[str],
        geoms: NDArray[np.object_],
        grid: _Grid | None,
        cells: NDArray[np.int32],
        candidates: list[tuple[tuple[BaseGeometry, str], ...]],
    ) -> None:
        self.codes = codes
        self._position = {code: i for i, code in enumerate(codes)}
        self._geoms = geoms
        self._boundaries = shapely.boundary(geoms) if len(geoms) else geoms
        self._tree = shapely.STRtree(geoms)
        self._grid = grid
        self._cell_array = cells
        # A memoryview reads one int32 as a Python int far faster than numpy indexing does.
        self._cells = cells.data
        self._candidates = candidates
        if grid is None:
            self._bounds = (math.inf, math.inf, -math.inf, -math.inf)
            self._inv, self._ncols = 1.0, 1
        else:
            self._bounds = (grid.x0, grid.y0, grid.x1, grid.y1)
            self._inv, self._ncols = grid.inv, grid.ncols

    @classmethod
    def empty(cls) -> BoundaryIndex:
        """An index with no townships: every point is outside."""
        return cls([], np.array([], dtype=object), None, np.zeros(1, dtype=np.int32), [])

    @classmethod
    def from_wkb_rows(
        cls,
        rows: Iterable[tuple[str, bytes]],
        *,
        max_cells: int = DEFAULT_MAX_CELLS,
        min_cell_deg: float = DEFAULT_MIN_CELL_DEG,
    ) -> BoundaryIndex:
        """An index from (township_code, well-known binary) rows, as stored."""
        pairs = list(rows)
        geoms = shapely.from_wkb([wkb for _, wkb in pairs]) if pairs else []
        return cls.build(
            zip([code for code, _ in pairs], geoms, strict=True),
            max_cells=max_cells,
            min_cell_deg=min_cell_deg,
        )

    @classmethod
    def build(
        cls,
        rows: Iterable[tuple[str, BaseGeometry]],
        *,
        max_cells: int = DEFAULT_MAX_CELLS,
        min_cell_deg: float = DEFAULT_MIN_CELL_DEG,
    ) -> BoundaryIndex:
        """An index over (township_code, polygon) rows."""
        pairs = sorted(((code, geom) for code, geom in rows if not geom.is_empty), key=_first)
        if not pairs:
            return cls.empty()
        codes = [code for code, _ in pairs]
        geoms = np.empty(len(pairs), dtype=object)
        geoms[:] = [geom for _, geom in pairs]
        shapely.prepare(geoms)
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
        area = max(maxx - minx, 1e-9) * max(maxy - miny, 1e-9)
        cell = max(min_cell_deg, math.sqrt(area / max_cells))
        inv = 1.0 / cell
        grid = _Grid(
            x0=minx,
            y0=miny,
            x1=maxx,
            y1=maxy,
            inv=inv,
            ncols=int((maxx - minx) * inv) + 1,
            nrows=int((maxy - miny) * inv) + 1,
        )
        cells, candidates = _fill_grid(geoms, codes, grid, cell)
        return cls(codes, geoms, grid, cells, candidates)

    def __len__(self) -> int:
        return len(self.codes)

    def locate(self, lng: float, lat: float) -> str | None:
        """The township (code) a WGS-84 point lies in, or None."""
        x0, y0, x1, y1 = self._bounds
        # Written to fail for NaN too: every comparison with NaN is false.
        if not (x0 <= lng <= x1 and y0 <= lat <= y1):
            return None
        inv = self._inv
        value = self._cells[int((lat - y0) * inv) * self._ncols + int((lng - x0) * inv)]
        if value >= 0:
            return self.codes[value]
        if value == _EMPTY:
            return None
        for geom, code in self._candidates[-2 - value]:
            if shapely.intersects_xy(geom, lng, lat):
                return code
        return None

    def locate_many(self, lngs: Sequence[float], lats: Sequence[float]) -> list[str | None]:
        """locate() for many points at once (vectorised; the same answers)."""
        xs = np.asarray(lngs, dtype=np.float64)
        ys = np.asarray(lats, dtype=np.float64)
        out: list[str | None] = [None] * len(xs)
        grid = self._grid
        if grid is None or not len(xs):
            return out
        inside = (xs >= grid.x0) & (xs <= grid.x1) & (ys >= grid.y0) & (ys <= grid.y1)
        where = np.flatnonzero(inside)
        values = self._cell_array[grid.rows(ys[where]) * grid.ncols + grid.cols(xs[where])].astype(
            np.int64
        )
        found = np.full(len(xs), -1, dtype=np.int64)
        found[where[values >= 0]] = values[values >= 0]
        border = values < _EMPTY
        if border.any():
            points = where[border]
            # Test each border point against the township polygons near it, lowest code first.
            point_idx, poly_idx = self._tree.query(shapely.points(xs[points], ys[points]))
            hit = shapely.intersects_xy(
                self._geoms[poly_idx], xs[points][point_idx], ys[points][point_idx]
            )
            best = np.full(len(points), len(self.codes), dtype=np.int64)
            np.minimum.at(best, point_idx[hit], poly_idx[hit])
            ok = best < len(self.codes)
            found[points[ok]] = best[ok]
        codes = self.codes
        for i in np.flatnonzero(found >= 0).tolist():
            out[i] = codes[found[i]]
        return out

    def locate_with_margin(
        self, lng: float, lat: float, accuracy_m: float
    ) -> tuple[str | None, bool]:
        """The township and whether a border lies within accuracy_m metres of the point."""
        code = self.locate(lng, lat)
        if not accuracy_m > 0 or not self.codes:
            return code, False
        per_lng, per_lat = metres_per_degree(lat)
        dx, dy = accuracy_m / per_lng, accuracy_m / per_lat
        near = self._tree.query(shapely.box(lng - dx, lat - dy, lng + dx, lat + dy))
        if not len(near):
            return code, False
        if int(np.count_nonzero(shapely.intersects_xy(self._geoms[near], lng, lat))) > 1:
            return code, True  # inside two overlapping townships
        # Borders near the point, in metres east and north of it (flat at this scale).
        pieces = shapely.clip_by_rect(
            self._boundaries[near], lng - dx, lat - dy, lng + dx, lat + dy
        )
        scale = np.array([per_lng, per_lat])
        origin = np.array([lng, lat])
        local = shapely.transform(pieces, lambda xy: (xy - origin) * scale)
        # An empty piece (no border inside the box) has a NaN distance: as good as none.
        distances = np.nan_to_num(shapely.distance(shapely.points(0.0, 0.0), local), nan=np.inf)
        return code, bool(distances.min() < accuracy_m)

    def reaches(self, code: str, lng: float, lat: float, accuracy_m: float) -> bool:
        """Whether a township lies within accuracy_m metres of a point (or covers it)."""
        geom = self.geometry(code)
        if geom is None:
            return False
        if shapely.intersects_xy(geom, lng, lat):
            return True
        if not accuracy_m > 0:
            return False
        per_lng, per_lat = metres_per_degree(lat)
        dx, dy = accuracy_m / per_lng, accuracy_m / per_lat
        piece = shapely.clip_by_rect(geom, lng - dx, lat - dy, lng + dx, lat + dy)
        if piece.is_empty:
            return False
        scale = np.array([per_lng, per_lat])
        origin = np.array([lng, lat])
        local = shapely.transform(piece, lambda xy: (xy - origin) * scale)
        return bool(shapely.distance(shapely.points(0.0, 0.0), local) < accuracy_m)

    def geometry(self, code: str) -> BaseGeometry | None:
        """A township's polygon as indexed."""
        position = self._position.get(code)
        return None if position is None else self._geoms[position]

    def representative_points(self) -> dict[str, Point]:
        """A point inside each township (a stand-in for its window where none is known)."""
        points = shapely.point_on_surface(self._geoms)
        return {
            code: (float(x), float(y))
            for code, (x, y) in zip(self.codes, shapely.get_coordinates(points), strict=True)
        }

    @property
    def cell_count(self) -> int:
        """How many grid cells the index holds."""
        return 0 if self._grid is None else self._grid.ncols * self._grid.nrows

    @property
    def border_cell_share(self) -> float:
        """The share of cells that need a polygon test."""
        if self._grid is None:
            return 0.0
        return float(np.count_nonzero(self._cell_array < _EMPTY)) / self.cell_count


def _first(pair: tuple[str, BaseGeometry]) -> str:
    return pair[0]


def _fill_grid(
    geoms: NDArray[np.object_], codes: list[str], grid: _Grid, cell: float
) -> tuple[NDArray[np.int32], list[tuple[tuple[BaseGeometry, str], ...]]]:
    """Each cell's township, or -2 - k for cells a border crosses (k: their candidate list)."""
    n = len(geoms)
    keys = _border_keys(geoms, grid, cell)
    border = _sorted_unique(keys // n)
    # A border cell also holds every township covering its centre: without that, a cell inside
    # one township and crossed by an overlapping neighbour's border would lose the first.
    point_idx, poly_idx = _covering(geoms, grid, border)
    keys = _sorted_unique(np.concatenate([keys, border[point_idx] * n + poly_idx]))
    border_cells, owners = keys // n, keys % n
    cells = np.full(grid.ncols * grid.nrows, _EMPTY, dtype=np.int32)
    candidates: list[tuple[tuple[BaseGeometry, str], ...]] = []
    if len(border_cells):
        # Group (cell, owner) pairs by cell; identical owner sets share one candidate list.
        starts = np.flatnonzero(np.r_[True, border_cells[1:] != border_cells[:-1]])
        sizes = np.diff(np.r_[starts, len(border_cells)])
        group = np.repeat(np.arange(len(starts)), sizes)
        table = np.full((len(starts), int(sizes.max())), -1, dtype=np.int64)
        table[group, np.arange(len(border_cells)) - starts[group]] = owners
        order = np.lexsort(table.T[::-1])
        ordered = table[order]
        new_combo = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
        inverse = np.empty(len(table), dtype=np.int64)
        inverse[order] = np.cumsum(new_combo) - 1
        candidates = [
            tuple((geoms[o], codes[o]) for o in row.tolist() if o >= 0)
            for row in ordered[new_combo]
        ]
        cells[border_cells[starts]] = (-2 - inverse).astype(np.int32)
    _label_free_cells(cells, geoms, grid)
    return cells, candidates


def _sorted_unique(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """np.unique by sorting: much faster than np.unique's hashing on millions of int64."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _border_keys(geoms: NDArray[np.object_], grid: _Grid, cell: float) -> NDArray[np.int64]:
    """cell * n + township for every cell a township's border passes through (with repeats)."""
    n = len(geoms)
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_owner = part_owner[ring_part]
    # Pieces shorter than a cell span at most two columns and two rows: their bounding box's
    # four corner cells are then every cell they touch.
    rings = shapely.segmentize(rings, max_segment_length=cell * 0.99)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    ax, ay, bx, by = xy[:-1, 0][same], xy[:-1, 1][same], xy[1:, 0][same], xy[1:, 1][same]
    owner = ring_owner[ring_of[:-1][same]].astype(np.int64)
    # A hair of slack so rounding in segmentize never leaves a grazed cell unmarked.
    eps = cell * 1e-9
    c_lo, c_hi = grid.cols(np.minimum(ax, bx) - eps), grid.cols(np.maximum(ax, bx) + eps)
    r_lo, r_hi = grid.rows(np.minimum(ay, by) - eps), grid.rows(np.maximum(ay, by) + eps)
    ncols = grid.ncols
    wide, tall = c_hi != c_lo, r_hi != r_lo
    both = wide & tall
    return np.concatenate(
        [
            (r_lo * ncols + c_lo) * n + owner,
            (r_lo[wide] * ncols + c_hi[wide]) * n + owner[wide],
            (r_hi[tall] * ncols + c_lo[tall]) * n + owner[tall],
            (r_hi[both] * ncols + c_hi[both]) * n + owner[both],
        ]
    )


def _covering(
    geoms: NDArray[np.object_], grid: _Grid, cells: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(i, township) pairs for each township that covers the centre of cells[i]."""
    step = 1.0 / grid.inv
    cx = grid.x0 + (cells % grid.ncols + 0.5) * step
    cy = grid.y0 + (cells // grid.ncols + 0.5) * step
    point_idx, poly_idx = shapely.STRtree(geoms).query(shapely.points(cx, cy))
    hit = shapely.intersects_xy(geoms[poly_idx], cx[point_idx], cy[point_idx])
    return point_idx[hit].astype(np.int64), poly_idx[hit].astype(np.int64)


def _label_free_cells(cells: NDArray[np.int32], geoms: NDArray[np.object_], grid: _Grid) -> None:
    """Label the cells no border crosses, testing one cell per run of them along a row."""
    # No border inside a run, so all of it lies in one township or outside all.
    marked = cells != _EMPTY
    free = ~marked
    start = free.copy()
    row_start = np.zeros(len(cells), dtype=bool)
    row_start[:: grid.ncols] = True
    start[1:] &= marked[:-1] | row_start[1:]
    first = np.flatnonzero(start)
    if not len(first):
        return
    point_idx, poly_idx = _covering(geoms, grid, first.astype(np.int64))
    label = np.full(len(first), len(geoms), dtype=np.int64)
    np.minimum.at(label, point_idx, poly_idx)
    label[label == len(geoms)] = _EMPTY
    run = np.cumsum(start) - 1
    cells[free] = label[run[free]].astype(np.int32)


@dataclass(frozen=True)
class RouteResult:
    """Where a submission goes and which rule decided."""

    township_code: str | None
    routed_by: RoutedBy
    # A clerk should confirm: the point is near a border, or the window was a nearest guess.
    ambiguous: bool
    county_code: str | None = None
    reason: str = ""


def gps_usable(point: Point | None, accuracy_m: float | None, max_accuracy_m: float) -> bool:
    """Whether a point can route by GPS: finite, inside China, accurate enough."""
    if point is None:
        return False
    lng, lat = point
    if not (math.isfinite(lng) and math.isfinite(lat)) or out_of_china(lng, lat):
        return False
    # No accuracy means a point picked on a map: exact as far as routing can tell.
    return accuracy_m is None or (math.isfinite(accuracy_m) and 0 <= accuracy_m <= max_accuracy_m)


def _township_of(code: str | None) -> str | None:
    """The township (first 9 digits) of a 9- or 12-digit division code, else None."""
    if code is None:
        return None
    code = code.strip()
    if len(code) in (9, 12) and code.isascii() and code.isdigit():
        return code[:9]
    return None


def route(
    *,
    point: Point | None,
    accuracy_m: float | None,
    village_code: str | None,
    household_village: str | None,
    windows_by_township: Mapping[str, Point | None],
    nearest_within_m: float,
    county_fallback: str | None,
    index: BoundaryIndex | None,
    max_accuracy_m: float = DEFAULT_MAX_ACCURACY_M,
    village_first: bool = False,
) -> RouteResult:
    """Pick the township by DESIGN.md's rules, in order; only townships with a window qualify.

    Two refinements of the order, both answering routed_by "village_code":
    - village_first: the chosen village is where the person in need is and the point only
      where the sender's phone is (help asked for someone else): the village decides, and the
      point is only evidence (ambiguous False: nothing about the village is in doubt).
    - a point within its accuracy of a border, with a village chosen in a township the point
      may equally be in: the village decides, ambiguous stays True for a clerk to confirm.
    """
    # windows_by_township: each township that has a window -> the window's WGS-84 position, or
    # None when unknown. Points are WGS-84 (lng, lat).
    chosen = _township_of(village_code)
    if chosen is not None and chosen not in windows_by_township:
        chosen = None
    if village_first and chosen is not None:
        reason = "按所选村（社区）：为他人求助，以求助对象所在地为准"
        return RouteResult(chosen, "village_code", False, chosen[:6], reason)
    usable = gps_usable(point, accuracy_m, max_accuracy_m)
    if usable and point is not None and index is not None:
        code, ambiguous = index.locate_with_margin(point[0], point[1], accuracy_m or 0.0)
        if code is not None and code in windows_by_township:
            if (
                ambiguous
                and chosen is not None
                and chosen != code
                and index.reaches(chosen, point[0], point[1], accuracy_m or 0.0)
            ):
                reason = f"定位距边界不足 {accuracy_m:.0f} 米，按所选村（社区），请核实"
                return RouteResult(chosen, "village_code", True, chosen[:6], reason)
            reason = "定位在该乡镇（街道）范围内"
            if ambiguous:
                reason += f"，但距边界不足 {accuracy_m:.0f} 米，请核实"
            return RouteResult(code, "polygon", ambiguous, code[:6], reason)
    if chosen is not None:
        return RouteResult(chosen, "village_code", False, chosen[:6], "按所选村（社区）")
    township = _township_of(household_village)
    if township is not None and township in windows_by_township:
        return RouteResult(township, "household", False, township[:6], "按户籍所在村（社区）")
    if usable and point is not None:
        best: tuple[float, str] | None = None
        for code, position in windows_by_township.items():
            if position is None:
                continue
            distance = haversine_m(point[0], point[1], position[0], position[1])
            if distance <= nearest_within_m and (best is None or distance < best[0]):
                best = (distance, code)
        if best is not None:
            reason = f"最近的受理窗口（约 {best[0] / 1000:.1f} 公里），请核实"
            return RouteResult(best[1], "nearest_window", True, best[1][:6], reason)
    return RouteResult(
        None, "county_unrouted", False, county_fallback, "无法确定乡镇，进入县级待分派"
    )


async def _read_stamp() -> tuple[int, int]:
    """What changes whenever the boundary table does: the newest generation and the row count."""
    rows = await connections.get("default").execute_query_dict(
        "SELECT max(generation) AS generation, count(*) AS n FROM geo_township_boundary"
    )
    return int(rows[0]["generation"] or 0), int(rows[0]["n"] or 0)


class RoutingIndex:
    """This process's boundary index, reloaded when another process imports boundaries."""

    def __init__(
        self,
        *,
        check_interval_s: float = DEFAULT_CHECK_INTERVAL_S,
        max_cells: int = DEFAULT_MAX_CELLS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.check_interval_s = check_interval_s
        self.max_cells = max_cells
        self._clock = clock
        self._index = BoundaryIndex.empty()
        self._stamp: tuple[int, int] | None = None
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    @property
    def index(self) -> BoundaryIndex:
        """The index as last loaded (empty before the first load)."""
        return self._index

    @property
    def generation(self) -> int | None:
        """The boundary generation loaded, or None before the first load."""
        return None if self._stamp is None else self._stamp[0]

    @property
    def loaded(self) -> bool:
        """Whether this process has loaded the index yet."""
        return self._stamp is not None

    async def get_current(self) -> BoundaryIndex:
        """The index, reloaded first when the table changed (checked at most every interval)."""
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < self.check_interval_s:
            return self._index
        # Set before awaiting, so a burst of requests sends one query, not one each.
        self._checked_at = now
        stamp = await _read_stamp()
        if stamp != self._stamp:
            await self._load(stamp)
        return self._index

    async def reload(self) -> BoundaryIndex:
        """Reload from the database now."""
        self._checked_at = self._clock()
        await self._load(await _read_stamp())
        return self._index

    async def reload_if_loaded(self) -> None:
        """After an import in this process: rebuild now, unless nothing here uses the index."""
        if self.loaded:
            await self.reload()

    async def _load(self, stamp: tuple[int, int]) -> None:
        async with self._lock:
            if stamp == self._stamp:
                return
            # The stamp is read before the rows: rows newer than it only cause one more reload.
            rows = await TownshipBoundary.all().values_list("township_code", "geometry_wkb")
            pairs = [(str(code), bytes(wkb)) for code, wkb in rows]
            # Building takes a while for a whole country: keep the event loop serving meanwhile.
            self._index = await asyncio.to_thread(
                BoundaryIndex.from_wkb_rows, pairs, max_cells=self.max_cells
            )
            self._stamp = stamp


_process_index = RoutingIndex()


def process_index() -> RoutingIndex:
    """The routing index of this process."""
    return _process_index
