"""Township boundaries: importing GeoJSON (WGS-84 or GCJ-02), matching codes, checking shapes."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from tortoise.transactions import in_transaction

from backend.errors import ValidationFailed
from backend.geo import routing
from backend.geo.coords import gcj02_to_wgs84_array, metres_per_degree
from backend.geo.models import Division, Level, TownshipBoundary
from backend.integrity.service import record_event

SourceCrs: TypeAlias = Literal["wgs84", "gcj02"]
Progress = Callable[[int], None]

DEFAULT_CODE_FIELD = "code"
# Overlaps and gaps smaller than this are rounding, not mistakes in the file.
OVERLAP_TOLERANCE_M2 = 1.0
GAP_TOLERANCE_M2 = 1.0
# Longitude and latitude of anything in China; a projected file (metres) falls far outside.
_CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)
_POLYGONAL = ("Polygon", "MultiPolygon")
# Any fixed number: imports on PostgreSQL take this lock so two never share a generation.
_IMPORT_LOCK_KEY = 330_000_001


@dataclass
class FeatureIssue:
    """A feature of the file that was rejected, or imported only after a repair."""

    feature: int  # its position in the file, from 1
    label: str  # the code or name it carried
    reason: str

    def __str__(self) -> str:
        return f"要素 {self.feature}（{self.label or '无代码'}）：{self.reason}"


@dataclass
class Overlap:
    """Two townships whose polygons overlap."""

    first: str
    second: str
    area_m2: float

    def __str__(self) -> str:
        return f"{self.first} 与 {self.second} 重叠，约 {_area_text(self.area_m2)}"


@dataclass
class Gap:
    """Ground inside a county that no township covers."""

    county_code: str
    area_m2: float
    lng: float
    lat: float

    def __str__(self) -> str:
        return (
            f"县 {self.county_code} 内有一处不属于任何乡镇的缝隙，约 {_area_text(self.area_m2)}，"
            f"在 ({self.lng:.5f}, {self.lat:.5f}) 附近"
        )


@dataclass
class BoundaryReport:
    """What a boundary import found and did."""

    source: str
    crs: str
    features: int = 0
    error: str | None = None  # the file as a whole could not be used
    rejected: list[FeatureIssue] = field(default_factory=list)
    repaired: list[FeatureIssue] = field(default_factory=list)
    overlaps: list[Overlap] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    generation: int | None = None
    written: bool = False

    def summary(self) -> str:
        """One line for people."""
        if not self.written:
            return self.error or "没有可导入的乡镇边界，未写入任何数据"
        return (
            f"已导入 {len(self.imported)} 个乡镇（街道）边界：新增 {self.created}，"
            f"更新 {self.updated}，修复 {len(self.repaired)}，拒绝 {len(self.rejected)}；"
            f"批次 {self.generation}"
        )


@dataclass
class _Accepted:
    feature: int
    code: str
    geom: BaseGeometry


def _area_text(area_m2: float) -> str:
    if area_m2 >= 1e6:
        return f"{area_m2 / 1e6:.2f} 平方公里"
    return f"{area_m2:.0f} 平方米"


def _area_m2(geom: BaseGeometry) -> float:
    """Approximate area in square metres (degrees scaled at the shape's own latitude)."""
    if geom.is_empty:
        return 0.0
    per_lng, per_lat = metres_per_degree(geom.centroid.y)
    return float(geom.area) * per_lng * per_lat


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """The polygonal parts of a geometry (make_valid may add lines and points), or None."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL and p.area > 0]
    if not parts:
        return None
    polygons = [q for p in parts for q in (p.geoms if isinstance(p, MultiPolygon) else [p])]
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def _read_features(path: Path) -> list[Any] | str:
    """The features of a GeoJSON FeatureCollection, or why the file cannot be used."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return f"无法读取文件 {path.name}：{exc.__class__.__name__}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{path.name} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）"
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return f"{path.name} 不是 GeoJSON FeatureCollection"
    features = data.get("features")
    if not isinstance(features, list):
        return f"{path.name} 缺少 features 数组"
    return features


def _shape_of(feature: Any, crs: SourceCrs) -> tuple[BaseGeometry | None, str | None, str | None]:
    """(WGS-84 polygon, rejection, repair note) for one feature's geometry."""
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        return None, "缺少几何（geometry）", None
    kind = geometry.get("type")
    if kind not in _POLYGONAL:
        return None, f"几何类型为 {kind}，应为 Polygon 或 MultiPolygon", None
    try:
        geom = shape(geometry)
    except (
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        shapely.errors.ShapelyError,
    ):
        return None, "几何坐标无法解析", None
    if geom.is_empty:
        return None, "几何为空", None
    minx, miny, maxx, maxy = geom.bounds
    lo_x, lo_y, hi_x, hi_y = _CHINA_BOUNDS
    if not (lo_x <= minx and maxx <= hi_x and lo_y <= miny and maxy <= hi_y):
        return None, "坐标不在中国境内的经纬度范围：文件是否为投影坐标？", None
    if crs == "gcj02":
        # Shared vertices map to identical points, so shared borders stay shared.
        geom = shapely.transform(geom, gcj02_to_wgs84_array)
    note = None
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        fixed = _polygonal(shapely.make_valid(geom))
        if fixed is None or not fixed.is_valid:
            return None, f"几何无效且无法修复（{why}）", None
        geom, note = fixed, f"几何无效（{why}），已自动修复，请核对"
    if geom.area <= 0:
        return None, "几何面积为零", None
    return geom, None, note


async def _load_townships(within: str | None) -> dict[str, Division]:
    query = Division.filter(level=Level.TOWNSHIP)
    if within:
        query = query.filter(county_code=within)
    return {d.code: d for d in await query.only("code", "name", "abolished", "county_code")}


def _match_code(
    raw: Any, townships: dict[str, Division], within: str | None
) -> tuple[str, str | None]:
    """(label, rejection) for a feature's code property."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "", "缺少乡镇代码属性"
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return str(raw), f"乡镇代码 {raw} 应为字符串或整数"
    code = str(raw).strip()
    if not (code.isascii() and code.isdigit()):
        return code, f"乡镇代码 {code} 格式不正确：应为 9 位数字"
    if len(code) == 12:
        return code, f"代码 {code} 为 12 位村级代码，应为 9 位乡镇（街道）代码"
    if len(code) != 9:
        return code, f"代码 {code} 为 {len(code)} 位，应为 9 位乡镇（街道）代码"
    division = townships.get(code)
    if division is None:
        where = f"县 {within} 内" if within else ""
        return code, f"{where}乡镇（街道）代码 {code} 不存在"
    if division.abolished:
        return code, f"乡镇（街道）代码 {code}（{division.name}）已撤销"
    return code, None


def _match_name(raw: Any, townships: dict[str, Division], within: str) -> tuple[str, str | None]:
    """(code or name, rejection) for a feature's name property, among one county's townships."""
    name = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    if not name:
        return "", "缺少乡镇名称属性"
    current = sorted(d.code for d in townships.values() if d.name == name and not d.abolished)
    if len(current) == 1:
        return current[0], None
    if len(current) > 1:
        return name, f"名称“{name}”在县 {within} 内对应多个乡镇（街道）：{'、'.join(current)}"
    gone = sorted(d.code for d in townships.values() if d.name == name)
    if gone:
        return name, f"名称“{name}”对应的乡镇（街道）{'、'.join(gone)} 已撤销"
    return name, f"县 {within} 内没有名为“{name}”的乡镇（街道）"


def _settle_duplicates(
    accepted: list[_Accepted], report: BoundaryReport, tolerance_m2: float
) -> list[_Accepted]:
    """One row per code: identical copies dropped, disjoint pieces merged, conflicts rejected."""
    by_code: dict[str, list[_Accepted]] = defaultdict(list)
    for item in accepted:
        by_code[item.code].append(item)
    settled = []
    for code, items in by_code.items():
        first = items[0]
        if len(items) == 1:
            settled.append(first)
            continue
        positions = "、".join(str(i.feature) for i in items)
        if all(_area_m2(first.geom.symmetric_difference(i.geom)) <= tolerance_m2 for i in items):
            for item in items[1:]:
                report.rejected.append(
                    FeatureIssue(item.feature, code, f"与要素 {first.feature} 重复，已忽略")
                )
            settled.append(first)
            continue
        geoms = [i.geom for i in items]
        overlap = sum(
            _area_m2(a.intersection(b)) for k, a in enumerate(geoms) for b in geoms[k + 1 :]
        )
        if overlap <= tolerance_m2:
            # A township drawn as several features (an exclave apart): one MultiPolygon.
            merged = _polygonal(shapely.union_all(geoms))
            if merged is not None:
                report.repaired.append(
                    FeatureIssue(
                        first.feature, code, f"代码相同的要素 {positions} 互不重叠，已合并（飞地）"
                    )
                )
                settled.append(_Accepted(first.feature, code, merged))
                continue
        for item in items:
            report.rejected.append(
                FeatureIssue(
                    item.feature,
                    code,
                    f"代码 {code} 在要素 {positions} 中重复且几何相互重叠，均未导入",
                )
            )
    return settled


async def _neighbours(accepted: list[_Accepted]) -> dict[str, BaseGeometry]:
    """Stored townships this import does not replace, near it or in the same counties."""
    codes = {a.code for a in accepted}
    counties = sorted({a.code[:6] for a in accepted})
    minx, miny, maxx, maxy = shapely.total_bounds([a.geom for a in accepted])
    near = TownshipBoundary.filter(
        min_lng__lte=maxx, max_lng__gte=minx, min_lat__lte=maxy, max_lat__gte=miny
    )
    rows = [
        *await near.values_list("township_code", "geometry_wkb"),
        *await TownshipBoundary.filter(county_code__in=counties).values_list(
            "township_code", "geometry_wkb"
        ),
    ]
    return {str(code): shapely.from_wkb(bytes(wkb)) for code, wkb in rows if str(code) not in codes}


def _find_overlaps(
    accepted: list[_Accepted], others: dict[str, BaseGeometry], tolerance_m2: float
) -> list[Overlap]:
    """Pairs of townships, at least one from this import, that share more than a sliver."""
    codes = [a.code for a in accepted] + list(others)
    geoms = np.empty(len(codes), dtype=object)
    geoms[:] = [a.geom for a in accepted] + list(others.values())
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms[: len(accepted)], predicate="intersects")
    found = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i == j or (j < len(accepted) and j < i):
            continue
        area = _area_m2(geoms[i].intersection(geoms[j]))
        if area > tolerance_m2:
            first, second = sorted((codes[i], codes[j]))
            found.append(Overlap(first, second, area))
    return sorted(found, key=lambda o: (o.first, o.second))


def _find_gaps(
    accepted: list[_Accepted], others: dict[str, BaseGeometry], tolerance_m2: float
) -> list[Gap]:
    """Holes in each county's union of townships that no other township fills."""
    everything = {**others, **{a.code: a.geom for a in accepted}}
    codes = list(everything)
    geoms = np.empty(len(codes), dtype=object)
    geoms[:] = list(everything.values())
    tree = shapely.STRtree(geoms)
    by_county: dict[str, list[BaseGeometry]] = defaultdict(list)
    for code, geom in everything.items():
        by_county[code[:6]].append(geom)
    gaps = []
    for county in sorted({a.code[:6] for a in accepted}):
        union = shapely.union_all(by_county[county])
        for hole in (Polygon(ring) for poly in shapely.get_parts(union) for ring in poly.interiors):
            # A hole may hold another county's township (an enclave): that is no gap.
            near = tree.query(hole, predicate="intersects")
            fillers = [geoms[i] for i in near.tolist() if codes[i][:6] != county]
            left = hole.difference(shapely.union_all(fillers)) if fillers else hole
            for piece in shapely.get_parts(left):
                area = _area_m2(piece)
                if area > tolerance_m2:
                    point = piece.representative_point()
                    gaps.append(Gap(county, area, float(point.x), float(point.y)))
    return gaps


async def import_boundaries(
    *,
    path: Path,
    crs: SourceCrs,
    code_field: str | None = None,
    name_field: str | None = None,
    within: str | None = None,
    progress: Progress | None = None,
    actor_label: str = "cli",
    overlap_tolerance_m2: float = OVERLAP_TOLERANCE_M2,
    gap_tolerance_m2: float = GAP_TOLERANCE_M2,
) -> BoundaryReport:
    """Import township polygons from a GeoJSON file; writes every accepted feature or nothing."""
    if crs not in ("wgs84", "gcj02"):
        raise ValidationFailed(f"坐标系 {crs} 不受支持：应为 wgs84 或 gcj02")
    if code_field and name_field:
        raise ValidationFailed("代码属性和名称属性只能指定其一")
    if name_field and not within:
        raise ValidationFailed("按名称匹配时须指定所属县的 6 位代码（within）")
    if within is not None:
        await _ensure_county(within)
    report = BoundaryReport(source=path.name, crs=crs)
    features = _read_features(path)
    if isinstance(features, str):
        report.error = features
        return report
    report.features = len(features)
    townships = await _load_townships(within)
    accepted = []
    for position, feature in enumerate(features, start=1):
        if progress:
            progress(1)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            report.rejected.append(FeatureIssue(position, "", "不是 GeoJSON Feature"))
            continue
        properties = feature.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        if name_field:
            assert within is not None
            label, problem = _match_name(properties.get(name_field), townships, within)
        else:
            key = code_field or DEFAULT_CODE_FIELD
            label, problem = _match_code(properties.get(key), townships, within)
        geom, note = None, None
        if problem is None:
            geom, problem, note = _shape_of(feature, crs)
        if problem is not None or geom is None:
            report.rejected.append(FeatureIssue(position, label, problem or "几何无效"))
            continue
        if note:
            report.repaired.append(FeatureIssue(position, label, note))
        accepted.append(_Accepted(position, label, geom))
    accepted = _settle_duplicates(accepted, report, overlap_tolerance_m2)
    if not accepted:
        report.error = "文件中没有可导入的乡镇边界，未写入任何数据"
        return report
    others = await _neighbours(accepted)
    report.overlaps = _find_overlaps(accepted, others, overlap_tolerance_m2)
    report.gaps = _find_gaps(accepted, others, gap_tolerance_m2)
    await _write(accepted, report, actor_label=actor_label)
    # Other processes notice the new generation within their check interval; this one now.
    await routing.process_index().reload_if_loaded()
    return report


async def _ensure_county(code: str) -> None:
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise ValidationFailed(f"所属县代码 {code} 格式不正确：应为 6 位数字")
    county = await Division.filter(code=code, level=Level.COUNTY).first()
    if county is None:
        raise ValidationFailed(f"县级代码 {code} 不存在", type_slug="unknown-division")
    if county.abolished:
        raise ValidationFailed(
            f"县级代码 {code}（{county.name}）已撤销", type_slug="abolished-division"
        )


async def _write(accepted: list[_Accepted], report: BoundaryReport, *, actor_label: str) -> None:
    """Replace the accepted townships' rows under one new generation, with audit events."""
    codes = sorted(a.code for a in accepted)
    async with in_transaction() as conn:
        await conn.execute_query(f"SELECT pg_advisory_xact_lock({_IMPORT_LOCK_KEY})")
        rows = await conn.execute_query_dict(
            "SELECT max(generation) AS generation FROM geo_township_boundary"
        )
        generation = int(rows[0]["generation"] or 0) + 1
        existing: set[str] = set()
        for start in range(0, len(codes), 500):
            chunk = codes[start : start + 500]
            found = (
                await TownshipBoundary.filter(township_code__in=chunk)
                .using_db(conn)
                .values_list("township_code", flat=True)
            )
            existing |= {str(code) for code in found}
            await TownshipBoundary.filter(township_code__in=chunk).using_db(conn).delete()
        records = []
        for item in sorted(accepted, key=lambda a: a.code):
            minx, miny, maxx, maxy = item.geom.bounds
            records.append(
                TownshipBoundary(
                    township_code=item.code,
                    county_code=item.code[:6],
                    geometry_wkb=shapely.to_wkb(item.geom),
                    min_lng=minx,
                    min_lat=miny,
                    max_lng=maxx,
                    max_lat=maxy,
                    source_crs=report.crs,
                    source_name=report.source[:255],
                    generation=generation,
                )
            )
        await TownshipBoundary.bulk_create(records, batch_size=500, using_db=conn)
        for county, items in _by_county(accepted).items():
            county_codes = {a.code for a in items}
            await record_event(
                actor_id=None,
                actor_label=actor_label,
                action="boundaries.import",
                entity="county",
                entity_id=county,
                jurisdiction=county,
                after={
                    "source": report.source,
                    "crs": report.crs,
                    "generation": generation,
                    "townships": len(items),
                    "created": len(county_codes - existing),
                    "updated": len(county_codes & existing),
                    "repaired": sum(1 for r in report.repaired if r.label in county_codes),
                    "overlaps": sum(
                        1 for o in report.overlaps if {o.first, o.second} & county_codes
                    ),
                    "gaps": sum(1 for g in report.gaps if g.county_code == county),
                    "rejected_in_file": len(report.rejected),
                },
                using_db=conn,
            )
    report.imported = codes
    report.created = len(set(codes) - existing)
    report.updated = len(existing)
    report.generation = generation
    report.written = True


def _by_county(accepted: list[_Accepted]) -> dict[str, list[_Accepted]]:
    out: dict[str, list[_Accepted]] = defaultdict(list)
    for item in sorted(accepted, key=lambda a: a.code):
        out[item.code[:6]].append(item)
    return dict(out)
