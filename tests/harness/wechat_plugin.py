"""pytest fixtures for the WeChat stand-in: one server a session, fresh state per test.

Load it from the root conftest with `pytest_plugins = ["tests.harness.wechat_plugin"]`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.wechat_standin import WeChatStandIn


@pytest.fixture(scope="session")
def wechat_server() -> Iterator[WeChatStandIn]:
    """The session's WeChat stand-in on a loopback port."""
    server = WeChatStandIn().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def wechat(wechat_server: WeChatStandIn) -> Iterator[WeChatStandIn]:
    """The stand-in with no codes, words, consents, tokens or records left from other tests."""
    wechat_server.reset()
    yield wechat_server
    wechat_server.reset()
