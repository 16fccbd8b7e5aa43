"""Importing township boundaries: the demo files (service and CLI), bad files, the reports."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import mapping, shape

from backend.demo import DATA_DIR
from backend.errors import ValidationFailed
from backend.geo import service
from backend.geo.boundaries import BoundaryReport, import_boundaries
from backend.geo.coords import metres_per_degree
from backend.geo.models import TownshipBoundary
from backend.geo.routing import BoundaryIndex
from backend.integrity.models import AuditEvent
from tests.geo.helpers import Rows, division_copy
from tests.harness.cli import CliDb, ok, query, yimen

BOUNDARIES = DATA_DIR / "boundaries"
DEMO_WGS = BOUNDARIES / "demo-townships-wgs84.geojson"
DEMO_GCJ = BOUNDARIES / "demo-townships-gcj02.geojson"
DEMO_CODES = sorted(f["properties"]["code"] for f in json.loads(DEMO_WGS.read_text())["features"])
ANJI = [c for c in DEMO_CODES if c.startswith("330523")]
CHANGXING = [c for c in DEMO_CODES if c.startswith("330522")]
# 上墅乡 lies inside 安吉县 with no county line: leaving it out opens a hole in the county.
INTERIOR = "330523205"
# 山川乡 touches the county line: abolishing it opens no hole.
ON_THE_EDGE = "330523206"


def demo_features(path: Path = DEMO_WGS) -> list[dict[str, Any]]:
    """The demo file's features (fresh copies)."""
    return copy.deepcopy(json.loads(path.read_text(encoding="utf-8"))["features"])


