"""DevWeChat, the development stand-in `make run` uses without an appid."""

from __future__ import annotations

import pytest

from backend.wechat import ERR_INVALID_CODE, DevWeChat, WeChat, WeChatError


@pytest.fixture
def dev() -> DevWeChat:
    """A DevWeChat."""
    return DevWeChat()


def test_it_follows_the_protocol(dev: DevWeChat) -> None:
    assert isinstance(dev, WeChat)
    assert dev.kind == "dev"


@pytest.mark.parametrize(
    ("code", "openid"),
    [("dev:alice", "dev-alice"), ("dev:worker_2", "dev-worker_2"), ("0a1B2c", "dev-resident")],
)
async def test_code2session_names_the_openid(dev: DevWeChat, code: str, openid: str) -> None:
    session = await dev.code2session(code)
    assert (session.openid, session.unionid) == (openid, None)


@pytest.mark.parametrize("code", ["", "   ", "dev:", "dev:有空格 的名字", "dev:" + "x" * 41])
async def test_code2session_refuses_bad_codes(dev: DevWeChat, code: str) -> None:
    with pytest.raises(WeChatError) as raised:
        await dev.code2session(code)
    assert raised.value.errcode == ERR_INVALID_CODE


async def test_phone_number_from_the_code(dev: DevWeChat) -> None:
    assert await dev.phone_number("dev:13800000000") == "13800000000"


@pytest.mark.parametrize("code", ["", "13800000000", "dev:1380000", "dev:23800000000", "x"])
async def test_phone_number_refuses_other_codes(dev: DevWeChat, code: str) -> None:
    with pytest.raises(WeChatError) as raised:
        await dev.phone_number(code)
    assert raised.value.errcode == ERR_INVALID_CODE


@pytest.mark.parametrize(
    ("content", "suggest"),
    [("普通的求助内容", "pass"), ("【违规测试】内容", "risky"), ("请【人工复核】一下", "review")],
)
async def test_check_text_markers(dev: DevWeChat, content: str, suggest: str) -> None:
    verdict = await dev.check_text(content=content, openid="dev-alice")
    assert verdict.suggest == suggest
    assert verdict.flagged is (suggest == "risky")
    assert verdict.needs_review is (suggest == "review")


async def test_send_subscribe_is_sent(dev: DevWeChat) -> None:
    outcome = await dev.send_subscribe(
        openid="dev-alice", template_id="t", page="pages/x", data={"thing1": "已受理"}
    )
    assert outcome == "sent"
    dev.close()


async def test_send_subscribe_checks_the_data(dev: DevWeChat) -> None:
    with pytest.raises(ValueError):
        await dev.send_subscribe(openid="dev-alice", template_id="t", page="", data={"x": "y"})


async def test_check_text_refuses_an_unknown_scene(dev: DevWeChat) -> None:
    with pytest.raises(ValueError, match="scene"):
        await dev.check_text(content="文字", openid="dev-alice", scene=0)
