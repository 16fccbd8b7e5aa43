"""Fixtures for the WeChat adapter tests: the stand-in and clients pointed at it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from backend.config import Settings
from backend.wechat import WechatpyWeChat
from tests.harness.wechat_standin import WeChatStandIn

# Short waits between retries of a busy answer keep the tests quick.
TEST_BACKOFF = (0.01, 0.02)


@pytest.fixture
def wechat_settings(settings: Settings, wechat: WeChatStandIn) -> Iterator[Settings]:
    """The test's settings pointed at the stand-in; its Redis keys removed afterwards."""
    # The root prefix counts tests within one pytest process; a random part keeps two test
    # runs sharing the local Redis from reading each other's access tokens.
    configured = settings.with_overrides(
        redis_prefix=f"{settings.redis_prefix}{uuid.uuid4().hex[:8]}:",
        **wechat.settings_overrides(),
    )
    yield configured
    client = redis.Redis.from_url(configured.redis_url)
    try:
        keys = list(client.scan_iter(match=configured.redis_prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def make_client(wechat_settings: Settings) -> Iterator[Callable[..., WechatpyWeChat]]:
    """Build WechatpyWeChat instances (each like another process); all closed afterwards."""
    made: list[WechatpyWeChat] = []

    def make(settings: Settings | None = None) -> WechatpyWeChat:
        client = WechatpyWeChat(settings or wechat_settings, busy_backoff=TEST_BACKOFF)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def wx(make_client: Callable[..., WechatpyWeChat]) -> WechatpyWeChat:
    """One WechatpyWeChat on the stand-in."""
    return make_client()
