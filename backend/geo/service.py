"""Division codes: import (NBS list, village files), versioning and look-ups."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tortoise.transactions import in_transaction

from backend.errors import NotFound, ValidationFailed
from backend.geo.models import CODE_LENGTHS, PARENT_LENGTH, Division, Level

# ASCII digits only: `\d` also takes full-width ３３ and `$` a trailing newline.
_CODE_RE = re.compile(r"[0-9]+")
Progress = Callable[[int], None]

# The files of an NBS division list and the level each holds.
_DIVISION_FILES = (
    ("provinces.csv", Level.PROVINCE, None),
    ("cities.csv", Level.CITY, "provinceCode"),
    ("areas.csv", Level.COUNTY, "cityCode"),
    ("streets.csv", Level.TOWNSHIP, "areaCode"),
)
_EXPECTED_LENGTH = {level: length for length, level in CODE_LENGTHS.items()}


@dataclass
class ImportProblem:
    """One rejected line of an input file."""

    file: str
    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.code or '(空)'}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    abolished: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    written: bool = False


# The NBS coding rules (统计用区划代码编制规则): what a township's or village's last three digits
# say it is. 400-599 are as valid as the rest: development zones, farms and parks at township
# level (2,710 of them in the 2023 list), their communities and teams at village level.
TOWNSHIP_KINDS = ((1, 99, "街道"), (100, 199, "镇"), (200, 399, "乡"), (400, 599, "类似乡级单位"))
VILLAGE_KINDS = (
    (1, 199, "居委会"),
    (200, 399, "村委会"),
    (400, 499, "类似居委会"),
    (500, 599, "类似村委会"),
)


def _kind_by_digits(digits: int, table: tuple[tuple[int, int, str], ...]) -> str | None:
    return next((kind for low, high, kind in table if low <= digits <= high), None)


def township_kind(code: str) -> str | None:
    """街道, 镇, 乡 or 类似乡级单位 from a township code's last three digits."""
    return _kind_by_digits(int(code[6:9]), TOWNSHIP_KINDS)


def village_kind(code: str) -> str | None:
    """居委会, 村委会, 类似居委会 or 类似村委会 from a village code's last three digits."""
    return _kind_by_digits(int(code[9:12]), VILLAGE_KINDS)


def level_of(code: str) -> Level | None:
    """The level a code's length implies, or None when it is no division code."""
    if not _CODE_RE.fullmatch(code):
        return None
    return CODE_LENGTHS.get(len(code))


def _kind_for(code: str, level: Level) -> str | None:
    if level == Level.TOWNSHIP:
        return township_kind(code)
    if level == Level.VILLAGE:
        return village_kind(code)
    return None