def feature(code: object, geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    """A GeoJSON feature with a code property."""
    return {"type": "Feature", "properties": {"code": code, **properties}, "geometry": geometry}


def write(path: Path, features: list[dict[str, Any]]) -> Path:
    """A FeatureCollection file."""
    collection = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def square(lng: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    """A small square polygon's GeoJSON geometry."""
    return mapping(shapely.box(lng, lat, lng + size, lat + size))


async def stored() -> dict[str, TownshipBoundary]:
    """The boundary rows by code."""
    return {b.township_code: b for b in await TownshipBoundary.all()}


async def stored_index() -> BoundaryIndex:
    """An index over what is stored."""
    rows = await TownshipBoundary.all().values_list("township_code", "geometry_wkb")
    return BoundaryIndex.from_wkb_rows([(str(c), bytes(w)) for c, w in rows])


def reasons(report: BoundaryReport) -> dict[int, str]:
    """Rejected features' reasons by position."""
    return {issue.feature: issue.reason for issue in report.rejected}


@pytest.fixture
async def divisions(db: None, division_subset: Path) -> None:
    """The demo counties' division codes."""
    report = await service.import_divisions(directory=division_subset, version="2023")
    assert report.written, report.problems


# --- the demo files --------------------------------------------------------------------------


@pytest.mark.usefixtures("divisions")
async def test_demo_wgs84_file_imports_every_township() -> None:
    steps: list[int] = []

    report = await import_boundaries(path=DEMO_WGS, crs="wgs84", progress=steps.append)

    assert report.written and report.error is None
    assert report.imported == DEMO_CODES
    assert (report.created, report.updated, report.generation) == (18, 0, 1)
    assert report.rejected == report.repaired == report.overlaps == report.gaps == []
    assert sum(steps) == report.features == 18
    rows = await stored()
    assert sorted(rows) == DEMO_CODES
    changshuo = rows["330523002"]
    geom = shapely.from_wkb(changshuo.geometry_wkb)
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert (changshuo.min_lng, changshuo.min_lat, changshuo.max_lng, changshuo.max_lat) == (
        pytest.approx(geom.bounds)
    )
    assert (changshuo.county_code, changshuo.source_crs, changshuo.generation) == (
        "330523",
        "wgs84",
        1,
    )
    assert changshuo.source_name == "demo-townships-wgs84.geojson"
    dipu = shapely.from_wkb(rows["330523001"].geometry_wkb)
    assert dipu.geom_type == "Polygon" and len(dipu.interiors) == 1
    events = await AuditEvent.filter(action="boundaries.import").order_by("entity_id")
    assert [(e.entity, e.entity_id, e.jurisdiction, e.actor_label) for e in events] == [
        ("county", "330522", "330522", "cli"),
        ("county", "330523", "330523", "cli"),
    ]
    assert events[1].after is not None
    assert events[1].after["townships"] == 15 and events[1].after["created"] == 15
    assert events[1].after["generation"] == 1 and events[1].after["crs"] == "wgs84"


@pytest.mark.usefixtures("divisions")
async def test_gcj02_file_gives_the_same_townships_as_wgs84() -> None:
    await import_boundaries(path=DEMO_WGS, crs="wgs84")
    wgs_rows = {c: shapely.from_wkb(r.geometry_wkb) for c, r in (await stored()).items()}
    wgs = await stored_index()

    report = await import_boundaries(path=DEMO_GCJ, crs="gcj02")

    assert report.written and report.imported == DEMO_CODES
    assert (report.created, report.updated, report.generation) == (0, 18, 2)
    assert report.overlaps == report.gaps == report.repaired == []
    rows = await stored()
    assert {r.source_crs for r in rows.values()} == {"gcj02"}
    per_lng, per_lat = metres_per_degree(30.7)
    for code, row in rows.items():
        # The GCJ file rounds to 1e-6 degrees: vertices come back within a few decimetres.
        drift_deg = shapely.hausdorff_distance(shapely.from_wkb(row.geometry_wkb), wgs_rows[code])
        assert drift_deg * max(per_lng, per_lat) < 0.5, code
    gcj = await stored_index()
    borders = shapely.union_all([g.boundary for g in wgs_rows.values()])
    shapely.prepare(borders)
    minx, miny, maxx, maxy = borders.bounds
    rng = np.random.default_rng(20240601)
    xs, ys = rng.uniform(minx, maxx, 2000), rng.uniform(miny, maxy, 2000)
    # Degrees to metres conservatively: a degree is at least per_lng metres here in any direction.
    far = shapely.distance(borders, shapely.points(xs, ys)) * min(per_lng, per_lat) > 2.0
    assert far.sum() > 1900
    got_wgs, got_gcj = wgs.locate_many(xs, ys), gcj.locate_many(xs, ys)
    disagree = [i for i in range(2000) if got_wgs[i] != got_gcj[i]]
    assert [i for i in disagree if far[i]] == []
    assert sum(code is not None for code in got_wgs) > 1000


@pytest.mark.usefixtures("divisions")
async def test_reimport_replaces_rows_under_a_new_generation(tmp_path: Path) -> None:
    await import_boundaries(path=DEMO_WGS, crs="wgs84")
    only_changxing = [f for f in demo_features() if f["properties"]["code"] in CHANGXING]

    report = await import_boundaries(
        path=write(tmp_path / "cx.geojson", only_changxing), crs="wgs84"
    )

    assert report.imported == CHANGXING and report.updated == 3 and report.generation == 2
    rows = await stored()
    assert len(rows) == 18
    assert {c: r.generation for c, r in rows.items() if c in CHANGXING} == dict.fromkeys(
        CHANGXING, 2
    )
    assert {r.generation for c, r in rows.items() if c in ANJI} == {1}


# --- bad features ----------------------------------------------------------------------------


@pytest.mark.usefixtures("divisions")
async def test_bad_features_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    good = [f for f in demo_features() if f["properties"]["code"] in CHANGXING]
    line = {"type": "LineString", "coordinates": [[119.5, 30.6], [119.6, 30.7]]}
    bad = [
        feature("330523999", square(119.5, 30.5)),  # 4: no such township
        feature("330523001200", square(119.5, 30.5)),  # 5: a village code
        feature("3305231", square(119.5, 30.5)),  # 6: too short
        feature("330523003", line),  # 7: not a polygon
        feature("330523004", None),  # 8: no geometry
        feature(None, square(119.5, 30.5)),  # 9: no code
        feature("330523103", mapping(shapely.box(13_290_000, 3_590_000, 13_300_000, 3_600_000))),
        {"type": "Something"},  # 11
        feature("330523104", {"type": "Polygon", "coordinates": [[[119.5]]]}),  # 12
    ]

    report = await import_boundaries(path=write(tmp_path / "bad.geojson", good + bad), crs="wgs84")

    assert report.written and report.imported == CHANGXING
    assert reasons(report) == {
        4: "乡镇（街道）代码 330523999 不存在",
        5: "代码 330523001200 为 12 位村级代码，应为 9 位乡镇（街道）代码",
        6: "代码 3305231 为 7 位，应为 9 位乡镇（街道）代码",
        7: "几何类型为 LineString，应为 Polygon 或 MultiPolygon",
        8: "缺少几何（geometry）",
        9: "缺少乡镇代码属性",
        10: "坐标不在中国境内的经纬度范围：文件是否为投影坐标？",
        11: "不是 GeoJSON Feature",
        12: "几何坐标无法解析",
    }
    assert str(report.rejected[0]) == "要素 4（330523999）：乡镇（街道）代码 330523999 不存在"
    assert sorted(await stored()) == CHANGXING


@pytest.mark.usefixtures("db")
async def test_abolished_code_is_rejected(division_subset: Path, tmp_path: Path) -> None:
    def drop(name: str, rows: Rows) -> Rows:
        return [r for r in rows if r[0] != ON_THE_EDGE] if name == "streets.csv" else rows

    await service.import_divisions(directory=division_subset, version="2023")
    newer = division_copy(division_subset, tmp_path / "2024", drop)
    assert (await service.import_divisions(directory=newer, version="2024")).abolished == 1

    report = await import_boundaries(path=DEMO_WGS, crs="wgs84")

    assert report.imported == [c for c in DEMO_CODES if c != ON_THE_EDGE]
    [issue] = report.rejected
    assert (issue.label, issue.reason) == (
        ON_THE_EDGE,
        f"乡镇（街道）代码 {ON_THE_EDGE}（山川乡）已撤销",
    )
    # It lay on the county line: the rest of the county still has no hole.
    assert report.gaps == []


@pytest.mark.usefixtures("divisions")
async def test_bow_tie_is_repaired_and_reported(tmp_path: Path) -> None:
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[119.40, 30.70], [119.42, 30.72], [119.42, 30.70], [119.40, 30.72], [119.40, 30.70]]
        ],
    }
    path = write(tmp_path / "bowtie.geojson", [feature("330523001", bow_tie)])

    report = await import_boundaries(path=path, crs="wgs84")

    assert report.written and report.imported == ["330523001"] and report.rejected == []
    [issue] = report.repaired
    assert issue.feature == 1 and issue.label == "330523001"
    assert issue.reason.startswith("几何无效（Self-intersection") and "已自动修复" in issue.reason
    geom = shapely.from_wkb((await stored())["330523001"].geometry_wkb)
    assert geom.is_valid and geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert geom.area == pytest.approx(0.0002)


