"""The object-store contract: errors, key rules and the ObjectStore protocol."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_KEY_LENGTH = 512
# S3 refuses presigned URLs valid for longer than 7 days; the local store
# follows the same bounds so callers cannot depend on what S3 would refuse.
MAX_PRESIGN_EXPIRY = datetime.timedelta(days=7)
MIN_PRESIGN_EXPIRY = datetime.timedelta(seconds=1)

_KEY_CHARS = re.compile(r"[A-Za-z0-9/._-]+")


class StorageError(Exception):
    """Base class for every error raised by an object store."""


class ObjectNotFound(StorageError):
    """The requested key does not exist."""


class StorageUnavailable(StorageError):
    """The backing store cannot be reached or is not usable right now."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidKey(StorageError, ValueError):
    """A key that breaks the key rules (see validate_key)."""


@dataclass(frozen=True)
class ObjectInfo:
    """Metadata of a stored object."""

    key: str
    size: int
    content_type: str


def validate_key(key: str) -> str:
    """Return key unchanged if it is a valid object key, else raise InvalidKey."""
    if not isinstance(key, str):
        raise InvalidKey(f"key must be a string, not {type(key).__name__}")
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidKey(f"key must be 1..{MAX_KEY_LENGTH} characters long")
    if not _KEY_CHARS.fullmatch(key):
        raise InvalidKey("key may only contain A-Z a-z 0-9 / . _ -")
    if key.startswith("/"):
        raise InvalidKey("key must not start with '/'")
    if key.endswith("/"):
        # S3 treats "a/" as a folder marker and a filesystem as a directory;
        # neither is an object we want to serve.
        raise InvalidKey("key must not end with '/'")
    if "//" in key:
        raise InvalidKey("key must not contain '//'")
    # '.' segments are refused as well as '..': HTTP clients and proxies
    # normalise them out of URL paths, so presigned URLs would point elsewhere.
    if any(segment in (".", "..") for segment in key.split("/")):
        raise InvalidKey("key must not contain '.' or '..' segments")
    return key


def check_expiry(expires: datetime.timedelta) -> None:
    """Raise ValueError unless expires is within the presigned-URL bounds."""
    if not MIN_PRESIGN_EXPIRY <= expires <= MAX_PRESIGN_EXPIRY:
        raise ValueError(f"expires must be between {MIN_PRESIGN_EXPIRY} and {MAX_PRESIGN_EXPIRY}")


@runtime_checkable
class ObjectStore(Protocol):
    """An asynchronous key/value store for binary objects."""

    kind: str

    async def put(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Store data under key, replacing any existing object."""
        ...

    async def get(self, key: str) -> bytes:
        """Return the object's bytes; raise ObjectNotFound when missing."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None:
        """Return the object's metadata, or None when missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        ...

    async def presigned_get_url(self, key: str, *, expires: datetime.timedelta) -> str:
        """A URL that lets its holder download the object until it expires."""
        ...

    async def create_bucket_if_missing(self) -> None:
        """Create the bucket (or root directory) if it does not exist yet."""
        ...

    async def check(self) -> None:
        """Cheap readiness probe; raise StorageUnavailable with a reason."""
        ...
