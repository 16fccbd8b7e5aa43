"""`yimen user add` and `yimen user disable` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from argon2 import PasswordHasher

from tests.harness.cli import REPO, CliDb, query, yimen


def _add(cli: CliDb, *args: str, password: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIMEN_")}
    env |= {
        "YIMEN_DATA_DIR": str(cli.data_dir),
        "YIMEN_DATABASE_URL": cli.url,
        "YIMEN_ENV": "development",
    }
    if password is not None:
        env["YIMEN_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "user", "add", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_user_add_creates_then_updates(cli_db: CliDb, division_subset: Path) -> None:
    data = cli_db
    assert yimen(data, "migrate").returncode == 0
    assert yimen(data, "import-divisions", "--dir", division_subset).returncode == 0
    args = ["--role", "window_clerk", "--username", "wang", "--jurisdiction", "330523001"]
    result = _add(data, *args, password="first-password")
    assert result.returncode == 0, result.stderr
    assert "已新增用户 wang" in result.stdout
    [(role, jurisdiction, password_hash)] = query(
        data, "SELECT role, jurisdiction, password_hash FROM accounts_user WHERE username='wang'"
    )
    assert (role, jurisdiction) == ("window_clerk", "330523001")
    assert PasswordHasher().verify(password_hash, "first-password")

    # The same username again updates the user; with no password given, it is kept.
    args[1], args[5] = "township_head", "330523002"
    result = _add(data, *args, password=None)
    assert result.returncode == 0, result.stderr
    assert "已更新用户 wang" in result.stdout
    [(role, jurisdiction, same_hash)] = query(
        data, "SELECT role, jurisdiction, password_hash FROM accounts_user WHERE username='wang'"
    )
    assert (role, jurisdiction, same_hash) == ("township_head", "330523002", password_hash)
    actions = query(data, "SELECT action FROM integrity_audit_event ORDER BY id")
    assert actions == [("user.create",), ("user.update",)]


def test_user_add_refuses_bad_input(cli_db: CliDb, division_subset: Path) -> None:
    data = cli_db
    assert yimen(data, "migrate").returncode == 0
    assert yimen(data, "import-divisions", "--dir", division_subset).returncode == 0
    cases = [
        (["--role", "mayor", "--username", "a1", "--jurisdiction", "330523"], "未知角色"),
        (["--role", "window_clerk", "--username", "a2", "--jurisdiction", "999999"], "不存在"),
        (["--role", "window_clerk", "--username", "a3", "--jurisdiction", "33052"], "格式不正确"),
        (["--role", "grid_worker", "--username", "a4", "--jurisdiction", "330523"], "网格"),
    ]
    for args, message in cases:
        result = _add(data, *args, password="long-enough-password")
        assert result.returncode != 0
        assert message in result.stderr, (args, result.stderr)
    assert query(data, "SELECT count(*) FROM accounts_user") == [(0,)]
