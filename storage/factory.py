"""Choose the object store implementation from configuration."""

from __future__ import annotations

from pathlib import Path

from storage.base import ObjectStore
from storage.local import LocalStore
from storage.s3 import S3Store


def create_store(
    *,
    s3_endpoint: str,
    s3_access_key: str,
    s3_secret_key: str,
    s3_bucket: str,
    s3_secure: bool,
    s3_region: str,
    s3_public_url: str = "",
    local_root: Path,
    signing_key: bytes,
) -> ObjectStore:
    """An S3Store when s3_endpoint is set, otherwise a LocalStore under local_root."""
    if s3_endpoint:
        return S3Store(
            s3_endpoint,
            s3_access_key,
            s3_secret_key,
            s3_bucket,
            secure=s3_secure,
            region=s3_region,
            public_url=s3_public_url,
        )
    return LocalStore(local_root, signing_key=signing_key)
