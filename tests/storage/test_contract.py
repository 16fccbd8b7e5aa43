"""The ObjectStore contract, run against LocalStore and S3Store (on SeaweedFS)."""

from __future__ import annotations

import asyncio
import datetime
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from storage import (
    DEFAULT_CONTENT_TYPE,
    InvalidKey,
    LocalStore,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    S3Store,
    StorageError,
    StorageUnavailable,
    create_store,
    validate_key,
)
from tests.harness.seaweed import SeaweedServer

SIGNING_KEY = b"contract-signing-key-0123456789"

# Every byte value, plus sequences that text handling would mangle.
BINARY = bytes(range(256)) * 64 + b"\r\n\x00\xff\xfe" + "汉字".encode()

BAD_KEYS = [
    "",
    "/leading-slash",
    "trailing/",
    "double//slash",
    "..",
    "../escape",
    "a/../b",
    "a/..",
    ".",
    "./a",
    "a/./b",
    "space in key",
    "back\\slash",
    "query?x=1",
    "percent%2F",
    "nul\x00byte",
    "newline\n",
    "ümlaut",
    "x" * 513,
]


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# -- validate_key --------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["a", "a/b/c", "A-Z_a-z.0-9", "dir.with.dots/file..name", ".hidden", "x" * 512]
)
def test_validate_key_accepts_and_returns_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", BAD_KEYS)
def test_validate_key_rejects(key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


def test_invalid_key_is_a_value_error_and_storage_error() -> None:
    with pytest.raises(ValueError):
        validate_key("/x")
    with pytest.raises(StorageError):
        validate_key("/x")


# -- contract, both implementations ----------------------------------------------------


def test_store_satisfies_protocol(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)
    assert store.kind in ("local", "s3")


async def test_put_get_round_trip_binary(store: ObjectStore) -> None:
    await store.put("docs/blob.bin", BINARY)
    assert await store.get("docs/blob.bin") == BINARY


async def test_empty_object_round_trip(store: ObjectStore) -> None:
    await store.put("empty", b"")
    assert await store.get("empty") == b""
    assert await store.stat("empty") == ObjectInfo("empty", 0, DEFAULT_CONTENT_TYPE)


async def test_large_object_round_trip(store: ObjectStore) -> None:
    # Above minio's 5 MiB part size (multipart upload) and SeaweedFS's 4 MiB
    # chunk size, so both split paths are exercised.
    data = os.urandom(6 * 1024 * 1024 + 123)
    await store.put("big", data, content_type="application/zip")
    assert await store.get("big") == data
    assert await store.stat("big") == ObjectInfo("big", len(data), "application/zip")


async def test_stat_keeps_content_type_and_size(store: ObjectStore) -> None:
    await store.put("img/photo.png", b"\x89PNG....", content_type="image/png")
    assert await store.stat("img/photo.png") == ObjectInfo("img/photo.png", 8, "image/png")


async def test_default_content_type(store: ObjectStore) -> None:
    await store.put("plain", b"abc")
    info = await store.stat("plain")
    assert info is not None
    assert info.content_type == "application/octet-stream"


async def test_overwrite_replaces_data_and_content_type(store: ObjectStore) -> None:
    await store.put("k", b"first version, longer", content_type="text/plain")
    await store.put("k", b"second", content_type="application/pdf")
    assert await store.get("k") == b"second"
    assert await store.stat("k") == ObjectInfo("k", 6, "application/pdf")


async def test_missing_key(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        await store.get("never/written")
    assert await store.stat("never/written") is None
    assert await store.exists("never/written") is False


async def test_exists(store: ObjectStore) -> None:
    assert await store.exists("e") is False
    await store.put("e", b"1")
    assert await store.exists("e") is True


async def test_delete_is_idempotent(store: ObjectStore) -> None:
    await store.put("gone", b"bye")
    await store.put("kept", b"stay")
    await store.delete("gone")
    assert await store.exists("gone") is False
    with pytest.raises(ObjectNotFound):
        await store.get("gone")
    await store.delete("gone")
    await store.delete("never/existed")
    assert await store.get("kept") == b"stay"


async def test_prefix_keys_coexist(store: ObjectStore) -> None:
    # S3 allows both "a" and "a/b"; a filesystem cannot hold a file and a
    # directory of one name, so a naive local layout would fail here.
    await store.put("a/b", b"child")
    # A prefix with objects under it is not an object itself.
    assert await store.stat("a") is None
    assert await store.exists("a") is False
    with pytest.raises(ObjectNotFound):
        await store.get("a")
    await store.put("a", b"parent")
    await store.put("a/b/c", b"grandchild")
    assert await store.get("a") == b"parent"
    assert await store.get("a/b") == b"child"
    assert await store.get("a/b/c") == b"grandchild"
    await store.delete("a")
    assert await store.get("a/b") == b"child"


async def test_keys_are_case_sensitive(store: ObjectStore) -> None:
    await store.put("Case", b"upper")
    await store.put("case", b"lower")
    assert await store.get("Case") == b"upper"
    assert await store.get("case") == b"lower"


async def test_concurrent_operations(store: ObjectStore) -> None:
    payloads = {f"many/{i:03d}": os.urandom(1000 + i) for i in range(24)}
    await asyncio.gather(*(store.put(k, v) for k, v in payloads.items()))
    results = await asyncio.gather(*(store.get(k) for k in payloads))
    assert dict(zip(payloads, results, strict=True)) == payloads


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_invalid_keys_refused_by_every_method(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        await store.put(key, b"x")
    with pytest.raises(InvalidKey):
        await store.get(key)
    with pytest.raises(InvalidKey):
        await store.stat(key)
    with pytest.raises(InvalidKey):
        await store.delete(key)
    with pytest.raises(InvalidKey):
        await store.exists(key)
    with pytest.raises(InvalidKey):
        await store.presigned_get_url(key, expires=datetime.timedelta(minutes=5))


@pytest.mark.parametrize(
    "expires", [datetime.timedelta(0), datetime.timedelta(seconds=-5), datetime.timedelta(days=8)]
)
async def test_presign_expiry_out_of_bounds(
    store: ObjectStore, expires: datetime.timedelta
) -> None:
    await store.put("p", b"x")
    with pytest.raises(ValueError):
        await store.presigned_get_url("p", expires=expires)


async def test_ensure_bucket_is_idempotent(store: ObjectStore) -> None:
    await store.put("before", b"1")
    await store.create_bucket_if_missing()
    await store.create_bucket_if_missing()
    assert await store.get("before") == b"1"


async def test_check_passes_on_healthy_store(store: ObjectStore) -> None:
    await store.create_bucket_if_missing()
    started = time.monotonic()
    await store.check()
    assert time.monotonic() - started < 2.0


# -- presigned URLs: S3 ------------------------------------------------------------------


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


async def _fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url)


async def test_s3_presigned_url_downloads_object(s3_store: S3Store) -> None:
    await s3_store.put("dl/file.pdf", BINARY, content_type="application/pdf")
    url = await s3_store.presigned_get_url("dl/file.pdf", expires=datetime.timedelta(minutes=5))
    response = await _fetch(url)
    assert response.status_code == 200
    assert response.content == BINARY
    assert response.headers["content-type"] == "application/pdf"


async def test_s3_presigned_url_with_altered_signature_is_refused(s3_store: S3Store) -> None:
    await s3_store.put("dl/secret", b"private-bytes")
    url = await s3_store.presigned_get_url("dl/secret", expires=datetime.timedelta(minutes=5))
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    response = await _fetch(_with_query(url, **{"X-Amz-Signature": flipped}))
    assert response.status_code == 403
    assert b"private-bytes" not in response.content


async def test_s3_presigned_url_for_other_key_is_refused(s3_store: S3Store) -> None:
    await s3_store.put("dl/one", b"one")
    await s3_store.put("dl/two", b"two")
    url = await s3_store.presigned_get_url("dl/one", expires=datetime.timedelta(minutes=5))
    response = await _fetch(url.replace("/dl/one?", "/dl/two?"))
    assert response.status_code == 403


async def test_s3_expired_presigned_url_is_refused(s3_store: S3Store) -> None:
    await s3_store.put("dl/old", b"old")
    signed_at = _utcnow() - datetime.timedelta(hours=2)
    url = await s3_store.presigned_get_url(
        "dl/old", expires=datetime.timedelta(hours=1), now=signed_at
    )
    response = await _fetch(url)
    assert response.status_code == 403


# -- presigned URLs: local ---------------------------------------------------------------


def _split_local(url: str, prefix: str = "/files") -> tuple[str, str, str]:
    parts = urlsplit(url)
    assert parts.path.startswith(prefix + "/")
    query = parse_qs(parts.query)
    assert set(query) == {"expires", "signature"}
    return parts.path[len(prefix) + 1 :], query["expires"][0], query["signature"][0]


async def test_local_presigned_url_shape_and_verification(local_store: LocalStore) -> None:
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    url = await local_store.presigned_get_url(
        "dl/file.pdf", expires=datetime.timedelta(minutes=10), now=now
    )
    key, expires, signature = _split_local(url)
    assert key == "dl/file.pdf"
    assert int(expires) == int(now.timestamp()) + 600
    assert len(signature) == 64
    int(signature, 16)
    assert local_store.verify_signed(key, expires, signature, now=now)
    # Still valid at the last second, invalid one second later.
    last = now + datetime.timedelta(minutes=10)
    assert local_store.verify_signed(key, expires, signature, now=last)
    assert not local_store.verify_signed(
        key, expires, signature, now=last + datetime.timedelta(seconds=1)
    )


async def test_local_presigned_url_fresh_verifies_without_now(local_store: LocalStore) -> None:
    url = await local_store.presigned_get_url("k", expires=datetime.timedelta(minutes=1))
    assert local_store.verify_signed(*_split_local(url))


async def test_local_presigned_url_respects_prefix(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, signing_key=SIGNING_KEY, url_prefix="/api/v1/blobs/")
    url = await store.presigned_get_url("a/b", expires=datetime.timedelta(minutes=1))
    assert url.startswith("/api/v1/blobs/a/b?expires=")
    assert store.verify_signed(*_split_local(url, "/api/v1/blobs"))


async def test_local_tampered_urls_fail(local_store: LocalStore) -> None:
    url = await local_store.presigned_get_url("dl/a", expires=datetime.timedelta(minutes=10))
    key, expires, signature = _split_local(url)
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert not local_store.verify_signed(key, expires, flipped)
    assert not local_store.verify_signed("dl/b", expires, signature)
    assert not local_store.verify_signed(key, str(int(expires) + 3600), signature)
    assert not local_store.verify_signed(key, expires, signature.upper())
    assert not local_store.verify_signed(key, expires, signature[:-1])
    assert not local_store.verify_signed(key, expires, "")
    assert not local_store.verify_signed(key, expires, "é" * 64)
    # Spellings int() would accept for the same deadline are still refused.
    for variant in (f" {expires}", f"+{expires}", f"0{expires}", f"{expires[:2]}_{expires[2:]}"):
        assert not local_store.verify_signed(key, variant, signature)
    assert not local_store.verify_signed("../dl/a", expires, signature)


async def test_local_expired_url_fails(local_store: LocalStore) -> None:
    signed_at = _utcnow() - datetime.timedelta(hours=2)
    url = await local_store.presigned_get_url(
        "dl/a", expires=datetime.timedelta(hours=1), now=signed_at
    )
    assert not local_store.verify_signed(*_split_local(url))


async def test_local_url_signed_with_other_key_fails(tmp_path: Path) -> None:
    one = LocalStore(tmp_path, signing_key=b"key-one-0123456789")
    two = LocalStore(tmp_path, signing_key=b"key-two-0123456789")
    url = await one.presigned_get_url("k", expires=datetime.timedelta(minutes=1))
    assert one.verify_signed(*_split_local(url))
    assert not two.verify_signed(*_split_local(url))


def test_local_store_refuses_empty_signing_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalStore(tmp_path, signing_key=b"")


# -- LocalStore specifics ----------------------------------------------------------------


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_local_files_stay_under_root_and_leave_no_temp_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = LocalStore(root, signing_key=SIGNING_KEY)
    keys = ["a", "a/b", "deep/er/still/deeper.txt", "..dots", "x" * 512]
    for key in keys:
        await store.put(key, key.encode())
        await store.put(key, key.encode() * 2)
    everything = _files(tmp_path)
    assert everything, "nothing was written"
    assert all(p.resolve().is_relative_to(root.resolve()) for p in everything)
    # One data file and one sidecar per key, and no leftover temp files.
    assert len(everything) == 2 * len(keys)
    assert not [p for p in everything if p.name.startswith(".tmp-")]


async def test_local_objects_survive_a_new_store_instance(tmp_path: Path) -> None:
    first = LocalStore(tmp_path, signing_key=SIGNING_KEY)
    await first.put("persist/me", b"data", content_type="text/csv")
    second = LocalStore(tmp_path, signing_key=SIGNING_KEY)
    assert await second.get("persist/me") == b"data"
    assert await second.stat("persist/me") == ObjectInfo("persist/me", 4, "text/csv")


async def test_local_delete_removes_sidecar(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, signing_key=SIGNING_KEY)
    await store.put("k", b"v", content_type="text/plain")
    await store.delete("k")
    assert _files(tmp_path) == []
    # A new object under the same key must not inherit the old content type.
    await store.put("k", b"v")
    assert await store.stat("k") == ObjectInfo("k", 1, DEFAULT_CONTENT_TYPE)


async def test_local_check_fails_when_root_missing_or_not_a_directory(tmp_path: Path) -> None:
    missing = LocalStore(tmp_path / "nope", signing_key=SIGNING_KEY)
    with pytest.raises(StorageUnavailable) as excinfo:
        await missing.check()
    assert "does not exist" in excinfo.value.reason
    await missing.create_bucket_if_missing()
    await missing.check()

    file_root = tmp_path / "a-file"
    file_root.write_bytes(b"")
    not_dir = LocalStore(file_root, signing_key=SIGNING_KEY)
    with pytest.raises(StorageUnavailable) as excinfo:
        await not_dir.check()
    assert "not a directory" in excinfo.value.reason


async def test_local_write_failure_is_storage_error(tmp_path: Path) -> None:
    file_root = tmp_path / "a-file"
    file_root.write_bytes(b"")
    store = LocalStore(file_root, signing_key=SIGNING_KEY)
    with pytest.raises(StorageError):
        await store.put("k", b"v")


# -- S3Store specifics ------------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts TCP connections but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


async def test_s3_check_fails_fast_when_nothing_listens(closed_port: int) -> None:
    store = S3Store(f"127.0.0.1:{closed_port}", "ak", "sk", "bucket")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as excinfo:
        await store.check()
    assert time.monotonic() - started < 2.0
    assert excinfo.value.reason
    assert len(excinfo.value.reason) <= 300
    store.close()


async def test_s3_check_times_out_when_server_hangs(silent_port: int) -> None:
    store = S3Store(f"127.0.0.1:{silent_port}", "ak", "sk", "bucket")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await store.check()
    assert time.monotonic() - started < 2.5
    store.close()


async def test_s3_operations_fail_as_unavailable_when_nothing_listens(closed_port: int) -> None:
    store = S3Store(f"127.0.0.1:{closed_port}", "ak", "sk", "bucket")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await store.put("k", b"v")
    with pytest.raises(StorageUnavailable):
        await store.get("k")
    with pytest.raises(StorageUnavailable):
        await store.stat("k")
    assert time.monotonic() - started < 5.0
    store.close()


async def test_s3_presign_needs_no_server(closed_port: int) -> None:
    store = S3Store(f"127.0.0.1:{closed_port}", "ak", "sk", "bucket")
    url = await store.presigned_get_url("a/b", expires=datetime.timedelta(minutes=5))
    parts = urlsplit(url)
    assert parts.netloc == f"127.0.0.1:{closed_port}"
    assert parts.path == "/bucket/a/b"
    assert parse_qs(parts.query)["X-Amz-Expires"] == ["300"]
    store.close()


async def test_s3_check_fails_for_missing_bucket(s3_server: SeaweedServer) -> None:
    store = S3Store(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, "no-such-b")
    with pytest.raises(StorageUnavailable) as excinfo:
        await store.check()
    assert "does not exist" in excinfo.value.reason
    with pytest.raises(StorageUnavailable):
        await store.put("k", b"v")
    store.close()


async def test_s3_wrong_secret_is_refused(s3_server: SeaweedServer, s3_store: S3Store) -> None:
    await s3_store.put("private", b"original")
    intruder = S3Store(s3_server.endpoint, s3_server.access_key, "wrong-secret", s3_store.bucket)
    with pytest.raises(StorageError) as excinfo:
        await intruder.get("private")
    assert not isinstance(excinfo.value, ObjectNotFound)
    with pytest.raises(StorageError):
        await intruder.put("private", b"overwritten")
    with pytest.raises(StorageError):
        await intruder.delete("private")
    with pytest.raises(StorageUnavailable):
        await intruder.check()
    # The refused requests really changed nothing.
    assert await s3_store.get("private") == b"original"
    intruder.close()


async def test_s3_unknown_access_key_is_refused(
    s3_server: SeaweedServer, s3_store: S3Store
) -> None:
    intruder = S3Store(s3_server.endpoint, "no-such-user", s3_server.secret_key, s3_store.bucket)
    with pytest.raises(StorageError):
        await intruder.put("k", b"v")
    assert await s3_store.exists("k") is False
    intruder.close()


def test_s3_store_rejects_bad_bucket_name() -> None:
    with pytest.raises(ValueError):
        S3Store("127.0.0.1:9000", "ak", "sk", "Bad_Bucket")


# -- factory -------------------------------------------------------------------------------


async def test_factory_without_endpoint_gives_working_local_store(tmp_path: Path) -> None:
    store = create_store(
        s3_endpoint="",
        s3_access_key="ak",
        s3_secret_key="sk",
        s3_bucket="yimen",
        s3_secure=False,
        s3_region="us-east-1",
        local_root=tmp_path,
        signing_key=SIGNING_KEY,
    )
    assert isinstance(store, LocalStore)
    assert store.kind == "local"
    await store.put("k", b"v")
    assert _files(tmp_path)


async def test_factory_with_endpoint_gives_s3_store(
    tmp_path: Path, s3_server: SeaweedServer
) -> None:
    store = create_store(
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_bucket="factory-made",
        s3_secure=False,
        s3_region="us-east-1",
        local_root=tmp_path,
        signing_key=SIGNING_KEY,
    )
    assert isinstance(store, S3Store)
    assert store.kind == "s3"
    await store.create_bucket_if_missing()
    await store.put("k", b"v")
    assert await store.get("k") == b"v"
    assert _files(tmp_path) == []
    store.close()
    await asyncio.to_thread(s3_server.client().remove_bucket, "factory-made")