@pytest.mark.usefixtures("divisions")
async def test_unfixable_shape_is_rejected(tmp_path: Path) -> None:
    # Every vertex on one line: make_valid leaves only a line, which is no township.
    flat = {
        "type": "Polygon",
        "coordinates": [[[119.4, 30.7], [119.5, 30.7], [119.6, 30.7], [119.4, 30.7]]],
    }
    report = await import_boundaries(
        path=write(tmp_path / "flat.geojson", [feature("330523001", flat)]), crs="wgs84"
    )

    assert not report.written
    assert report.rejected[0].reason == "几何无效且无法修复（Self-intersection[119.5 30.7]）"
    assert report.error == "文件中没有可导入的乡镇边界，未写入任何数据"
    assert await TownshipBoundary.all().count() == 0


@pytest.mark.usefixtures("divisions")
async def test_duplicates_dropped_merged_or_rejected(tmp_path: Path) -> None:
    features = demo_features()
    by_code = {f["properties"]["code"]: f for f in features}
    # 昌硕街道 in two features, main part and exclave: one township with two parts.
    changshuo = by_code.pop("330523002")
    main_part, exclave = sorted(shape(changshuo["geometry"]).geoms, key=lambda g: -g.area)
    # 泗安镇 twice, the same; 和平镇 twice, the second one swollen: which one is right?
    heping = by_code["330522110"]
    swollen = feature("330522110", mapping(shape(heping["geometry"]).buffer(0.002)))
    items = [
        *by_code.values(),
        feature("330523002", mapping(main_part)),
        feature("330523002", mapping(exclave)),
        copy.deepcopy(by_code["330522111"]),
        swollen,
    ]

    report = await import_boundaries(path=write(tmp_path / "dups.geojson", items), crs="wgs84")

    assert report.imported == [c for c in DEMO_CODES if c != "330522110"]
    assert reasons(report) == {
        20: "与要素 15 重复，已忽略",
        16: "代码 330522110 在要素 16、21 中重复且几何相互重叠，均未导入",
        21: "代码 330522110 在要素 16、21 中重复且几何相互重叠，均未导入",
    }
    [merged] = report.repaired
    assert (merged.feature, merged.label) == (18, "330523002")
    assert merged.reason == "代码相同的要素 18、19 互不重叠，已合并（飞地）"
    geom = shapely.from_wkb((await stored())["330523002"].geometry_wkb)
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert geom.area == pytest.approx(shape(changshuo["geometry"]).area)


