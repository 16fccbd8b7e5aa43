"""Object storage for Yimen (one async interface over S3 and the local filesystem) and photos."""

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
from storage.factory import build_store, create_store
from storage.local import LocalStore
from storage.photos import (
    DISPLAY_MIME,
    MAX_BYTES,
    MAX_PIXELS,
    PhotoRejected,
    ProcessedPhoto,
    RejectCode,
    UploadInfo,
    phash_distance,
    process_photo,
    sniff,
    validate_upload,
)
from storage.s3 import S3Store

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "DISPLAY_MIME",
    "MAX_BYTES",
    "MAX_PIXELS",
    "InvalidKey",
    "LocalStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "PhotoRejected",
    "ProcessedPhoto",
    "RejectCode",
    "S3Store",
    "StorageError",
    "StorageUnavailable",
    "UploadInfo",
    "build_store",
    "create_store",
    "phash_distance",
    "process_photo",
    "sniff",
    "validate_key",
    "validate_upload",
]
