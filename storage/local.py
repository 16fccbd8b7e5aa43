"""An ObjectStore on the local filesystem, with HMAC-signed download URLs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import hmac
import json
import math
import os
import tempfile
from pathlib import Path

from storage.base import (
    DEFAULT_CONTENT_TYPE,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    check_expiry,
    validate_key,
)

_META_SUFFIX = ".json"
_TMP_PREFIX = ".tmp-"


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class LocalStore:
    """Objects as files under a root directory.

    Files are named by the SHA-256 of the key rather than by the key itself:
    no key can then address a path outside the root, and keys such as "a" and
    "a/b" can coexist as they do on S3 (a filesystem cannot hold both a file
    and a directory called "a"). A JSON sidecar next to each object records
    its key and content type.
    """

    kind: str = "local"

    def __init__(self, root: Path, *, signing_key: bytes, url_prefix: str = "/files") -> None:
        if not signing_key:
            raise ValueError("signing_key must not be empty")
        self.root = Path(root).absolute()
        self.url_prefix = url_prefix.rstrip("/")
        self._signing_key = bytes(signing_key)
        self._objects = self.root / "objects"

    # -- paths -----------------------------------------------------------------

    def _paths(self, key: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(validate_key(key).encode()).hexdigest()
        # Two-character fan-out keeps directories small with many objects.
        directory = self._objects / digest[:2]
        return directory / digest, directory / (digest + _META_SUFFIX)

    # -- blocking helpers (run in a worker thread) ------------------------------

    @staticmethod
    def _atomic_write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The temp file lives in the target directory so os.replace is a
        # same-filesystem rename: readers see the old or the new file, never
        # a partial one.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=_TMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    def _put_sync(self, key: str, data: bytes, content_type: str) -> None:
        data_path, meta_path = self._paths(key)
        meta = json.dumps({"key": key, "content_type": content_type}).encode()
        # The data file decides whether an object exists, so the sidecar goes
        # first: a new object never becomes visible without its content type.
        try:
            self._atomic_write(meta_path, meta)
            self._atomic_write(data_path, data)
        except OSError as exc:
            raise StorageError(f"cannot write object: {exc.strerror or exc}") from exc

    def _get_sync(self, key: str) -> bytes:
        data_path, _ = self._paths(key)
        try:
            return data_path.read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read object: {exc.strerror or exc}") from exc

    def _stat_sync(self, key: str) -> ObjectInfo | None:
        data_path, meta_path = self._paths(key)
        try:
            size = data_path.stat().st_size
        except FileNotFoundError:
            return None
        content_type = DEFAULT_CONTENT_TYPE
        # A missing or damaged sidecar only loses the content type, not the object.
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads(meta_path.read_bytes())
            if isinstance(meta, dict) and isinstance(meta.get("content_type"), str):
                content_type = meta["content_type"]
        return ObjectInfo(key=key, size=size, content_type=content_type)

    def _delete_sync(self, key: str) -> None:
        data_path, meta_path = self._paths(key)
        # Data first: once it is gone the object is gone, whatever happens to the sidecar.
        for path in (data_path, meta_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _check_sync(self) -> None:
        if not self.root.exists():
            raise StorageUnavailable(f"storage root {self.root} does not exist")
        if not self.root.is_dir():
            raise StorageUnavailable(f"storage root {self.root} is not a directory")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"storage root {self.root} is not writable")

    # -- ObjectStore --------------------------------------------------------------

    async def put(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Store data under key, replacing any existing object."""
        validate_key(key)
        await asyncio.to_thread(self._put_sync, key, bytes(data), content_type)

    async def get(self, key: str) -> bytes:
        """Return the object's bytes; raise ObjectNotFound when missing."""
        validate_key(key)
        return await asyncio.to_thread(self._get_sync, key)

    async def stat(self, key: str) -> ObjectInfo | None:
        """Return the object's metadata, or None when missing."""
        validate_key(key)
        return await asyncio.to_thread(self._stat_sync, key)

    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        validate_key(key)
        await asyncio.to_thread(self._delete_sync, key)

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        return await self.stat(key) is not None

    async def presigned_get_url(
        self,
        key: str,
        *,
        expires: datetime.timedelta,
        now: datetime.datetime | None = None,
    ) -> str:
        """A URL under url_prefix that verify_signed accepts until it expires."""
        validate_key(key)
        check_expiry(expires)
        deadline = math.ceil(((now or _utcnow()) + expires).timestamp())
        signature = self._sign(key, str(deadline))
        return f"{self.url_prefix}/{key}?expires={deadline}&signature={signature}"

    async def create_bucket_if_missing(self) -> None:
        """Create the root directory if it does not exist yet."""
        await asyncio.to_thread(self._objects.mkdir, parents=True, exist_ok=True)

    async def check(self) -> None:
        """Raise StorageUnavailable unless the root is a writable directory."""
        await asyncio.to_thread(self._check_sync)

    # -- signed URLs ----------------------------------------------------------------

    def _sign(self, key: str, expires: str) -> str:
        # Newline cannot occur in a key or in the digits of expires, so the
        # message is unambiguous.
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def verify_signed(
        self,
        key: str,
        expires: str,
        signature: str,
        *,
        now: datetime.datetime | None = None,
    ) -> bool:
        """Whether (key, expires, signature) came from presigned_get_url and has not expired."""
        try:
            validate_key(key)
        except InvalidKey:
            return False
        # Digits only (no sign, spaces or underscores that int() would accept),
        # so one deadline has exactly one signed spelling.
        if not (expires.isascii() and expires.isdigit() and len(expires) <= 12):
            return False
        expected = self._sign(key, expires).encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            return False
        return (now or _utcnow()).timestamp() <= int(expires)