@pytest.mark.usefixtures("divisions")
async def test_overlaps_and_gaps_are_reported(tmp_path: Path) -> None:
    features = []
    swollen = "330523001"  # 递铺街道: not next to the township left out
    for item in demo_features():
        code = item["properties"]["code"]
        if code == INTERIOR:
            continue  # leaves a hole inside 安吉县
        if code == swollen:
            item["geometry"] = mapping(shape(item["geometry"]).buffer(0.002))
        features.append(item)

    report = await import_boundaries(
        path=write(tmp_path / "overlaps.geojson", features), crs="wgs84"
    )

    assert report.written and len(report.imported) == 17
    assert report.overlaps, "the swollen township overlaps its neighbours"
    assert all(swollen in (o.first, o.second) for o in report.overlaps)
    assert all(o.area_m2 > 10_000 for o in report.overlaps)
    assert "重叠，约" in str(report.overlaps[0])
    interior = shape(
        next(f for f in demo_features() if f["properties"]["code"] == INTERIOR)["geometry"]
    )
    per_lng, per_lat = metres_per_degree(interior.centroid.y)
    [gap] = report.gaps
    assert gap.county_code == "330523"
    assert gap.area_m2 == pytest.approx(interior.area * per_lng * per_lat, rel=0.01)
    assert interior.contains(shapely.Point(gap.lng, gap.lat))
    assert str(gap).startswith("县 330523 内有一处不属于任何乡镇的缝隙，约 ")
    events = await AuditEvent.filter(action="boundaries.import", entity_id="330523")
    assert events[0].after is not None and events[0].after["gaps"] == 1
    assert events[0].after["overlaps"] == len(report.overlaps)


@pytest.mark.usefixtures("divisions")
async def test_gap_filled_later_by_a_second_file(tmp_path: Path) -> None:
    features = demo_features()
    rest = [f for f in features if f["properties"]["code"] != INTERIOR]
    report = await import_boundaries(path=write(tmp_path / "rest.geojson", rest), crs="wgs84")
    assert len(report.gaps) == 1
    missing = [f for f in features if f["properties"]["code"] == INTERIOR]

    report = await import_boundaries(path=write(tmp_path / "one.geojson", missing), crs="wgs84")

    # Checked against the townships already stored: the county is now whole.
    assert report.imported == [INTERIOR] and report.gaps == [] and report.overlaps == []


@pytest.mark.usefixtures("divisions")
async def test_enclave_of_another_county_is_no_gap(tmp_path: Path) -> None:
    features = []
    for item in demo_features():
        code = item["properties"]["code"]
        if code == "330522110":
            continue  # 和平镇's own shape is left out ...
        if code == INTERIOR:
            item["properties"]["code"] = "330522110"  # ... and drawn inside 安吉县 instead
        features.append(item)

    report = await import_boundaries(
        path=write(tmp_path / "enclave.geojson", features), crs="wgs84"
    )

    assert report.written and "330522110" in report.imported and INTERIOR not in report.imported
    assert [g for g in report.gaps if g.county_code == "330523"] == []


