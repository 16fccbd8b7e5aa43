"""Choose the object store implementation from configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

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


class StoreSettings(Protocol):
    """The settings an object store is built from (backend.config.Settings has them)."""

    @property
    def s3_endpoint(self) -> str: ...

    @property
    def s3_access_key(self) -> str: ...

    @property
    def s3_secret_key(self) -> str: ...

    @property
    def s3_bucket(self) -> str: ...

    @property
    def s3_secure(self) -> bool: ...

    @property
    def s3_region(self) -> str: ...

    @property
    def s3_public_url(self) -> str: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def secret_key(self) -> str: ...


def build_store(settings: StoreSettings) -> ObjectStore:
    """The object store these settings describe."""
    return create_store(
        s3_endpoint=settings.s3_endpoint,
        s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key,
        s3_bucket=settings.s3_bucket,
        s3_secure=settings.s3_secure,
        s3_region=settings.s3_region,
        s3_public_url=settings.s3_public_url,
        local_root=settings.data_dir / "objects",
        signing_key=settings.secret_key.encode(),
    )
