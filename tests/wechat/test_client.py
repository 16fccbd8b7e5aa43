"""Contract tests of WechatpyWeChat: real HTTP to the WeChat stand-in, the token in real Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

import pytest
import redis

from backend.config import ConfigError, Settings
from backend.wechat import (
    ERR_BUSY,
    ERR_DATA_INVALID,
    ERR_HIGH_RISK_USER,
    ERR_INVALID_CODE,
    ERR_INVALID_OPENID,
    ERR_INVALID_TEMPLATE,
    ERR_RISKY_V1,
    ERR_TOO_FREQUENT,
    ERR_UNAVAILABLE,
    ERR_WATERMARK,
    DevWeChat,
    WeChat,
    WeChatError,
    WechatpyWeChat,
    create_wechat,
)
from tests.harness.wechat_standin import WeChatStandIn

MakeClient = Callable[..., WechatpyWeChat]
TEMPLATE = "tmpl-status-0001"
STATUS = {
    "character_string1": "330522-2026-000123",
    "phrase2": "已受理",
    "time3": "2026-12-01 15:01",
    "thing4": "您的求助已由递铺街道受理",
}


def _token_paths(wechat: WeChatStandIn) -> list[str]:
    return [p for p in wechat.calls if p == "/cgi-bin/stable_token"]


# -- code2session ---------------------------------------------------------------------------


async def test_code2session_answers_the_openid_and_unionid(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    wechat.add_login_code("code-1", "o-resident-1", unionid="u-1")

    session = await wx.code2session("code-1")

    assert (session.openid, session.unionid) == ("o-resident-1", "u-1")
    assert [f.name for f in dataclasses.fields(session)] == ["openid", "unionid"]
    # Login authenticates with the secret: no access token is fetched or sent for it.
    assert wechat.calls == ["/sns/jscode2session"]
    assert "access_token" not in wechat.log[0].query
    assert wechat.token_fetches == 0


async def test_code2session_without_unionid(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    wechat.add_login_code("code-2", "o-resident-2")

    assert (await wx.code2session("code-2")).unionid is None


async def test_code2session_unknown_code_is_40029(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    with pytest.raises(WeChatError) as raised:
        await wx.code2session("never-issued")
    assert raised.value.errcode == ERR_INVALID_CODE


async def test_code2session_code_works_once(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    wechat.add_login_code("code-3", "o-resident-3")
    await wx.code2session("code-3")

    with pytest.raises(WeChatError) as raised:
        await wx.code2session("code-3")
    assert raised.value.errcode == ERR_INVALID_CODE


async def test_code2session_empty_code_never_reaches_wechat(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    with pytest.raises(WeChatError) as raised:
        await wx.code2session("")
    assert raised.value.errcode == ERR_INVALID_CODE
    assert wechat.calls == []


@pytest.mark.parametrize("errcode", [ERR_TOO_FREQUENT, ERR_HIGH_RISK_USER])
async def test_code2session_refusals_raise_without_retry(
    wx: WechatpyWeChat, wechat: WeChatStandIn, errcode: int
) -> None:
    wechat.add_login_code("code-4", "o-resident-4")
    wechat.reject_next(errcode)

    with pytest.raises(WeChatError) as raised:
        await wx.code2session("code-4")
    assert raised.value.errcode == errcode
    assert raised.value.is_busy is (errcode == ERR_TOO_FREQUENT)
    assert wechat.calls == ["/sns/jscode2session"]


async def test_code2session_wrong_secret_is_refused(
    make_client: MakeClient, wechat_settings: Settings, wechat: WeChatStandIn
) -> None:
    wx = make_client(wechat_settings.with_overrides(wechat_secret="not-the-secret"))
    wechat.add_login_code("code-5", "o-resident-5")

    with pytest.raises(WeChatError) as raised:
        await wx.code2session("code-5")
    assert raised.value.errcode == 40125


# -- phone number ---------------------------------------------------------------------------


async def test_phone_number_answers_the_pure_number(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    wechat.add_phone_code("phone-1", "13800001234")

    assert await wx.phone_number("phone-1") == "13800001234"
    assert wechat.log[-1].body == {"code": "phone-1"}


async def test_phone_number_unknown_code_is_40029(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    with pytest.raises(WeChatError) as raised:
        await wx.phone_number("never-issued")
    assert raised.value.errcode == ERR_INVALID_CODE


async def test_phone_number_for_another_appid_is_refused(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    wechat.add_phone_code("phone-2", "13800001234", appid="wx0000000000000000")

    with pytest.raises(WeChatError) as raised:
        await wx.phone_number("phone-2")
    assert (raised.value.errcode, raised.value.errmsg) == (ERR_WATERMARK, "watermark")


# -- content check --------------------------------------------------------------------------


async def test_check_text_passes_ordinary_text(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    verdict = await wx.check_text(content="家里老人摔倒了，需要帮助", openid="o-1", scene=3)

    assert (verdict.suggest, verdict.label) == ("pass", 100)
    assert not verdict.flagged and not verdict.needs_review
    assert verdict.trace_id
    assert wechat.log[-1].body == {
        "content": "家里老人摔倒了，需要帮助",
        "version": 2,
        "scene": 3,
        "openid": "o-1",
    }


async def test_check_text_review(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    wechat.review("可疑")

    verdict = await wx.check_text(content="有点可疑的内容", openid="o-1")

    assert verdict.suggest == "review"
    assert verdict.needs_review and not verdict.flagged


async def test_check_text_risky(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    wechat.flag("违禁词", label=20001)

    verdict = await wx.check_text(content="这里有违禁词", openid="o-1")

    assert (verdict.suggest, verdict.label) == ("risky", 20001)
    assert verdict.flagged


async def test_check_text_87014_is_risky(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    wechat.reject_next(ERR_RISKY_V1, "risky content")

    verdict = await wx.check_text(content="任何内容", openid="o-1")

    assert verdict.flagged


async def test_check_text_long_text_is_checked_in_parts(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    wechat.flag("违禁词")
    wechat.review("可疑")
    content = "可疑" + "好" * 3000 + "违禁词"

    verdict = await wx.check_text(content=content, openid="o-1")

    assert verdict.flagged
    checked = [c.body["content"] for c in wechat.log if c.path == "/wxa/msg_sec_check"]
    assert "".join(checked) == content
    assert max(len(part) for part in checked) <= 2500


async def test_check_text_refuses_an_unknown_scene(wx: WechatpyWeChat) -> None:
    with pytest.raises(ValueError, match="scene"):
        await wx.check_text(content="文字", openid="o-1", scene=9)


# -- subscribe messages ---------------------------------------------------------------------


async def test_send_subscribe_sends_once_per_consent(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    wechat.grant_consent("o-1", TEMPLATE)

    outcome = await wx.send_subscribe(
        openid="o-1", template_id=TEMPLATE, page="pages/item/index?id=1", data=STATUS
    )

    assert outcome == "sent"
    assert wechat.sent == [
        {
            "touser": "o-1",
            "template_id": TEMPLATE,
            "page": "pages/item/index?id=1",
            "miniprogram_state": "formal",
            "lang": "zh_CN",
            "data": {key: {"value": value} for key, value in STATUS.items()},
        }
    ]
    second = await wx.send_subscribe(openid="o-1", template_id=TEMPLATE, page="", data=STATUS)
    assert second == "no_consent"
    assert len(wechat.sent) == 1


async def test_send_subscribe_without_consent_is_no_consent(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    outcome = await wx.send_subscribe(openid="o-1", template_id=TEMPLATE, page="", data=STATUS)

    assert outcome == "no_consent"
    # 43101 is final: not retried.
    assert wechat.calls.count("/cgi-bin/message/subscribe/send") == 1


async def test_send_subscribe_cuts_values_to_the_rules(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    wechat.grant_consent("o-1", TEMPLATE)
    data = {
        "character_string1": "编号 330522-2026-000123-0000000000000000",
        "phrase2": "已经受理完毕了",
        "time3": "2026-12-01 15:01",
        "thing4": "您的求助已由递铺街道一门受理窗口受理，工作人员将尽快联系您",
        "name5": "欧阳司马诸葛上官东方西门",
        "phone_number6": "+86 0572-5123456 转 8001 分机",
    }

    assert await wx.send_subscribe(openid="o-1", template_id=TEMPLATE, page="", data=data) == "sent"

    values = {key: item["value"] for key, item in wechat.sent[0]["data"].items()}
    assert values == {
        "character_string1": "330522-2026-000123-0000000000000",
        "phrase2": "已经受理完",
        "time3": "2026-12-01 15:01",
        "thing4": "您的求助已由递铺街道一门受理窗口受理，…",
        "name5": "欧阳司马诸葛上官东方",
        "phone_number6": "+86-0572-5123456",
    }


async def test_send_subscribe_uses_the_configured_state(
    make_client: MakeClient, wechat_settings: Settings, wechat: WeChatStandIn
) -> None:
    wx = make_client(wechat_settings.with_overrides(wechat_mp_state="trial"))
    wechat.grant_consent("o-1", TEMPLATE)

    await wx.send_subscribe(openid="o-1", template_id=TEMPLATE, page="", data=STATUS)

    assert wechat.sent[0]["miniprogram_state"] == "trial"
    assert "page" not in wechat.sent[0]


@pytest.mark.parametrize(
    ("openid", "template_id", "errcode"),
    [("", TEMPLATE, ERR_INVALID_OPENID), ("o-1", "", ERR_INVALID_TEMPLATE)],
)
async def test_send_subscribe_refusals_raise(
    wx: WechatpyWeChat, wechat: WeChatStandIn, openid: str, template_id: str, errcode: int
) -> None:
    with pytest.raises(WeChatError) as raised:
        await wx.send_subscribe(openid=openid, template_id=template_id, page="", data=STATUS)
    assert raised.value.errcode == errcode


async def test_send_subscribe_47003_raises(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    wechat.grant_consent("o-1", TEMPLATE)
    wechat.reject_next(ERR_DATA_INVALID, "argument invalid! data.thing4.value invalid")

    with pytest.raises(WeChatError) as raised:
        await wx.send_subscribe(openid="o-1", template_id=TEMPLATE, page="", data=STATUS)
    assert raised.value.errcode == ERR_DATA_INVALID
    assert wechat.consents_left("o-1", TEMPLATE) == 1


# -- the access token -----------------------------------------------------------------------


async def test_token_is_fetched_once_and_shared_through_redis(
    make_client: MakeClient, wechat_settings: Settings, wechat: WeChatStandIn
) -> None:
    first, second = make_client(), make_client()  # two processes

    await first.check_text(content="一", openid="o-1")
    await second.check_text(content="二", openid="o-1")
    await first.check_text(content="三", openid="o-1")

    assert wechat.token_fetches == 1
    checks = [c for c in wechat.log if c.path == "/wxa/msg_sec_check"]
    assert len({c.query["access_token"] for c in checks}) == 1
    fetch = next(c for c in wechat.log if c.path == "/cgi-bin/stable_token")
    assert fetch.method == "POST"
    assert fetch.body == {
        "grant_type": "client_credential",
        "appid": wechat.appid,
        "secret": wechat.secret,
        "force_refresh": False,
    }
    # Kept in Redis under the settings' prefix, expiring a little before WeChat's token does.
    store = redis.Redis.from_url(wechat_settings.redis_url)
    try:
        ttl = store.ttl(f"{wechat_settings.redis_prefix}wechat:{wechat.appid}_access_token")
    finally:
        store.close()
    assert 7000 < ttl <= 7200 - 60


async def test_concurrent_first_calls_fetch_one_token(
    make_client: MakeClient, wechat: WeChatStandIn
) -> None:
    clients = [make_client() for _ in range(5)]

    verdicts = await asyncio.gather(
        *(
            c.check_text(content=f"第{i}条", openid="o-1")
            for i, c in enumerate(clients)
            for _ in "ab"
        )
    )

    assert all(v.suggest == "pass" for v in verdicts)
    assert wechat.token_fetches == 1


async def test_expired_token_is_replaced_once_and_the_call_retried(
    wx: WechatpyWeChat, wechat: WeChatStandIn
) -> None:
    await wx.check_text(content="一", openid="o-1")
    wechat.expire_tokens()

    verdict = await wx.check_text(content="二", openid="o-1")

    assert verdict.suggest == "pass"
    assert wechat.token_fetches == 2
    tail = [(c.path, c.errcode) for c in wechat.log][-3:]
    assert tail == [
        ("/wxa/msg_sec_check", 42001),
        ("/cgi-bin/stable_token", 0),
        ("/wxa/msg_sec_check", 0),
    ]


async def test_token_refused_twice_raises(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    wechat.reject_next(40001, "invalid credential")
    wechat.reject_next(40001, "invalid credential")

    with pytest.raises(WeChatError) as raised:
        await wx.check_text(content="一", openid="o-1")
    assert raised.value.errcode == 40001
    assert wechat.token_fetches == 2
    assert wechat.calls.count("/wxa/msg_sec_check") == 2


async def test_busy_is_retried(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    wechat.add_phone_code("phone-1", "13800001234")
    wechat.busy_next(2)

    assert await wx.phone_number("phone-1") == "13800001234"
    assert wechat.calls.count("/wxa/business/getuserphonenumber") == 3


async def test_persistent_busy_raises(wx: WechatpyWeChat, wechat: WeChatStandIn) -> None:
    wechat.busy_next(3)

    with pytest.raises(WeChatError) as raised:
        await wx.check_text(content="一", openid="o-1")
    assert raised.value.errcode == ERR_BUSY
    assert raised.value.is_busy
    assert wechat.calls.count("/wxa/msg_sec_check") == 3


async def test_token_fetch_with_a_wrong_secret_raises(
    make_client: MakeClient, wechat_settings: Settings, wechat: WeChatStandIn
) -> None:
    wx = make_client(wechat_settings.with_overrides(wechat_secret="not-the-secret"))

    with pytest.raises(WeChatError) as raised:
        await wx.check_text(content="一", openid="o-1")
    assert raised.value.errcode == 40125
    assert "/wxa/msg_sec_check" not in wechat.calls


async def test_unreachable_wechat_is_unavailable_and_keeps_the_secret(
    make_client: MakeClient, wechat_settings: Settings
) -> None:
    wx = make_client(wechat_settings.with_overrides(wechat_api_base="http://127.0.0.1:9"))

    with pytest.raises(WeChatError) as raised:
        await wx.code2session("code-1")
    assert raised.value.errcode == ERR_UNAVAILABLE
    assert raised.value.is_busy
    assert wechat_settings.wechat_secret not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def test_logs_carry_no_secret_phone_or_openid(
    wx: WechatpyWeChat,
    wechat: WeChatStandIn,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    wechat.add_login_code("code-1", "o-secretive")
    wechat.add_phone_code("phone-1", "13912345678")
    wechat.grant_consent("o-secretive", TEMPLATE)
    wechat.busy_next(1)
    await wx.code2session("code-1")
    await wx.phone_number("phone-1")
    wechat.expire_tokens()
    await wx.send_subscribe(openid="o-secretive", template_id=TEMPLATE, page="", data=STATUS)
    await wx.send_subscribe(openid="o-secretive", template_id=TEMPLATE, page="", data=STATUS)

    captured = capsys.readouterr()
    text = caplog.text + captured.out + captured.err + repr([r.msg for r in caplog.records])
    assert "wechat" in text  # the adapter did log
    for secret in (wechat.secret, "13912345678", "o-secretive", "session_key", "ACCESS_TOKEN"):
        assert secret not in text


# -- choosing the implementation ------------------------------------------------------------


def test_create_wechat_without_appid_is_the_development_stand_in() -> None:
    wx = create_wechat(Settings(env="development"))

    assert isinstance(wx, DevWeChat)
    assert isinstance(wx, WeChat)


async def test_create_wechat_with_appid_is_wechatpy(wechat_settings: Settings) -> None:
    wx = create_wechat(wechat_settings)
    try:
        assert isinstance(wx, WechatpyWeChat)
        assert isinstance(wx, WeChat)
    finally:
        wx.close()


def test_create_wechat_refuses_the_stand_in_in_production() -> None:
    with pytest.raises(ConfigError):
        create_wechat(Settings(env="production"))