# --- matching by name ------------------------------------------------------------------------


def _by_name(path: Path, rename: dict[str, str] | None = None) -> Path:
    features = demo_features()
    for item in features:
        code = item["properties"].pop("code")
        if rename and code in rename:
            item["properties"]["name"] = rename[code]
    return write(path, features)


@pytest.mark.usefixtures("divisions")
async def test_name_matching_within_a_county(tmp_path: Path) -> None:
    path = _by_name(tmp_path / "names.geojson", {"330523104": "杭垓"})

    report = await import_boundaries(path=path, crs="wgs84", name_field="name", within="330523")

    assert report.imported == [c for c in ANJI if c != "330523104"]
    got = {i.label: i.reason for i in report.rejected}
    assert got == {
        "杭垓": "县 330523 内没有名为“杭垓”的乡镇（街道）",
        "泗安镇": "县 330523 内没有名为“泗安镇”的乡镇（街道）",
        "和平镇": "县 330523 内没有名为“和平镇”的乡镇（街道）",
        "煤山镇": "县 330523 内没有名为“煤山镇”的乡镇（街道）",
    }


@pytest.mark.usefixtures("db")
async def test_ambiguous_name_is_rejected(division_subset: Path, tmp_path: Path) -> None:
    def twin(name: str, rows: Rows) -> Rows:
        extra = ["330523199", "递铺街道", "330523", "33", "3305"]
        return [*rows, extra] if name == "streets.csv" else rows

    await service.import_divisions(
        directory=division_copy(division_subset, tmp_path / "d", twin), version="x"
    )

    report = await import_boundaries(
        path=_by_name(tmp_path / "names.geojson"), crs="wgs84", name_field="name", within="330523"
    )

    assert "330523001" not in report.imported and len(report.imported) == 14
    assert {i.label: i.reason for i in report.rejected}["递铺街道"] == (
        "名称“递铺街道”在县 330523 内对应多个乡镇（街道）：330523001、330523199"
    )


@pytest.mark.usefixtures("divisions")
async def test_bad_arguments() -> None:
    with pytest.raises(ValidationFailed, match="只能指定其一"):
        await import_boundaries(path=DEMO_WGS, crs="wgs84", code_field="code", name_field="name")
    with pytest.raises(ValidationFailed, match="须指定所属县"):
        await import_boundaries(path=DEMO_WGS, crs="wgs84", name_field="name")
    with pytest.raises(ValidationFailed, match="县级代码 330599 不存在"):
        await import_boundaries(path=DEMO_WGS, crs="wgs84", name_field="name", within="330599")
    with pytest.raises(ValidationFailed, match="格式不正确"):
        await import_boundaries(path=DEMO_WGS, crs="wgs84", name_field="name", within="33052")
    with pytest.raises(ValidationFailed, match="坐标系"):
        await import_boundaries(path=DEMO_WGS, crs="bd09")  # type: ignore[arg-type]
    assert await TownshipBoundary.all().count() == 0


@pytest.mark.usefixtures("divisions")
async def test_code_field_and_within(tmp_path: Path) -> None:
    features = demo_features()
    for item in features:
        item["properties"]["XZQDM"] = int(item["properties"].pop("code"))
    path = write(tmp_path / "xzqdm.geojson", features)

    report = await import_boundaries(path=path, crs="wgs84", code_field="XZQDM", within="330522")

    # Integer codes are read as codes; codes outside the county named are refused.
    assert report.imported == CHANGXING
    assert {i.reason for i in report.rejected} == {
        f"县 330522 内乡镇（街道）代码 {c} 不存在" for c in ANJI
    }


# --- unusable files --------------------------------------------------------------------------


