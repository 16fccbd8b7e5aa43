"""Routing a lead: gather what geo.routing.route needs (windows and their positions), then ask."""

from __future__ import annotations

import time

from tortoise.expressions import Q

from backend.accounts.authz import Principal
from backend.config import Settings
from backend.geo.routing import BoundaryIndex, RoutingIndex, gps_usable, route
from backend.intake.service import Routed
from backend.windows.models import Window

_representative_cache: list[tuple[BoundaryIndex, dict[str, tuple[float, float]]]] = []


def _representative(boundaries: BoundaryIndex) -> dict[str, tuple[float, float]]:
    """A point inside each township, computed once per loaded index."""
    if not _representative_cache or _representative_cache[0][0] is not boundaries:
        _representative_cache[:] = [(boundaries, boundaries.representative_points())]
    return _representative_cache[0][1]


WINDOW_CACHE_S = 60.0
_window_cache: dict[tuple[str | None, frozenset[str]], tuple[float, list[WindowRow]]] = {}
WindowRow = tuple[str, float | None, float | None]


async def _windows(county: str | None, extra: frozenset[str]) -> list[WindowRow]:
    """Windows of a county (and of extra townships), cached a minute: they rarely move."""
    key = (county, extra)
    cached = _window_cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < WINDOW_CACHE_S:
        return cached[1]
    condition = Q(township_code__in=sorted(extra))
    if county:
        condition |= Q(township_code__startswith=county)
    rows = await Window.filter(condition).values_list("township_code", "lng", "lat")
    result = [(str(code), lng, lat) for code, lng, lat in rows]
    if len(_window_cache) > 4096:
        _window_cache.clear()
    _window_cache[key] = (now, result)
    return result


async def route_for_lead(
    *,
    index: RoutingIndex,
    settings: Settings,
    point: tuple[float, float] | None,
    accuracy_m: float | None,
    village_code: str | None,
    reporter: Principal,
    household_village: str | None = None,
    village_first: bool = False,
) -> Routed:
    """Where a lead goes, by DESIGN.md's order of rules (village_first: see geo.routing.route)."""
    boundaries = index.index
    county = (reporter.jurisdiction or "")[:6] or None
    candidates: set[str] = set()
    if gps_usable(point, accuracy_m, settings.max_gps_accuracy_m) and point is not None:
        hit = boundaries.locate(point[0], point[1])
        if hit:
            candidates.add(hit)
    for code in (village_code, household_village):
        if code:
            candidates.add(code[:9])
    # Nearest-window candidates: the reporter's own county (grid workers report where they
    # work; a nationwide scan per request would cost more than it could find).
    representative = _representative(boundaries)
    positions: dict[str, tuple[float, float] | None] = {}
    for code, lng, lat in await _windows(county, frozenset(candidates)):
        positions[code] = (
            (lng, lat) if lng is not None and lat is not None else (representative.get(code))
        )
    result = route(
        point=point,
        accuracy_m=accuracy_m,
        village_code=village_code,
        household_village=household_village,
        windows_by_township=positions,
        nearest_within_m=settings.nearest_window_m,
        county_fallback=county,
        index=boundaries,
        max_accuracy_m=settings.max_gps_accuracy_m,
        village_first=village_first,
    )
    return Routed(
        township_code=result.township_code,
        county_code=result.county_code or county or "000000",
        routed_by=result.routed_by,
        ambiguous=result.ambiguous,
    )


def township_point(index: RoutingIndex, township_code: str) -> tuple[float, float] | None:
    """A point inside a township (WGS-84), where a window has no coordinates of its own."""
    return _representative(index.index).get(township_code)
