"""CSV helpers shared by the geo tests: division lists and village files written to disk."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

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
