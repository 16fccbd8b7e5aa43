"""The real `yimen` command on a fresh PostgreSQL database: migrate, import divisions, villages."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.demo import DEMO_VILLAGES
from tests.geo.helpers import Rows, division_copy, read_csv, villages_file
from tests.harness.cli import CliDb, ok, query, yimen

SUBSET_TOTAL = 34  # 浙江省, 湖州市, 2 counties, 30 townships


@pytest.fixture
def loaded(cli_db: CliDb, division_subset: Path) -> CliDb:
    """A migrated database holding the cut-down division list."""
    assert "数据库迁移完成" in ok(yimen(cli_db, "migrate"))
    assert "新增 34，" in ok(yimen(cli_db, "import-divisions", "--dir", division_subset))
    return cli_db


def test_migrate_creates_schema(cli_db: CliDb) -> None:
    out = ok(yimen(cli_db, "migrate"))
    assert "数据库迁移完成" in out
    tables = {
        r[0]
        for r in query(
            cli_db, "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
        )
    }
    assert {"geo_division", "accounts_user"} <= tables
    columns = {
        r[0]
        for r in query(
            cli_db,
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1",
            "geo_division",
        )
    }
    assert {"code", "name", "level", "parent_code", "county_code", "kind", "version"} <= columns
    assert {"abolished", "lng", "lat", "updated_at"} <= columns
    # 0002 and 0008: the audit table refuses updates, deletes and TRUNCATE.
    triggers = {
        r[0]
        for r in query(
            cli_db,
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'integrity_audit_event'::regclass",
        )
    }
    assert {"integrity_audit_event_no_update", "integrity_audit_event_no_truncate"} <= triggers
    # Running it again applies nothing and still succeeds.
    assert "数据库迁移完成" in ok(yimen(cli_db, "migrate"))
    assert query(cli_db, "SELECT count(*) FROM geo_division") == [(0,)]


def test_sqlite_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    sqlite = CliDb(data_dir=tmp_path / "data", url=f"sqlite://{tmp_path / 'yimen.sqlite3'}")
    result = yimen(sqlite, "migrate")
    assert result.returncode == 1
    assert "不再支持 SQLite" in result.stderr and "postgres://" in result.stderr
    assert not (tmp_path / "yimen.sqlite3").exists()


def test_import_divisions(loaded: CliDb, division_subset: Path) -> None:
    levels = dict(query(loaded, "SELECT level, count(*) FROM geo_division GROUP BY level"))
    assert levels == {"province": 1, "city": 1, "county": 2, "township": 30}
    assert query(
        loaded,
        "SELECT name, level, parent_code, county_code, kind, version, abolished"
        " FROM geo_division WHERE code = $1",
        "330523001",
    ) == [("递铺街道", "township", "330523", "330523", "街道", "2023", False)]
    kinds = dict(
        query(
            loaded,
            "SELECT code, kind FROM geo_division WHERE code IN ($1, $2, $3)",
            "330523004",
            "330523108",
            "330523205",
        )
    )
    assert kinds == {"330523004": "街道", "330523108": "镇", "330523205": "乡"}
    # Every township got its window.
    assert query(loaded, "SELECT count(*) FROM windows_window") == [(30,)]

    again = ok(yimen(loaded, "import-divisions", "--dir", division_subset))
    assert f"新增 0，更新 0，未变 {SUBSET_TOTAL}，撤销 0" in again
    assert query(loaded, "SELECT count(*) FROM windows_window") == [(30,)]


def test_import_divisions_new_version(loaded: CliDb, division_subset: Path, tmp_path: Path) -> None:
    def edit(name: str, rows: Rows) -> Rows:
        return [r for r in rows if r[0] != "330523206"] if name == "streets.csv" else rows

    edited = division_copy(division_subset, tmp_path / "2024", edit)
    out = ok(yimen(loaded, "import-divisions", "--dir", edited, "--version", "2024"))
    assert f"新增 0，更新 {SUBSET_TOTAL - 1}，未变 0，撤销 1" in out
    assert query(
        loaded, "SELECT abolished, version FROM geo_division WHERE code = $1", "330523206"
    ) == [(True, "2023")]


def test_bad_division_list_exits_non_zero(
    loaded: CliDb, division_subset: Path, tmp_path: Path
) -> None:
    def edit(name: str, rows: Rows) -> Rows:
        if name == "streets.csv":
            return [*rows, ["33052310", "短码镇", "330523", "33", "3305"]]
        return rows

    before = query(loaded, "SELECT code, name, version, abolished FROM geo_division")
    bad = division_copy(division_subset, tmp_path / "bad", edit)

    result = yimen(loaded, "import-divisions", "--dir", bad, "--version", "2024")

    assert result.returncode != 0
    assert "错误 streets.csv:32: 33052310: 代码长度应为 9 位，实为 8 位" in result.stderr
    assert "有 1 行有误，未导入任何数据" in result.stderr
    assert "新增" not in result.stdout
    assert query(loaded, "SELECT code, name, version, abolished FROM geo_division") == before


def _bad_villages(path: Path) -> Path:
    return villages_file(
        path,
        [
            ["330523001001", "长竹社区", "330523001", "居委会", "119.409561", "30.763083"],
            ["33052300120", "短代码村", "330523001", "村委会", "", ""],
            ["330523999200", "无乡村", "330523999", "村委会", "", ""],
            ["330523001203", "错类村", "330523001", "居委会", "", ""],
            ["330523001205", "巴黎村", "330523001", "村委会", "2.35", "48.85"],
        ],
    )


def test_import_villages_bad_then_good(loaded: CliDb, tmp_path: Path) -> None:
    bad = _bad_villages(tmp_path / "villages-bad.csv")

    result = yimen(loaded, "import-villages", bad)

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("错误 ")]
    assert errors == [
        "错误 villages-bad.csv:3: 33052300120: 代码长度应为 12 位，实为 11 位",
        "错误 villages-bad.csv:4: 330523999200: 所属乡镇（街道）330523999 不存在",
        "错误 villages-bad.csv:5: 330523001203: 类型 居委会 与代码不符（应为 村委会）",
        "错误 villages-bad.csv:6: 330523001205: 经纬度不在中国境内",
    ]
    assert "有 4 行有误，未导入任何数据" in result.stderr
    assert query(loaded, "SELECT count(*) FROM geo_division WHERE level = 'village'") == [(0,)]

    out = ok(yimen(loaded, "import-villages", DEMO_VILLAGES, "--version", "demo"))
    assert "新增 105，更新 0，未变 0，撤销 0" in out
    levels = dict(
        query(loaded, "SELECT kind, count(*) FROM geo_division WHERE level='village' GROUP BY kind")
    )
    assert levels == {"居委会": 15, "村委会": 90}
    assert query(
        loaded,
        "SELECT name, parent_code, county_code, kind, lng, lat, version FROM geo_division"
        " WHERE code = $1",
        "330523001200",
    ) == [("坞后村", "330523001", "330523", "村委会", 119.398602, 30.744674, "demo")]
    expected = {r[0] for r in read_csv(DEMO_VILLAGES)[1:]}
    got = query(loaded, "SELECT code FROM geo_division WHERE level = 'village'")
    assert {r[0] for r in got} == expected


def test_import_villages_skip_invalid(loaded: CliDb, tmp_path: Path) -> None:
    bad = _bad_villages(tmp_path / "villages-bad.csv")

    result = yimen(loaded, "import-villages", bad, "--skip-invalid")

    assert result.returncode == 0, result.stderr
    assert "错误 villages-bad.csv:3: 33052300120:" in result.stderr
    assert "错误 villages-bad.csv:6: 330523001205: 经纬度不在中国境内" in result.stderr
    assert "新增 1，更新 0，未变 0，撤销 0，跳过有误的 4 行" in result.stdout
    assert query(loaded, "SELECT code, version FROM geo_division WHERE level = 'village'") == [
        ("330523001001", "local")
    ]


def test_import_villages_missing_file(loaded: CliDb, tmp_path: Path) -> None:
    result = yimen(loaded, "import-villages", tmp_path / "nope.csv")
    assert result.returncode == 2
    assert "nope.csv" in result.stderr
