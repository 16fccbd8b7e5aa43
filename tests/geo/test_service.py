"""The geo service: importing division lists and villages, versioning, look-ups."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.demo import DEMO_VILLAGES, DIVISIONS_DIR
from backend.errors import NotFound, Problem, ValidationFailed
from backend.geo import service
from backend.geo.models import Division, Level
from tests.geo.helpers import Rows, division_copy, read_csv, villages_file

pytestmark = pytest.mark.usefixtures("db")

# What the cut-down list holds: 浙江省, 湖州市, 长兴县 and 安吉县, 15 townships in each county.
SUBSET_COUNTS = {Level.PROVINCE: 1, Level.CITY: 1, Level.COUNTY: 2, Level.TOWNSHIP: 30}
SUBSET_TOTAL = sum(SUBSET_COUNTS.values())
ANJI_TOWNSHIPS = 15
DEMO_VILLAGE_COUNT = 105


async def _import(directory: Path, version: str = "2023") -> service.ImportReport:
    return await service.import_divisions(directory=directory, version=version)


async def _level_counts() -> dict[Level, int]:
    return {level: await Division.filter(level=level).count() for level in Level}


def _drop_and_rename(drop: str, rename: tuple[str, str] | None = None):
    """An edit for division_copy: remove one township and optionally rename another."""

    def edit(name: str, rows: Rows) -> Rows:
        if name != "streets.csv":
            return rows
        kept = [r for r in rows if r[0] != drop]
        if rename is not None:
            kept = [[r[0], rename[1], *r[2:]] if r[0] == rename[0] else r for r in kept]
        return kept

    return edit


# --- import_divisions ------------------------------------------------------------------------


async def test_import_divisions_creates_every_row(division_subset: Path) -> None:
    report = await _import(division_subset)

    assert report.problems == []
    assert report.written is True
    assert (report.created, report.updated, report.unchanged, report.abolished) == (
        SUBSET_TOTAL,
        0,
        0,
        0,
    )
    rows = sum(len(read_csv(division_subset / f)) - 1 for f in ("provinces.csv", "cities.csv"))
    rows += sum(len(read_csv(division_subset / f)) - 1 for f in ("areas.csv", "streets.csv"))
    assert report.created == rows
    assert await _level_counts() == {**SUBSET_COUNTS, Level.VILLAGE: 0}
    assert await Division.filter(version="2023", abolished=False).count() == SUBSET_TOTAL


async def test_import_divisions_links_levels(division_subset: Path) -> None:
    await _import(division_subset)

    province = await Division.get(code="33")
    assert (province.name, province.level, province.parent_code) == ("浙江省", Level.PROVINCE, None)
    assert province.county_code is None and province.kind is None
    city = await Division.get(code="3305")
    assert (city.name, city.level, city.parent_code, city.county_code) == (
        "湖州市",
        Level.CITY,
        "33",
        None,
    )
    county = await Division.get(code="330523")
    assert (county.name, county.level, county.parent_code, county.county_code) == (
        "安吉县",
        Level.COUNTY,
        "3305",
        "330523",
    )
    assert county.kind is None
    township = await Division.get(code="330523001")
    assert (township.name, township.level, township.parent_code, township.county_code) == (
        "递铺街道",
        Level.TOWNSHIP,
        "330523",
        "330523",
    )
    assert township.lng is None and township.lat is None
    changxing = await Division.get(code="330522101")
    assert (changxing.name, changxing.parent_code, changxing.county_code) == (
        "洪桥镇",
        "330522",
        "330522",
    )


@pytest.mark.parametrize(
    ("code", "name", "kind"),
    [
        ("330523001", "递铺街道", "街道"),
        ("330523004", "孝源街道", "街道"),
        ("330523103", "鄣吴镇", "镇"),
        ("330523111", "天子湖镇", "镇"),
        ("330523201", "溪龙乡", "乡"),
        ("330522200", "水口乡", "乡"),
    ],
)
async def test_township_kind_from_digits(
    division_subset: Path, code: str, name: str, kind: str
) -> None:
    await _import(division_subset)
    township = await Division.get(code=code)
    assert (township.name, township.kind) == (name, kind)


async def test_every_imported_township_kind_matches_its_name(division_subset: Path) -> None:
    await _import(division_subset)
    townships = await Division.filter(level=Level.TOWNSHIP)
    assert len(townships) == SUBSET_COUNTS[Level.TOWNSHIP]
    for township in townships:
        assert township.kind is not None
        assert township.name.endswith(township.kind), (township.code, township.name)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("330523001", "街道"),
        ("330523099", "街道"),
        ("330523100", "镇"),
        ("330523199", "镇"),
        ("330523200", "乡"),
        ("330523399", "乡"),
        ("330523000", None),
        ("330523400", "类似乡级单位"),
        ("110115403", "类似乡级单位"),
        ("330523599", "类似乡级单位"),
        ("330523600", None),
    ],
)
def test_township_kind_boundaries(code: str, expected: str | None) -> None:
    assert service.township_kind(code) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("330523001001", "居委会"),
        ("330523001199", "居委会"),
        ("330523001200", "村委会"),
        ("330523001399", "村委会"),
        ("330523001000", None),
        ("330523001400", "类似居委会"),
        ("330523001499", "类似居委会"),
        ("330523001500", "类似村委会"),
        ("330523001599", "类似村委会"),
        ("330523001600", None),
    ],
)
def test_village_kind_boundaries(code: str, expected: str | None) -> None:
    assert service.village_kind(code) == expected


async def test_reimport_is_idempotent(division_subset: Path) -> None:
    await _import(division_subset)
    before = {d.code: (d.name, d.kind, d.version) for d in await Division.all()}

    report = await _import(division_subset)

    assert report.written is True and report.problems == []
    assert (report.created, report.updated, report.unchanged, report.abolished) == (
        0,
        0,
        SUBSET_TOTAL,
        0,
    )
    assert {d.code: (d.name, d.kind, d.version) for d in await Division.all()} == before


async def test_progress_counts_written_rows(division_subset: Path) -> None:
    steps: list[int] = []
    await service.import_divisions(directory=division_subset, version="2023", progress=steps.append)
    assert sum(steps) == SUBSET_TOTAL


async def test_missing_file_is_refused(division_subset: Path, tmp_path: Path) -> None:
    target = division_copy(division_subset, tmp_path / "list")
    (target / "areas.csv").unlink()
    with pytest.raises(ValidationFailed, match="缺少文件"):
        await _import(target)
    assert await Division.all().count() == 0


# --- bad division files ----------------------------------------------------------------------


def _replace_row(filename: str, code: str, new: list[str]):
    def edit(name: str, rows: Rows) -> Rows:
        if name != filename:
            return rows
        assert any(r[0] == code for r in rows), code
        return [new if r[0] == code else r for r in rows]

    return edit


def _append_row(filename: str, new: list[str]):
    def edit(name: str, rows: Rows) -> Rows:
        return [*rows, new] if name == filename else rows

    return edit


def _line_of(division_subset: Path, filename: str, code: str) -> int:
    rows = read_csv(division_subset / filename)
    return next(i for i, r in enumerate(rows, start=1) if r[0] == code)


BAD_DIVISION_CASES = [
    pytest.param(
        "streets.csv",
        "330523105",
        ["33052310", "孝丰镇", "330523", "33", "3305"],
        "33052310",
        "代码长度应为 9 位，实为 8 位",
        id="wrong-length",
    ),
    pytest.param(
        "areas.csv",
        "330522",
        ["33052X", "长兴县", "3305", "33"],
        "33052X",
        "代码应全为数字",
        id="non-digit",
    ),
    pytest.param(
        "streets.csv",
        "330523201",
        ["３３０５２３２０１", "溪龙乡", "330523", "33", "3305"],
        "３３０５２３２０１",
        "代码应全为数字",
        id="full-width-digits",
    ),
    pytest.param(
        "streets.csv",
        "330523206",
        ["330599206", "山川乡", "330599", "33", "3305"],
        "330599206",
        "上级代码 330599 不存在",
        id="parent-missing",
    ),
    pytest.param(
        "streets.csv",
        "330523107",
        ["330523107", "章村镇", "330522", "33", "3305"],
        "330523107",
        "上级代码 330522 与代码前缀 330523 不一致",
        id="parent-prefix-mismatch",
    ),
    pytest.param(
        "areas.csv",
        "330523",
        ["330523", "", "3305", "33"],
        "330523",
        "名称为空",
        id="empty-name",
    ),
]


@pytest.mark.parametrize(("filename", "replaced", "row", "code", "reason"), BAD_DIVISION_CASES)
async def test_bad_division_row_is_reported_and_nothing_written(
    division_subset: Path,
    tmp_path: Path,
    filename: str,
    replaced: str,
    row: list[str],
    code: str,
    reason: str,
) -> None:
    await _import(division_subset)
    before = {d.code: (d.name, d.version, d.abolished) for d in await Division.all()}
    bad = division_copy(division_subset, tmp_path / "bad", _replace_row(filename, replaced, row))

    report = await _import(bad, version="2024")

    line = _line_of(division_subset, filename, replaced)
    problems = [(p.file, p.line, p.code, p.reason) for p in report.problems]
    assert problems[0] == (filename, line, code, reason)
    if filename == "areas.csv":
        # The county is refused, so each of its townships has no parent either.
        assert {(p[0], p[3]) for p in problems[1:]} == {
            ("streets.csv", f"上级代码 {replaced} 不存在")
        }
        assert len(problems) == 1 + 15
    else:
        assert len(problems) == 1
    assert report.written is False
    assert (report.created, report.updated, report.unchanged, report.abolished) == (0, 0, 0, 0)
    assert {d.code: (d.name, d.version, d.abolished) for d in await Division.all()} == before


async def test_full_width_digits_are_not_digits(division_subset: Path, tmp_path: Path) -> None:
    # Codes typed in a spreadsheet with a Chinese input method come out as full-width digits.
    bad = division_copy(
        division_subset, tmp_path / "bad", _append_row("provinces.csv", ["４４", "广东省"])
    )
    report = await _import(bad)
    assert [(p.file, p.line, p.code, p.reason) for p in report.problems] == [
        ("provinces.csv", 3, "４４", "代码应全为数字")
    ]
    assert report.written is False
    assert await Division.all().count() == 0


async def test_refused_county_orphans_its_townships(division_subset: Path, tmp_path: Path) -> None:
    bad = division_copy(
        division_subset,
        tmp_path / "bad",
        _replace_row("areas.csv", "330522", ["33052X", "长兴县", "3305", "33"]),
    )
    report = await _import(bad)
    orphans = [p for p in report.problems if p.file == "streets.csv"]
    assert len(orphans) == 15
    assert {p.code[:6] for p in orphans} == {"330522"}
    assert all(p.reason == "上级代码 330522 不存在" for p in orphans)
    assert await Division.all().count() == 0


async def test_duplicate_division_code_reports_second_line(
    division_subset: Path, tmp_path: Path
) -> None:
    bad = division_copy(
        division_subset,
        tmp_path / "bad",
        _append_row("streets.csv", ["330523001", "递铺镇", "330523", "33", "3305"]),
    )
    report = await _import(bad)

    last_line = len(read_csv(division_subset / "streets.csv")) + 1
    assert [(p.file, p.line, p.code, p.reason) for p in report.problems] == [
        ("streets.csv", last_line, "330523001", "代码重复")
    ]
    assert str(report.problems[0]) == f"streets.csv:{last_line}: 330523001: 代码重复"
    assert report.written is False
    assert await Division.all().count() == 0


async def test_every_bad_row_is_reported_across_files(
    division_subset: Path, tmp_path: Path
) -> None:
    def edit(name: str, rows: Rows) -> Rows:
        if name == "cities.csv":
            return [*rows, ["3399", "", "33"]]
        if name == "streets.csv":
            return [*rows, ["330523", "短代码", "330523", "33", "3305"]]
        return rows

    report = await _import(division_copy(division_subset, tmp_path / "bad", edit))

    assert [(p.file, p.line, p.reason) for p in report.problems] == [
        ("cities.csv", 3, "名称为空"),
        ("streets.csv", 32, "代码长度应为 9 位，实为 6 位"),
    ]
    assert str(report.problems[0]) == "cities.csv:3: 3399: 名称为空"
    assert report.written is False
    assert await Division.all().count() == 0


async def test_empty_code_is_shown_as_empty(division_subset: Path, tmp_path: Path) -> None:
    bad = division_copy(division_subset, tmp_path / "bad", _append_row("provinces.csv", ["", "x"]))
    report = await _import(bad)
    assert [(p.file, p.line, p.reason) for p in report.problems] == [
        ("provinces.csv", 3, "代码应全为数字")
    ]
    assert str(report.problems[0]) == "provinces.csv:3: (空): 代码应全为数字"


async def test_bom_and_blank_lines_keep_csv_line_numbers(
    division_subset: Path, tmp_path: Path
) -> None:
    target = division_copy(division_subset, tmp_path / "bom")
    text = (target / "cities.csv").read_text(encoding="utf-8")
    (target / "cities.csv").write_text("\ufeff" + text + "\n3306,\n", encoding="utf-8")

    report = await _import(target)

    # Header 1, 湖州市 2, a blank line 3, the nameless row 4.
    assert [(p.file, p.line, p.code, p.reason) for p in report.problems] == [
        ("cities.csv", 4, "3306", "名称为空")
    ]


# --- versioning ------------------------------------------------------------------------------


async def test_new_version_abolishes_missing_and_renames(
    division_subset: Path, tmp_path: Path
) -> None:
    await _import(division_subset)
    edited = division_copy(
        division_subset,
        tmp_path / "2024",
        _drop_and_rename("330523206", ("330523201", "溪龙新乡")),
    )

    report = await _import(edited, version="2024")

    assert report.problems == [] and report.written is True
    # The version of every code still listed moves on to 2024; the dropped one is abolished.
    assert (report.created, report.updated, report.unchanged, report.abolished) == (
        0,
        SUBSET_TOTAL - 1,
        0,
        1,
    )
    gone = await service.get_division(code="330523206")
    assert gone is not None
    assert (gone.name, gone.abolished, gone.version) == ("山川乡", True, "2023")
    with pytest.raises(ValidationFailed) as info:
        await service.ensure_division(code="330523206")
    assert info.value.status == 422
    assert info.value.type_slug == "abolished-division"
    assert "已撤销" in info.value.detail and "山川乡" in info.value.detail
    kept = await service.ensure_division(code="330523206", allow_abolished=True)
    assert kept.code == "330523206"

    children = [d.code for d in await service.list_children(code="330523")]
    assert len(children) == ANJI_TOWNSHIPS - 1
    assert "330523206" not in children
    everything = await service.list_children(code="330523", include_abolished=True)
    assert "330523206" in [d.code for d in everything]
    assert "330523206" not in [d.code for d in await service.list_townships(prefix="330523")]
    assert await service.search_divisions(county_code="330523", query="山川") == []

    renamed = await service.ensure_division(code="330523201")
    assert (renamed.name, renamed.kind, renamed.version, renamed.abolished) == (
        "溪龙新乡",
        "乡",
        "2024",
        False,
    )
    assert (await Division.get(code="330523001")).version == "2024"
    assert await Division.all().count() == SUBSET_TOTAL


async def test_same_version_again_is_unchanged_but_abolished_stays(
    division_subset: Path, tmp_path: Path
) -> None:
    await _import(division_subset)
    edited = division_copy(division_subset, tmp_path / "2024", _drop_and_rename("330523206"))
    await _import(edited, version="2024")

    report = await _import(edited, version="2024")

    assert (report.created, report.updated, report.unchanged, report.abolished) == (
        0,
        0,
        SUBSET_TOTAL - 1,
        0,
    )
    assert (await Division.get(code="330523206")).abolished is True


async def test_code_that_returns_is_restored(division_subset: Path, tmp_path: Path) -> None:
    await _import(division_subset)
    edited = division_copy(division_subset, tmp_path / "2024", _drop_and_rename("330523206"))
    await _import(edited, version="2024")

    report = await _import(division_subset, version="2025")

    assert (report.created, report.updated, report.abolished) == (0, SUBSET_TOTAL, 0)
    back = await service.ensure_division(code="330523206")
    assert (back.abolished, back.version) == (False, "2025")
    assert len(await service.list_children(code="330523")) == ANJI_TOWNSHIPS


async def test_new_code_in_new_version_is_created(division_subset: Path, tmp_path: Path) -> None:
    await _import(division_subset)
    edited = division_copy(
        division_subset,
        tmp_path / "2024",
        _append_row("streets.csv", ["330523112", "新设镇", "330523", "33", "3305"]),
    )
    report = await _import(edited, version="2024")
    assert (report.created, report.updated, report.abolished) == (1, SUBSET_TOTAL, 0)
    new = await service.ensure_division(code="330523112")
    assert (new.name, new.kind, new.parent_code, new.version) == ("新设镇", "镇", "330523", "2024")


async def test_village_import_does_not_touch_divisions(division_subset: Path) -> None:
    await _import(division_subset)
    await service.import_villages(path=DEMO_VILLAGES, version="demo")
    report = await _import(division_subset)
    # Villages are not in the NBS list: a division import must never abolish them.
    assert (report.unchanged, report.abolished) == (SUBSET_TOTAL, 0)
    assert await Division.filter(level=Level.VILLAGE, abolished=False).count() == 105


# --- import_villages -------------------------------------------------------------------------


async def test_import_demo_villages(division_subset: Path, villages_csv: Path) -> None:
    await _import(division_subset)

    report = await service.import_villages(path=villages_csv, version="demo")

    assert report.problems == [] and report.written is True
    assert (report.created, report.updated, report.unchanged, report.abolished) == (
        DEMO_VILLAGE_COUNT,
        0,
        0,
        0,
    )
    villages = await Division.filter(level=Level.VILLAGE).order_by("code")
    assert len(villages) == DEMO_VILLAGE_COUNT
    rows = {r[0]: r for r in read_csv(villages_csv)[1:]}
    for village in villages:
        code, name, township_code, kind, lng, lat = rows[village.code]
        assert village.name == name
        assert village.parent_code == township_code == village.code[:9]
        assert village.county_code == village.code[:6]
        assert village.kind == kind
        assert village.kind == ("居委会" if int(code[9:]) < 200 else "村委会")
        assert (village.lng, village.lat) == (float(lng), float(lat))
        assert village.version == "demo" and village.abolished is False
    assert sum(v.kind == "居委会" for v in villages) == 15
    assert sum(v.kind == "村委会" for v in villages) == 90
    first = await Division.get(code="330523001001")
    assert (first.name, first.kind, first.lng, first.lat) == (
        "长竹社区",
        "居委会",
        119.409561,
        30.763083,
    )


async def test_reimport_villages_is_idempotent_and_updates(
    division_subset: Path, villages_csv: Path
) -> None:
    await _import(division_subset)
    await service.import_villages(path=villages_csv, version="demo")

    again = await service.import_villages(path=villages_csv, version="demo")
    assert (again.created, again.updated, again.unchanged) == (0, 0, DEMO_VILLAGE_COUNT)

    rows = read_csv(villages_csv)
    rows = [
        [*r[:1], "长竹新社区", *r[2:4], "119.5", "30.8"] if r[0] == "330523001001" else r
        for r in rows
    ]
    villages_file(villages_csv, rows[1:])
    changed = await service.import_villages(path=villages_csv, version="demo")
    assert (changed.created, changed.updated, changed.unchanged) == (
        0,
        1,
        DEMO_VILLAGE_COUNT - 1,
    )
    village = await Division.get(code="330523001001")
    assert (village.name, village.lng, village.lat) == ("长竹新社区", 119.5, 30.8)


async def test_partial_village_file_abolishes_nothing(
    division_subset: Path, villages_csv: Path, tmp_path: Path
) -> None:
    await _import(division_subset)
    await service.import_villages(path=villages_csv, version="demo")
    one = villages_file(
        tmp_path / "one.csv", [["330523001001", "长竹社区", "330523001", "居委会", "", ""]]
    )
    report = await service.import_villages(path=one, version="2024")
    assert (report.updated, report.abolished) == (1, 0)
    assert await Division.filter(level=Level.VILLAGE, abolished=False).count() == 105
    assert (await Division.get(code="330523001001")).version == "2024"
    assert (await Division.get(code="330523001002")).version == "demo"


async def _abolish_shanchuan(division_subset: Path, tmp_path: Path) -> None:
    edited = division_copy(division_subset, tmp_path / "2024", _drop_and_rename("330523206"))
    report = await _import(edited, version="2024")
    assert report.abolished == 1


GOOD_VILLAGES = [
    ["330523001001", "长竹社区", "330523001", "居委会", "119.409561", "30.763083"],
    ["330523001200", "坞后村", "330523001", "村委会", "119.398602", "30.744674"],
    ["330522101201", "洪桥村", "", "", "", ""],
]
BAD_VILLAGES = [
    # (row, reason); the row's line is its position after the good rows.
    (["33052300120", "短代码村", "330523001", "村委会", "", ""], "代码长度应为 12 位，实为 11 位"),
    (["330523999200", "无乡村", "330523999", "村委会", "", ""], "所属乡镇（街道）330523999 不存在"),
    (["330523206201", "山川村", "330523206", "村委会", "", ""], "所属乡镇（街道）330523206 已撤销"),
    (
        ["330523001203", "错类村", "330523001", "居委会", "", ""],
        "类型 居委会 与代码不符（应为 村委会）",
    ),
    (
        ["330523001204", "错乡村", "330523002", "村委会", "", ""],
        "township_code 330523002 与代码前缀 330523001 不一致",
    ),
    (["330523001205", "巴黎村", "330523001", "村委会", "2.35", "48.85"], "经纬度不在中国境内"),
    (["330523001206", "赤道村", "330523001", "村委会", "119.4", "-30.7"], "经纬度不在中国境内"),
    (["330523001207", "文字村", "330523001", "村委会", "东经119", "30.7"], "经纬度不是数字"),
    (["330523001208", "半坐标村", "330523001", "村委会", "119.4", ""], "经纬度不是数字"),
    (["330523001209", "", "330523001", "村委会", "", ""], "名称为空"),
    (
        ["330523001600", "越界村", "330523001", "", "", ""],
        "村级代码末三位应为 001-199（居委会）、200-399（村委会）、400-499（类似居委会）"
        "或 500-599（类似村委会）",
    ),
    (["33052300120X", "字母村", "330523001", "", "", ""], "代码应全为数字"),
    (["330523001001", "长竹社区", "330523001", "居委会", "", ""], "代码重复"),
]


def _bad_village_file(path: Path) -> tuple[Path, list[tuple[str, int, str, str]]]:
    rows = GOOD_VILLAGES + [row for row, _ in BAD_VILLAGES]
    expected = [
        (path.name, len(GOOD_VILLAGES) + 2 + i, row[0], reason)
        for i, (row, reason) in enumerate(BAD_VILLAGES)
    ]
    return villages_file(path, rows), expected


async def test_bad_villages_reported_and_nothing_written(
    division_subset: Path, tmp_path: Path
) -> None:
    await _import(division_subset)
    await _abolish_shanchuan(division_subset, tmp_path)
    path, expected = _bad_village_file(tmp_path / "villages-bad.csv")

    report = await service.import_villages(path=path, version="local")

    assert [(p.file, p.line, p.code, p.reason) for p in report.problems] == expected
    assert report.written is False
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    assert await Division.filter(level=Level.VILLAGE).count() == 0


async def test_skip_invalid_writes_good_rows_and_reports_bad(
    division_subset: Path, tmp_path: Path
) -> None:
    await _import(division_subset)
    await _abolish_shanchuan(division_subset, tmp_path)
    path, expected = _bad_village_file(tmp_path / "villages-bad.csv")

    report = await service.import_villages(path=path, version="local", skip_invalid=True)

    assert [(p.file, p.line, p.code, p.reason) for p in report.problems] == expected
    assert report.written is True
    assert report.created == len(GOOD_VILLAGES)
    villages = {d.code: d for d in await Division.filter(level=Level.VILLAGE)}
    assert set(villages) == {r[0] for r in GOOD_VILLAGES}
    # The first of the duplicated rows is the one kept.
    assert (villages["330523001001"].lng, villages["330523001001"].lat) == (119.409561, 30.763083)
    assert villages["330522101201"].kind == "村委会"
    assert villages["330522101201"].lng is None


async def test_villages_before_divisions_are_all_refused(tmp_path: Path) -> None:
    path = villages_file(tmp_path / "v.csv", GOOD_VILLAGES)
    report = await service.import_villages(path=path, version="local", skip_invalid=True)
    assert [p.line for p in report.problems] == [2, 3, 4]
    assert all("不存在" in p.reason for p in report.problems)
    assert report.created == 0
    assert await Division.all().count() == 0


async def test_village_code_at_township_level_is_refused(
    division_subset: Path, tmp_path: Path
) -> None:
    await _import(division_subset)
    path = villages_file(tmp_path / "v.csv", [["330523001", "递铺街道", "", "", "", ""]])
    report = await service.import_villages(path=path, version="local")
    assert [(p.line, p.reason) for p in report.problems] == [(2, "代码长度应为 12 位，实为 9 位")]


# --- 400-599: 类似乡级单位, 类似居委会, 类似村委会 -------------------------------------------


def _with_daxing(name: str, rows: Rows) -> Rows:
    """The subset plus 北京经济技术开发区 (110115403) and its parents, from the packaged list."""
    wanted = {
        "provinces.csv": "11",
        "cities.csv": "1101",
        "areas.csv": "110115",
        "streets.csv": "110115403",
    }[name]
    packaged = [r for r in read_csv(DIVISIONS_DIR / name)[1:] if r[0] == wanted]
    assert len(packaged) == 1, (name, wanted)
    return rows + packaged


async def test_development_zone_township_gets_its_kind(
    division_subset: Path, tmp_path: Path
) -> None:
    directory = division_copy(division_subset, tmp_path / "with-daxing", _with_daxing)

    report = await _import(directory)

    assert report.problems == []
    zone = await Division.get(code="110115403")
    assert (zone.name, zone.level, zone.kind) == (
        "北京经济技术开发区",
        Level.TOWNSHIP,
        "类似乡级单位",
    )


async def test_reimport_fills_a_kind_the_old_import_left_empty(
    division_subset: Path, tmp_path: Path
) -> None:
    directory = division_copy(division_subset, tmp_path / "with-daxing", _with_daxing)
    await _import(directory)
    # What the import before this fix wrote for a 4xx township.
    await Division.filter(code="110115403").update(kind=None)

    report = await _import(directory)

    assert report.updated == 1
    assert (await Division.get(code="110115403")).kind == "类似乡级单位"


async def test_villages_in_400_to_599_are_imported(division_subset: Path, tmp_path: Path) -> None:
    directory = division_copy(division_subset, tmp_path / "with-daxing", _with_daxing)
    await _import(directory)
    rows = [
        ["110115403400", "开发区第一社区", "110115403", "类似居委会", "", ""],
        ["110115403499", "开发区第二社区", "110115403", "", "", ""],
        ["330523001500", "递铺农场", "330523001", "类似村委会", "", ""],
        ["330523001599", "递铺林场", "330523001", "", "", ""],
    ]
    path = villages_file(tmp_path / "v.csv", rows)

    report = await service.import_villages(path=path, version="local")

    assert report.problems == []
    assert report.created == 4
    kinds = {d.code: d.kind for d in await Division.filter(level=Level.VILLAGE)}
    assert kinds == {
        "110115403400": "类似居委会",
        "110115403499": "类似居委会",
        "330523001500": "类似村委会",
        "330523001599": "类似村委会",
    }


async def test_village_kind_column_must_match_400_to_599(
    division_subset: Path, tmp_path: Path
) -> None:
    await _import(division_subset)
    path = villages_file(tmp_path / "v.csv", [["330523001450", "某社区", "", "村委会", "", ""]])
    report = await service.import_villages(path=path, version="local")
    assert [p.reason for p in report.problems] == ["类型 村委会 与代码不符（应为 类似居委会）"]


# --- look-ups --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["12345", "3305231", "1234567890123", "", "abc", "33052a", "３３", "３３０５２３", "3\n"],
)
async def test_ensure_division_malformed_code(code: str) -> None:
    with pytest.raises(Problem) as info:
        await service.ensure_division(code=code)
    problem = info.value
    assert isinstance(problem, ValidationFailed)
    assert problem.status == 422
    assert problem.to_dict()["type"].endswith("validation-failed")
    assert "格式不正确" in problem.detail


@pytest.mark.parametrize("code", ["999999", "99", "330523999", "330523001999"])
async def test_ensure_division_unknown_code(division_subset: Path, code: str) -> None:
    await _import(division_subset)
    with pytest.raises(NotFound) as info:
        await service.ensure_division(code=code)
    assert info.value.status == 404
    assert info.value.to_dict()["type"].endswith("unknown-division")
    assert info.value.detail == f"区划代码 {code} 不存在"


async def test_ensure_and_get_division(division_subset: Path) -> None:
    await _import(division_subset)
    assert (await service.ensure_division(code="330523001")).name == "递铺街道"
    assert await service.get_division(code="330523999") is None


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("33", Level.PROVINCE),
        ("3305", Level.CITY),
        ("330523", Level.COUNTY),
        ("330523001", Level.TOWNSHIP),
        ("330523001001", Level.VILLAGE),
        ("330", None),
        ("3305230010011", None),
        ("33 05", None),
        ("-33", None),
        ("３３", None),
        ("33\n", None),
        ("3\n", None),
    ],
)
def test_level_of(code: str, level: Level | None) -> None:
    assert service.level_of(code) == level


async def test_list_children_in_code_order(division_subset: Path) -> None:
    await _import(division_subset)
    await service.import_villages(path=DEMO_VILLAGES, version="demo")

    assert [d.code for d in await service.list_children(code="33")] == ["3305"]
    assert [d.code for d in await service.list_children(code="3305")] == ["330522", "330523"]
    townships = await service.list_children(code="330523")
    codes = [d.code for d in townships]
    assert len(codes) == ANJI_TOWNSHIPS
    assert codes == sorted(codes)
    assert (codes[0], codes[-1]) == ("330523001", "330523206")
    assert townships[0].name == "递铺街道"
    assert {d.level for d in townships} == {Level.TOWNSHIP}
    villages = await service.list_children(code="330523001")
    assert [(d.code, d.name) for d in villages] == [
        ("330523001001", "长竹社区"),
        ("330523001002", "坞老社区"),
        ("330523001200", "坞后村"),
        ("330523001201", "后湾村"),
        ("330523001202", "坞东村"),
    ]
    assert await service.list_children(code="330523001001") == []
    assert await service.list_children(code="99") == []


async def test_list_roots_and_townships(division_subset: Path) -> None:
    await _import(division_subset)
    assert [(d.code, d.name) for d in await service.list_roots()] == [("33", "浙江省")]
    anji = await service.list_townships(prefix="330523")
    assert len(anji) == ANJI_TOWNSHIPS
    assert all(d.code.startswith("330523") for d in anji)
    assert len(await service.list_townships()) == 30


async def test_search_within_county(division_subset: Path) -> None:
    await _import(division_subset)
    await service.import_villages(path=DEMO_VILLAGES, version="demo")

    found = await service.search_divisions(county_code="330523", query="递铺")
    assert [(d.code, d.name) for d in found] == [("330523001", "递铺街道")]

    anji = await service.search_divisions(county_code="330523", query="街道")
    assert [d.code for d in anji] == ["330523001", "330523002", "330523003", "330523004"]
    changxing = await service.search_divisions(county_code="330522", query="街道")
    assert [d.code for d in changxing] == ["330522001", "330522002", "330522003", "330522004"]

    communities = await service.search_divisions(county_code="330523", query="社区", limit=100)
    assert communities and all(d.county_code == "330523" for d in communities)
    assert all("社区" in d.name and d.level == Level.VILLAGE for d in communities)
    codes = [d.code for d in communities]
    assert codes == sorted(codes)
    expected = [
        r[0] for r in read_csv(DEMO_VILLAGES)[1:] if r[0][:6] == "330523" and "社区" in r[1]
    ]
    assert codes == sorted(expected)


async def test_search_excludes_county_and_limits(division_subset: Path) -> None:
    await _import(division_subset)
    await service.import_villages(path=DEMO_VILLAGES, version="demo")

    assert await service.search_divisions(county_code="330523", query="安吉") == []
    villages = await service.search_divisions(county_code="330523", query="村", limit=3)
    assert len(villages) == 3
    all_villages = await service.search_divisions(county_code="330523", query="村", limit=100)
    assert [d.code for d in villages] == [d.code for d in all_villages[:3]]
    assert await service.search_divisions(county_code="330523", query="洪桥") == []
    assert [d.name for d in await service.search_divisions(county_code="330522", query="洪桥")] == [
        "洪桥镇"
    ]


@pytest.mark.parametrize("query", ["%", "_", "街道%", "\\"])
async def test_search_treats_like_wildcards_literally(division_subset: Path, query: str) -> None:
    await _import(division_subset)
    assert await service.search_divisions(county_code="330523", query=query) == []


async def test_abolishing_a_township_abolishes_its_villages(
    db: None, division_subset: Path
) -> None:
    """Villages of a township that left the list are no longer current either."""
    import csv
    import shutil

    from backend.demo import DEMO_VILLAGES
    from backend.geo import service as geo_service
    from backend.geo.models import Division

    await geo_service.import_divisions(directory=division_subset, version="2023")
    await geo_service.import_villages(path=DEMO_VILLAGES, version="demo")
    newer = division_subset.parent / "divisions-2024-no-dipu"
    shutil.copytree(division_subset, newer, dirs_exist_ok=True)
    rows = list(csv.reader((newer / "streets.csv").read_text(encoding="utf-8").splitlines()))
    with (newer / "streets.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([r for r in rows if r[0] != "330523001"])
    await geo_service.import_divisions(directory=newer, version="2024")
    villages = await Division.filter(parent_code="330523001")
    assert villages and all(v.abolished for v in villages)
    assert not (await Division.get(code="330523002001")).abolished
    assert await geo_service.list_children(code="330523001") == []