def _read_rows(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


async def import_divisions(
    *, directory: Path, version: str, progress: Progress | None = None
) -> ImportReport:
    """Load an NBS list (provinces to townships); codes missing from it are marked abolished."""
    report = ImportReport()
    incoming: dict[str, Division] = {}
    for filename, level, parent_field in _DIVISION_FILES:
        path = directory / filename
        if not path.exists():
            raise ValidationFailed(f"缺少文件 {path}")
        for line, row in _read_rows(path):
            code, name = row.get("code", ""), row.get("name", "")
            problem = _check_code(code, level)
            if problem is None and not name:
                problem = "名称为空"
            parent = row.get(parent_field, "") if parent_field else None
            if problem is None and parent_field:
                expected_parent = code[: PARENT_LENGTH[len(code)]]
                if parent != expected_parent:
                    problem = f"上级代码 {parent} 与代码前缀 {expected_parent} 不一致"
                elif parent not in incoming:
                    problem = f"上级代码 {parent} 不存在"
            if problem is None and code in incoming:
                problem = "代码重复"
            if problem:
                report.problems.append(ImportProblem(filename, line, code, problem))
                continue
            incoming[code] = Division(
                code=code,
                name=name,
                level=level,
                parent_code=parent,
                county_code=code[:6] if len(code) >= 6 else None,
                kind=_kind_for(code, level),
                version=version,
                abolished=False,
            )
    if report.problems:
        return report
    await _write_divisions(
        incoming, report, levels=[lvl for _, lvl, _ in _DIVISION_FILES], progress=progress
    )
    return report


def _check_code(code: str, level: Level) -> str | None:
    if not _CODE_RE.fullmatch(code):
        return "代码应全为数字"
    if len(code) != _EXPECTED_LENGTH[level]:
        return f"代码长度应为 {_EXPECTED_LENGTH[level]} 位，实为 {len(code)} 位"
    return None


async def _write_divisions(
    incoming: dict[str, Division],
    report: ImportReport,
    *,
    levels: list[Level],
    progress: Progress | None,
    abolish_missing: bool = True,
) -> None:
    existing = {d.code: d for d in await Division.filter(level__in=levels)}
    to_create, to_update = [], []
    for code, new in incoming.items():
        old = existing.get(code)
        if old is None:
            to_create.append(new)
        elif (old.name, old.abolished, old.version, old.lng, old.lat, old.kind) != (
            new.name,
            False,
            new.version,
            new.lng,
            new.lat,
            new.kind,
        ):
            old.name, old.abolished, old.version = new.name, False, new.version
            old.lng, old.lat, old.kind = new.lng, new.lat, new.kind
            to_update.append(old)
        else:
            report.unchanged += 1
    to_abolish = []
    if abolish_missing:
        for code, old in existing.items():
            if code not in incoming and not old.abolished:
                old.abolished = True
                to_abolish.append(old)
    async with in_transaction() as conn:
        for start in range(0, len(to_create), 1000):
            batch = to_create[start : start + 1000]
            await Division.bulk_create(batch, using_db=conn)
            if progress:
                progress(len(batch))
        changed = to_update + to_abolish
        for start in range(0, len(changed), 1000):
            batch = changed[start : start + 1000]
            await Division.bulk_update(
                batch, fields=["name", "abolished", "version", "lng", "lat", "kind"], using_db=conn
            )
            if progress:
                progress(len(batch))
        gone = [d.code for d in to_abolish if d.level == Level.TOWNSHIP]
        if gone:
            # A village cannot outlive its township: the next village file re-homes it.
            await (
                Division.filter(level=Level.VILLAGE, parent_code__in=gone)
                .using_db(conn)
                .update(abolished=True)
            )
    report.created, report.updated, report.abolished = (
        len(to_create),
        len(to_update),
        len(to_abolish),
    )
    report.written = True


async def import_villages(
    *, path: Path, version: str, skip_invalid: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Load 12-digit villages/communities from a CSV (code,name,township_code,kind,lng,lat)."""
    report = ImportReport()
    townships = {
        d.code: d for d in await Division.filter(level=Level.TOWNSHIP).only("code", "abolished")
    }
    incoming: dict[str, Division] = {}
    for line, row in _read_rows(path):
        code, name = row.get("code", ""), row.get("name", "")
        problem = _check_code(code, Level.VILLAGE)
        township = code[:9]
        if problem is None and not name:
            problem = "名称为空"
        if problem is None and row.get("township_code") and row["township_code"] != township:
            problem = f"township_code {row['township_code']} 与代码前缀 {township} 不一致"
        if problem is None:
            parent = townships.get(township)
            if parent is None:
                problem = f"所属乡镇（街道）{township} 不存在"
            elif parent.abolished:
                problem = f"所属乡镇（街道）{township} 已撤销"
        kind = village_kind(code) if problem is None else None
        if problem is None and kind is None:
            problem = (
                "村级代码末三位应为 001-199（居委会）、200-399（村委会）、400-499（类似居委会）"
                "或 500-599（类似村委会）"
            )
        if problem is None and row.get("kind") and row["kind"] != kind:
            problem = f"类型 {row['kind']} 与代码不符（应为 {kind}）"
        lng, lat = None, None
        if problem is None and (row.get("lng") or row.get("lat")):
            try:
                lng, lat = float(row["lng"]), float(row["lat"])
            except (KeyError, ValueError):
                problem = "经纬度不是数字"
            else:
                if not (73 <= lng <= 136 and 3 <= lat <= 54):
                    problem = "经纬度不在中国境内"
        if problem is None and code in incoming:
            problem = "代码重复"
        if problem:
            report.problems.append(ImportProblem(path.name, line, code, problem))
            continue
        incoming[code] = Division(
            code=code,
            name=name,
            level=Level.VILLAGE,
            parent_code=township,
            county_code=code[:6],
            kind=kind,
            version=version,
            abolished=False,
            lng=lng,
            lat=lat,
        )
    if report.problems and not skip_invalid:
        return report
    # A village file covers some townships only: never abolish villages it does not mention.
    await _write_divisions(
        incoming, report, levels=[Level.VILLAGE], progress=progress, abolish_missing=False
    )
    return report


async def get_division(*, code: str) -> Division | None:
    """A division by code, abolished ones included."""
    return await Division.filter(code=code).first()


async def list_divisions(*, codes: Iterable[str]) -> list[Division]:
    """The divisions of these codes that exist (abolished ones included), by code."""
    return await Division.filter(code__in=sorted(set(codes))).order_by("code")


async def ensure_division(*, code: str, allow_abolished: bool = False) -> Division:
    """A current division by code; a clear 4xx for a malformed, unknown or abolished code."""
    if level_of(code) is None:
        raise ValidationFailed(f"区划代码 {code} 格式不正确：应为 2、4、6、9 或 12 位数字")
    division = await get_division(code=code)
    if division is None:
        raise NotFound(f"区划代码 {code} 不存在", type_slug="unknown-division")
    if division.abolished and not allow_abolished:
        raise ValidationFailed(
            f"区划代码 {code}（{division.name}）已撤销", type_slug="abolished-division"
        )
    return division


async def list_children(*, code: str, include_abolished: bool = False) -> list[Division]:
    """The divisions directly under a code, by code."""
    query = Division.filter(parent_code=code)
    if not include_abolished:
        query = query.filter(abolished=False)
    return await query.order_by("code")


async def list_roots() -> list[Division]:
    """The provinces."""
    return await Division.filter(level=Level.PROVINCE, abolished=False).order_by("code")


async def search_divisions(*, county_code: str, query: str, limit: int = 20) -> list[Division]:
    """Townships and villages of a county whose name contains the query."""
    return (
        await Division.filter(county_code=county_code, name__contains=query, abolished=False)
        .exclude(code=county_code)
        .order_by("code")
        .limit(limit)
    )


async def list_townships(*, prefix: str = "") -> list[Division]:
    """Current townships under a code prefix."""
    return await Division.filter(
        level=Level.TOWNSHIP, abolished=False, code__startswith=prefix
    ).order_by("code")
