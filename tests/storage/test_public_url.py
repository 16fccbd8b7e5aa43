"""Presigned links for a public https address, while the app talks to S3 on the inside."""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import AsyncIterator

import httpx
import pytest

from backend.config import ConfigError, load_settings
from storage.s3 import S3Store
from tests.harness.seaweed import SeaweedServer

PUBLIC = "https://photos.yimen.example.org"
PAYLOAD = b"\xff\xd8 a photo"


@pytest.fixture
async def public_store(s3_store: S3Store, s3_server: SeaweedServer) -> AsyncIterator[S3Store]:
    """The test bucket, its links signed for the public address."""
    store = S3Store(
        s3_server.endpoint,
        s3_server.access_key,
        s3_server.secret_key,
        s3_store.bucket,
        public_url=PUBLIC,
    )
    try:
        yield store
    finally:
        store.close()


async def test_links_are_signed_for_the_public_address(
    public_store: S3Store, s3_server: SeaweedServer
) -> None:
    await public_store.put("photos/a.jpg", PAYLOAD, content_type="image/jpeg")
    url = await public_store.presigned_get_url(
        "photos/a.jpg", expires=datetime.timedelta(minutes=5)
    )
    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "photos.yimen.example.org")
    assert parts.path == f"/{public_store.bucket}/photos/a.jpg"
    # What nginx does: the request reaches S3 with the Host the link was signed for.
    inside = f"http://{s3_server.endpoint}{parts.path}?{parts.query}"
    async with httpx.AsyncClient() as http:
        ok = await http.get(inside, headers={"Host": parts.netloc})
        assert ok.status_code == 200, ok.text
        assert ok.content == PAYLOAD
        # The signature covers the host: the internal name does not verify.
        wrong = await http.get(inside)
        assert wrong.status_code == 403, wrong.text


def _production(**extra: str) -> dict[str, str]:
    return {
        "YIMEN_ENV": "production",
        "YIMEN_SECRET_KEY": "s" * 40,
        "YIMEN_PII_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        "YIMEN_DATABASE_URL": "postgres://u:p@db/yimen",
        "YIMEN_REDIS_URL": "redis://redis:6379/0",
        "YIMEN_S3_ENDPOINT": "minio:9000",
        "YIMEN_WECHAT_APPID": "wx1",
        "YIMEN_WECHAT_SECRET": "secret",
    } | extra


def test_production_wants_an_https_public_url() -> None:
    for bad in (None, "http://photos.example.org", "https://photos.example.org/prefix", "x"):
        env = _production() if bad is None else _production(YIMEN_S3_PUBLIC_URL=bad)
        with pytest.raises(ConfigError, match="YIMEN_S3_PUBLIC_URL"):
            load_settings(env)
    settings = load_settings(_production(YIMEN_S3_PUBLIC_URL="https://photos.example.org/"))
    assert settings.s3_public_url == "https://photos.example.org"
