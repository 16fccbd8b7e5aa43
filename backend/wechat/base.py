"""The WeChat contract: errors, results and the WeChat protocol both implementations follow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

# Codes WeChat answers (see shared WECHAT.md) that callers and the retry policy act on.
ERR_BUSY = -1
ERR_INVALID_CREDENTIAL = 40001
ERR_INVALID_OPENID = 40003
ERR_INVALID_TOKEN = 40014
ERR_INVALID_CODE = 40029
ERR_INVALID_TEMPLATE = 40037
ERR_TOKEN_EXPIRED = 42001
ERR_NO_CONSENT = 43101
ERR_TOO_FREQUENT = 45011
ERR_DATA_INVALID = 47003
ERR_RISKY_V1 = 87014
ERR_HIGH_RISK_USER = 40226
TOKEN_ERRORS = frozenset({ERR_INVALID_CREDENTIAL, ERR_INVALID_TOKEN, ERR_TOKEN_EXPIRED})

# Codes of our own, below WeChat's -1: the answer did not come from WeChat as it should.
ERR_WATERMARK = -2  # a phone number vouched for another appid
ERR_UNAVAILABLE = -3  # WeChat or the token store could not be reached, or answered garbage

# msg_sec_check scenes: 1 profile, 2 comment, 3 forum, 4 social log.
SCENES = (1, 2, 3, 4)
LABEL_NORMAL = 100
LABEL_OTHER = 21000

Suggest = Literal["pass", "review", "risky"]
SubscribeResult = Literal["sent", "no_consent"]
SubscribeValue = str | int | date | datetime


class WeChatError(Exception):
    """WeChat refused a call (errcode as WeChat answered it, or one of ours below -1)."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"WeChat error {errcode}: {errmsg}")

    @property
    def is_busy(self) -> bool:
        """Whether trying again later may succeed (busy, too frequent, unreachable)."""
        return self.errcode in (ERR_BUSY, ERR_TOO_FREQUENT, ERR_UNAVAILABLE)


@dataclass(frozen=True)
class WeChatSession:
    """Who signed in. WeChat's session_key is deliberately not kept: it never leaves the call."""

    openid: str
    unionid: str | None = None


@dataclass(frozen=True)
class ContentVerdict:
    """WeChat's opinion of a text: pass, review (accept, but a clerk looks twice) or risky."""

    suggest: Suggest
    label: int = LABEL_NORMAL
    trace_id: str | None = None

    @property
    def flagged(self) -> bool:
        """Whether the text must be refused."""
        return self.suggest == "risky"

    @property
    def needs_review(self) -> bool:
        """Whether the text is accepted but marked for a clerk's eye."""
        return self.suggest == "review"


@runtime_checkable
class WeChat(Protocol):
    """The WeChat server calls the backend makes (mini-program server API)."""

    kind: str

    async def code2session(self, code: str) -> WeChatSession:
        """Exchange a wx.login() code for the user's openid (40029 used or unknown code)."""
        ...

    async def phone_number(self, code: str) -> str:
        """The phone number (without country code) a getPhoneNumber button's code stands for."""
        ...

    async def check_text(self, *, content: str, openid: str, scene: int = 2) -> ContentVerdict:
        """WeChat's content check (msg_sec_check version 2); ValueError for an unknown scene."""
        ...

    async def send_subscribe(
        self,
        *,
        openid: str,
        template_id: str,
        page: str,
        data: Mapping[str, SubscribeValue],
    ) -> SubscribeResult:
        """Send a one-time subscribe message: "sent", or "no_consent" when none is left."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
