"""Resident sign-in through WeChat's code2session, tokens, and the phone number."""

from __future__ import annotations

import httpx

from backend.accounts.models import User, UserKind
from tests.factories import PASSWORD, make_user
from tests.harness.wechat_standin import WeChatStandIn
from tests.mp.conftest import mp_login


async def test_login_creates_one_resident_per_openid(
    client: httpx.AsyncClient, wechat: WeChatStandIn
) -> None:
    wechat.add_login_code("code-1", "o-abc")
    first = await client.post("/mp/v1/auth/login", json={"code": "code-1"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["token_type"] == "Bearer" and body["resident"]["phone"] is None
    assert "session_key" not in first.text
    wechat.add_login_code("code-2", "o-abc")
    second = await client.post("/mp/v1/auth/login", json={"code": "code-2"})
    assert second.json()["resident"]["id"] == body["resident"]["id"]
    assert await User.filter(kind=UserKind.RESIDENT).count() == 1
    me = await client.get("/mp/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == body["resident"]["id"]


async def test_reused_and_unknown_codes_are_refused_and_create_nobody(
    client: httpx.AsyncClient, wechat: WeChatStandIn
) -> None:
    wechat.add_login_code("code-once", "o-once")
    assert (await client.post("/mp/v1/auth/login", json={"code": "code-once"})).status_code == 200
    await User.filter(openid="o-once").delete()
    again = await client.post("/mp/v1/auth/login", json={"code": "code-once"})
    assert again.status_code == 401
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["type"].endswith("/wechat-code-invalid")
    assert "重新" in again.json()["detail"]
    unknown = await client.post("/mp/v1/auth/login", json={"code": "never-issued"})
    assert unknown.status_code == 401
    assert await User.filter(kind=UserKind.RESIDENT).count() == 0


async def test_wechat_failures_read_as_plain_chinese(
    client: httpx.AsyncClient, wechat: WeChatStandIn
) -> None:
    wechat.add_login_code("code-r", "o-r")
    wechat.reject_next(40226)
    risky = await client.post("/mp/v1/auth/login", json={"code": "code-r"})
    assert risky.status_code == 403 and risky.json()["type"].endswith("/wechat-risky-user")
    wechat.add_login_code("code-f", "o-f")
    wechat.reject_next(45011)
    frequent = await client.post("/mp/v1/auth/login", json={"code": "code-f"})
    assert frequent.status_code == 429 and frequent.headers["retry-after"]
    assert await User.filter(kind=UserKind.RESIDENT).count() == 0


async def test_login_body_is_validated(client: httpx.AsyncClient) -> None:
    empty = await client.post("/mp/v1/auth/login", json={"code": ""})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "code"
    extra = await client.post("/mp/v1/auth/login", json={"code": "x", "openid": "o-forged"})
    assert extra.status_code == 422
    not_json = await client.post("/mp/v1/auth/login", content=b"code=x")
    assert not_json.status_code in (400, 415)


async def test_phone_number_is_bound_encrypted_and_masked(
    client: httpx.AsyncClient, wechat: WeChatStandIn
) -> None:
    headers = await mp_login(client, wechat, "o-phone")
    wechat.add_phone_code("phone-code", "13905721234")
    bound = await client.post("/mp/v1/me/phone", json={"code": "phone-code"}, headers=headers)
    assert bound.status_code == 200, bound.text
    assert bound.json()["phone"] == "139****1234"
    user = await User.get(openid="o-phone")
    assert user.phone_enc and "13905721234" not in user.phone_enc
    me = (await client.get("/mp/v1/me", headers=headers)).json()
    assert me["phone"] == "139****1234"


async def test_bad_phone_code_and_foreign_watermark_change_nothing(
    client: httpx.AsyncClient, wechat: WeChatStandIn
) -> None:
    headers = await mp_login(client, wechat, "o-phone2")
    bad = await client.post("/mp/v1/me/phone", json={"code": "no-such"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["type"].endswith("/wechat-code-invalid")
    wechat.add_phone_code("other-app", "13905720000", appid="wx-someone-else")
    foreign = await client.post("/mp/v1/me/phone", json={"code": "other-app"}, headers=headers)
    assert foreign.status_code == 422 and foreign.json()["type"].endswith("/wechat-phone-mismatch")
    assert (await User.get(openid="o-phone2")).phone_enc is None


async def test_refresh_rotates_and_logout_revokes(
    client: httpx.AsyncClient, wechat: WeChatStandIn
) -> None:
    wechat.add_login_code("code-rt", "o-rt")
    tokens = (await client.post("/mp/v1/auth/login", json={"code": "code-rt"})).json()
    rotated = await client.post(
        "/mp/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    headers = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert (await client.post("/mp/v1/auth/logout", headers=headers)).status_code == 200
    assert (await client.get("/mp/v1/me", headers=headers)).status_code == 401


async def test_staff_and_grid_workers_cannot_use_the_resident_api(
    client: httpx.AsyncClient, wechat: WeChatStandIn, geo: None
) -> None:
    await make_user("grid_mp", "grid_worker", "330523001", villages=["330523001001"])
    response = await client.post(
        "/mobile/v1/auth/login",
        json={"username": "grid_mp", "password": PASSWORD, "device_id": "p1"},
    )
    worker = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert (await client.get("/mp/v1/me", headers=worker)).status_code == 403
    assert (await client.get("/mp/v1/items", headers=worker)).status_code == 403
    resident = await mp_login(client, wechat, "o-not-a-worker")
    assert (await client.get("/mobile/v1/reports/", headers=resident)).status_code == 403
    assert (await client.get("/mp/v1/me")).status_code == 401


async def test_a_disabled_resident_is_told_to_go_to_the_window(
    client: httpx.AsyncClient, wechat: WeChatStandIn
) -> None:
    await mp_login(client, wechat, "o-disabled")
    await User.filter(openid="o-disabled").update(is_active=False)
    wechat.add_login_code("code-d", "o-disabled")
    response = await client.post("/mp/v1/auth/login", json={"code": "code-d"})
    assert response.status_code == 403 and "窗口" in response.json()["detail"]


async def test_a_grid_workers_refresh_token_is_refused_without_ending_their_login(
    client: httpx.AsyncClient, geo: None
) -> None:
    await make_user("grid_rt", "grid_worker", "330523001", villages=["330523001001"])
    tokens = (
        await client.post(
            "/mobile/v1/auth/login",
            json={"username": "grid_rt", "password": PASSWORD, "device_id": "p1"},
        )
    ).json()
    wrong = await client.post(
        "/mp/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert wrong.status_code == 401 and wrong.json()["type"].endswith("/invalid-token")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/mobile/v1/reports/", headers=headers)).status_code == 200
    right = await client.post(
        "/mobile/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert right.status_code == 200


async def test_two_first_logins_at_once_make_one_resident(
    client: httpx.AsyncClient, wechat: WeChatStandIn
) -> None:
    import asyncio

    wechat.add_login_code("race-1", "o-race")
    wechat.add_login_code("race-2", "o-race")
    first, second = await asyncio.gather(
        client.post("/mp/v1/auth/login", json={"code": "race-1"}),
        client.post("/mp/v1/auth/login", json={"code": "race-2"}),
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["resident"]["id"] == second.json()["resident"]["id"]
    assert await User.filter(openid="o-race").count() == 1
