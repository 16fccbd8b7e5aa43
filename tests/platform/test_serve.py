"""`yimen serve` on embedded defaults, as a newcomer's `make run` starts it.

No YIMEN_* but the data directory: the command starts its own PostgreSQL (cluster under
data/postgres) and Redis, and a task worker. Against that one server: a storm of replays of one
report, photo uploads while others are processed, an oversized upload read by a client that
sends its whole body before it reads (urllib), and Ctrl-C stopping everything it started.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from backend.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "tests" / "data" / "photos"
CLI = [sys.executable, "-m", "backend.cli"]
DIPU_VILLAGE = "330523001001"  # one of the demo grid worker's villages


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


def _redis_in(process: psutil.Process, directory: Path) -> bool:
    try:
        return "redis-server" in (process.info["name"] or "") and Path(process.cwd()) == directory
    except psutil.Error:
        return False


def _postgres_of(data: Path) -> list[psutil.Process]:
    """The postmaster serving the cluster in data/postgres, if one runs."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(data / "postgres") in cmdline:
            found.append(process)
    return found


@dataclass
class Served:
    """A running `yimen serve` on embedded defaults."""

    base: str
    data: Path
    proc: subprocess.Popen[bytes]
    redis: list[psutil.Process]
    postgres: list[psutil.Process]

    @property
    def database_url(self) -> str:
        """The embedded cluster's yimen database (its socket lives beside the data)."""
        return f"postgres://postgres@/yimen?host={self.data / 'postgres'}&port=5432"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """migrate, demo and serve, each a separate command as `make run` runs them."""
    data = tmp_path_factory.mktemp("newcomer") / "data"
    for command in ("migrate", "demo"):
        done = subprocess.run(
            [*CLI, command], cwd=ROOT, env=_env(data), capture_output=True, timeout=300
        )
        assert done.returncode == 0, done.stderr.decode()
    # Each command stopped the server it started.
    assert not _postgres_of(data)
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        cwd=ROOT,
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, status, body = time.monotonic() + 90, 0, {}
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = _get(f"{base}/readyz")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert status == 200, body
        redis = [p for p in psutil.process_iter(["name"]) if _redis_in(p, data / "redis")]
        yield Served(base, data, proc, redis, _postgres_of(data))
    finally:
        if proc.poll() is None:
            # A test failed before Ctrl-C: stop it the same way, so nothing it started lingers.
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate(timeout=30)


