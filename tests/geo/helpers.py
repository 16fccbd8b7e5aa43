"""Helpers shared by the geo tests: division lists and village files, points beside borders."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import shapely
from shapely.affinity import scale
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from backend.geo.coords import metres_per_degree

DIVISION_FILES = ("provinces.csv", "cities.csv", "areas.csv", "streets.csv")
VILLAGE_HEADER = ["code", "name", "township_code", "kind", "lng", "lat"]

Rows = list[list[str]]


def read_csv(path: Path) -> Rows:
    """All rows of a CSV file, header included."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_csv(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """Write rows (header included) to a CSV file."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def division_copy(
    source: Path, target: Path, edit: Callable[[str, Rows], Rows] | None = None
) -> Path:
    """A copy of a division list directory; `edit(filename, rows)` may change any file's rows."""
    target.mkdir(parents=True, exist_ok=True)
    for name in DIVISION_FILES:
        rows = read_csv(source / name)
        if edit is not None:
            rows = edit(name, rows)
        write_csv(target / name, rows)
    return target


def villages_file(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """A village CSV with the standard header; the first row given is on line 2."""
    return write_csv(path, [VILLAGE_HEADER, *rows])


def metric_buffer(geom: BaseGeometry, metres: float) -> BaseGeometry:
    """A buffer of so many metres, drawn in a plane scaled to metres at the shape's latitude."""
    per_lng, per_lat = metres_per_degree(geom.centroid.y)
    flat = scale(geom, per_lng, per_lat, origin=(0, 0))
    return scale(flat.buffer(metres, quad_segs=32), 1 / per_lng, 1 / per_lat, origin=(0, 0))


def border_point(
    shapes: Mapping[str, BaseGeometry],
    inside: str,
    beside: str,
    metres: float,
    *,
    clear_m: float = 1500.0,
) -> tuple[float, float]:
    """A WGS-84 point in township `inside`, `metres` from `beside`, clear_m from every other one.

    Only the two townships are then within a GPS accuracy below clear_m of the point.
    """
    home, neighbour = shapes[inside], shapes[beside]
    others = [g for code, g in shapes.items() if code not in (inside, beside)]
    keep_off = metric_buffer(shapely.union_all(others), clear_m)
    ring = shapely.segmentize(metric_buffer(neighbour, metres).exterior, 0.0005)
    for x, y in shapely.get_coordinates(ring).tolist():
        if home.contains(Point(x, y)) and not keep_off.contains(Point(x, y)):
            return x, y
    raise AssertionError(f"no point of {inside} lies {metres} m from {beside} alone")
