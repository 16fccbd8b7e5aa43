"""Fixtures for the object-store tests: a LocalStore and an S3Store on SeaweedFS."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import LocalStore, ObjectStore, S3Store
from tests.harness.seaweed import SeaweedServer, s3_server

__all__ = ["s3_server"]

SIGNING_KEY = b"test-signing-key-0123456789abcdef"


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    """A LocalStore in a fresh directory of its own."""
    return LocalStore(tmp_path / "store", signing_key=SIGNING_KEY)


@pytest.fixture
async def s3_store(s3_server: SeaweedServer) -> AsyncIterator[S3Store]:
    """An S3Store on a fresh bucket, removed again afterwards."""
    bucket = f"t-{uuid.uuid4().hex[:24]}"
    store = S3Store(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, bucket)
    await store.create_bucket_if_missing()
    try:
        yield store
    finally:
        store.close()
        # Every bucket is a SeaweedFS collection with a volume of its own;
        # dropping it keeps a long session from piling up volumes. SeaweedFS
        # deletes non-empty buckets (-s3.allowDeleteBucketNotEmpty defaults on).
        await asyncio.to_thread(s3_server.client().remove_bucket, bucket)


# Synchronous on purpose: it resolves an async fixture via getfixturevalue,
# which pytest-asyncio can only do while the event loop is not running.
@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    """Each implementation in turn; the S3 server starts only when an s3 case runs."""
    fixture = "local_store" if request.param == "local" else "s3_store"
    result: ObjectStore = request.getfixturevalue(fixture)
    return result
