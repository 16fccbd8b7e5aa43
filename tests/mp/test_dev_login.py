"""`make run` has no WeChat: the development stand-in signs residents in without it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from backend.accounts.models import User
from backend.app import create_app
from backend.config import Settings
from tests.harness.tables import empty_tables


@pytest.fixture
async def dev_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    dev = settings.with_overrides(wechat_appid="", wechat_secret="", wechat_status_template="")
    application = create_app(dev, name="yimen_dev_login")
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=application)  # type: ignore[arg-type]
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://yimen.test") as c:
                yield c
        finally:
            await empty_tables()


async def test_development_login_needs_no_wechat(dev_client: httpx.AsyncClient) -> None:
    named = await dev_client.post("/mp/v1/auth/login", json={"code": "dev:alice"})
    assert named.status_code == 200, named.text
    other = await dev_client.post("/mp/v1/auth/login", json={"code": "0a3Xk9000abcdef"})
    again = await dev_client.post("/mp/v1/auth/login", json={"code": "0b4Yl9000fedcba"})
    assert other.json()["resident"]["id"] == again.json()["resident"]["id"]
    assert set(await User.filter(kind="resident").values_list("openid", flat=True)) == {
        "dev-alice",
        "dev-resident",
    }
    headers = {"Authorization": f"Bearer {named.json()['access_token']}"}
    phone = await dev_client.post(
        "/mp/v1/me/phone", json={"code": "dev:13905720000"}, headers=headers
    )
    assert phone.json()["phone"] == "139****0000"
    config = (await dev_client.get("/mp/v1/config")).json()
    assert config["subscribe_templates"]["status"] is None