@pytest.mark.usefixtures("divisions")
@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("{not json", "bad.geojson 不是有效的 JSON（第 1 行第 2 列）"),
        ('{"type": "Feature"}', "bad.geojson 不是 GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection"}', "bad.geojson 缺少 features 数组"),
        (
            '{"type": "FeatureCollection", "features": []}',
            "文件中没有可导入的乡镇边界，未写入任何数据",
        ),
    ],
)
async def test_unusable_file_writes_nothing(tmp_path: Path, content: str, error: str) -> None:
    await import_boundaries(path=DEMO_WGS, crs="wgs84")
    before = {c: (r.generation, r.source_crs) for c, r in (await stored()).items()}
    path = tmp_path / "bad.geojson"
    path.write_text(content, encoding="utf-8")

    report = await import_boundaries(path=path, crs="gcj02")

    assert not report.written and report.error == error and report.summary() == error
    assert {c: (r.generation, r.source_crs) for c, r in (await stored()).items()} == before
    assert await AuditEvent.filter(action="boundaries.import").count() == 2


@pytest.mark.usefixtures("divisions")
async def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.geojson"
    path.write_bytes(b"\xff\xfe\xfa not utf-8")

    report = await import_boundaries(path=path, crs="wgs84")

    assert not report.written and report.error == "无法读取文件 latin1.geojson：UnicodeDecodeError"


# --- the command -----------------------------------------------------------------------------


def test_cli_imports_both_demo_files(tmp_path: Path, division_subset: Path, cli_db: CliDb) -> None:
    data = cli_db
    ok(yimen(data, "migrate"))
    ok(yimen(data, "import-divisions", "--dir", division_subset))

    out = ok(yimen(data, "import-boundaries", DEMO_WGS, "--crs", "wgs84"))

    assert "已导入 18 个乡镇（街道）边界：新增 18，更新 0，修复 0，拒绝 0；批次 1" in out
    assert query(data, "SELECT count(*), max(generation) FROM geo_township_boundary") == [(18, 1)]
    out = ok(yimen(data, "import-boundaries", DEMO_GCJ, "--crs", "gcj02"))
    assert "新增 0，更新 18，修复 0，拒绝 0；批次 2" in out
    assert query(data, "SELECT DISTINCT source_crs, generation FROM geo_township_boundary") == [
        ("gcj02", 2)
    ]
    assert query(
        data, "SELECT count(*) FROM integrity_audit_event WHERE action = 'boundaries.import'"
    ) == [(4,)]
    (wkb,) = query(
        data, "SELECT geometry_wkb FROM geo_township_boundary WHERE township_code = '330523002'"
    )[0]
    assert shapely.from_wkb(wkb).geom_type == "MultiPolygon"

    names = _by_name(tmp_path / "names.geojson")
    by_name = yimen(
        data,
        "import-boundaries",
        names,
        "--crs",
        "wgs84",
        "--name-field",
        "name",
        "--within",
        "330523",
    )
    assert by_name.returncode == 0, by_name.stderr
    assert "已导入 15 个乡镇（街道）边界：新增 0，更新 15，修复 0，拒绝 3；批次 3" in by_name.stdout
    assert "错误 要素 16（泗安镇）：县 330523 内没有名为“泗安镇”的乡镇（街道）" in by_name.stderr


def test_cli_reports_problems_and_fails_when_nothing_imported(
    tmp_path: Path, division_subset: Path, cli_db: CliDb
) -> None:
    data = cli_db
    ok(yimen(data, "migrate"))
    ok(yimen(data, "import-divisions", "--dir", division_subset))
    line = {"type": "LineString", "coordinates": [[119.5, 30.6], [119.6, 30.7]]}
    bad = write(
        tmp_path / "bad.geojson",
        [feature("330523999", square(119.5, 30.5)), feature("330523003", line)],
    )

    result = yimen(data, "import-boundaries", bad, "--crs", "wgs84")

    assert result.returncode == 1
    assert "错误 要素 1（330523999）：乡镇（街道）代码 330523999 不存在" in result.stderr
    assert (
        "错误 要素 2（330523003）：几何类型为 LineString，应为 Polygon 或 MultiPolygon"
        in result.stderr
    )
    assert "文件中没有可导入的乡镇边界，未写入任何数据" in result.stderr
    assert query(data, "SELECT count(*) FROM geo_township_boundary") == [(0,)]

    usage = yimen(data, "import-boundaries", bad, "--crs", "wgs84", "--name-field", "name")
    assert usage.returncode == 2 and "--within" in usage.stderr
    missing = yimen(data, "import-boundaries", bad)
    assert missing.returncode == 2 and "--crs" in missing.stderr
