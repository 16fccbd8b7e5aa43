"""Object storage for Yimen: one async interface over S3 and the local filesystem."""

from __future__ import annotations

from storage.base import (
    DEFAULT_CONTENT_TYPE,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
    validate_key,
)
from storage.factory import create_store
from storage.local import LocalStore
from storage.s3 import S3Store

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "InvalidKey",
    "LocalStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "S3Store",
    "StorageError",
    "StorageUnavailable",
    "create_store",
    "validate_key",
]