async def _worker_headers(base: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        response = await c.post(
            "/mobile/v1/auth/login",
            json={"username": "dipu_grid", "password": DEMO_PASSWORD, "device_id": "storm-phone"},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _report(client_id: uuid.UUID, name: str = "王大爷") -> dict[str, Any]:
    return {
        "client_id": str(client_id),
        "subject": {"name": name, "village_code": DIPU_VILLAGE, "address": "递铺街道某村 3 组"},
        "hardship": ["serious_illness"],
        "description": "独居老人，腿脚不便，需要上门了解情况",
        "observed_at": datetime.now(UTC).isoformat(),
    }


async def _count(url: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


def test_serves_on_embedded_postgres_and_redis(served: Served) -> None:
    status, body = _get(f"{served.base}/readyz")
    assert status == 200 and body["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}
    assert (served.data / "postgres" / "PG_VERSION").is_file()
    assert len(served.postgres) == 1, "serve should run one embedded PostgreSQL"
    assert len(served.redis) == 1, "serve should have started one private redis-server"
    assert not list(served.data.glob("*.sqlite3"))


async def test_a_storm_of_one_report_makes_one_record(served: Served) -> None:
    headers = await _worker_headers(served.base)
    client_id = uuid.uuid4()
    payload = _report(client_id)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=served.base, timeout=60, limits=limits) as c:
        answers = await asyncio.gather(
            *(c.post("/mobile/v1/reports/", json=payload, headers=headers) for _ in range(200))
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 199 + [201], {s: statuses.count(s) for s in set(statuses)}
    first = next(a.json() for a in answers if a.status_code == 201)
    assert all(a.json() == first for a in answers)
    rows = await _count(
        served.database_url, "SELECT count(*) FROM intake_lead WHERE client_id = $1", client_id
    )
    assert rows == 1


def _multipart(data: bytes, client_photo_id: uuid.UUID) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="client_photo_id"\r\n\r\n'
            f'{client_photo_id}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    """Twelve real camera and phone JPEGs."""
    return [p.read_bytes() for p in sorted(PHOTOS.glob("*.jpg"))[:12]]


async def test_photos_uploaded_while_others_are_processed(
    served: Served, photos: list[bytes]
) -> None:
    headers = await _worker_headers(served.base)
    async with httpx.AsyncClient(base_url=served.base, timeout=120) as c:
        leads = []
        for n in range(3):
            created = await c.post(
                "/mobile/v1/reports/", json=_report(uuid.uuid4(), f"住户{n}"), headers=headers
            )
            assert created.status_code == 201, created.text
            leads.append(created.json()["id"])

        async def upload(i: int, photo: bytes) -> httpx.Response:
            lead = leads[i % len(leads)]
            if i % 2:
                body, content_type = _multipart(photo, uuid.uuid4())
                return await c.post(
                    f"/mobile/v1/reports/{lead}/photos",
                    content=body,
                    headers=headers | {"content-type": content_type},
                )
            return await c.put(
                f"/mobile/v1/reports/{lead}/photos/{uuid.uuid4()}",
                content=photo,
                headers=headers | {"content-type": "image/jpeg"},
            )

        # The first wave is being processed by the worker while the second arrives.
        first = await asyncio.gather(*(upload(i, p) for i, p in enumerate(photos[:6])))
        second = await asyncio.gather(*(upload(i, p) for i, p in enumerate(photos[6:])))
        answers = first + second
        assert [a.status_code for a in answers] == [201] * len(photos), [
            (a.status_code, a.text[:200]) for a in answers if a.status_code != 201
        ]
        # And the worker, on the same embedded PostgreSQL, processes every one of them.
        deadline, states = time.monotonic() + 120, []
        while time.monotonic() < deadline:
            states = []
            for lead in leads:
                report = await c.get(f"/mobile/v1/reports/{lead}", headers=headers)
                assert report.status_code == 200, report.text
                states += [p["status"] for p in report.json()["photos"]]
            if "received" not in states:
                break
            await asyncio.sleep(1)
        assert sorted(states) == ["processed"] * len(photos), states


def _urllib_send(
    url: str, data: bytes, headers: dict[str, str], method: str
) -> tuple[int, Any, Any]:
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read())


async def test_an_oversized_upload_is_answered_413_before_the_client_reads(
    served: Served,
) -> None:
    headers = await _worker_headers(served.base)
    async with httpx.AsyncClient(base_url=served.base, timeout=60) as c:
        created = await c.post("/mobile/v1/reports/", json=_report(uuid.uuid4()), headers=headers)
        lead = created.json()["id"]
        config = (await c.get("/mp/v1/config")).json()
    limit_mb = config["max_photo_mb"]
    assert limit_mb == 15  # the phone checks this before it sends
    too_big = b"\xff\xd8\xff\xe0" + b"\0" * (limit_mb * 1024 * 1024 + 1024)
    raw = await asyncio.to_thread(
        _urllib_send,
        f"{served.base}/mobile/v1/reports/{lead}/photos/{uuid.uuid4()}",
        too_big,
        headers | {"Content-Type": "image/jpeg"},
        "PUT",
    )
    body, content_type = _multipart(too_big, uuid.uuid4())
    multipart = await asyncio.to_thread(
        _urllib_send,
        f"{served.base}/mobile/v1/reports/{lead}/photos",
        body,
        headers | {"Content-Type": content_type},
        "POST",
    )
    for status, answer_headers, problem in (raw, multipart):
        assert status == 413
        assert answer_headers["Content-Type"].startswith("application/problem+json")
        assert problem["type"].endswith("photo-too-large")
        assert f"{limit_mb} MB" in problem["detail"]
    async with httpx.AsyncClient(base_url=served.base, timeout=60) as c:
        report = await c.get(f"/mobile/v1/reports/{lead}", headers=headers)
    assert report.json()["photos"] == []  # nothing kept of either


def test_a_chunked_body_is_cut_off_at_the_routes_limit(served: Served) -> None:
    # 1 MB in 64 KB chunks (the JSON limit, not over it), then the header of one more chunk
    # and nothing else: the server must answer now, not wait to buffer up to 64 MB.
    host, port = served.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: yimen.test\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 65536
        for _ in range(16):
            conn.sendall(b"10000\r\n" + chunk + b"\r\n")
        conn.sendall(b"10000\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            part = conn.recv(65536)
            if not part:
                break
            answer += part
    head = answer.split(b"\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"application/problem+json" in answer.lower()


def test_ctrl_c_stops_everything_serve_started(served: Served) -> None:
    served.proc.send_signal(signal.SIGINT)
    output = served.proc.communicate(timeout=60)[0].decode()
    assert served.proc.returncode == 0, output
    assert f"{served.base}/docs" in output
    assert "内置 PostgreSQL" in output
    started = served.redis + served.postgres
    assert started
    assert not [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
