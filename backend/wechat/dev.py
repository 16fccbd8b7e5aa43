"""The development stand-in for WeChat (`make run` without an appid); never used in production.

Settings.ensure_valid refuses an empty appid in production and create_wechat refuses it again,
so this class only ever answers a developer's own machine or a test.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from backend.logs import get_logger
from backend.wechat.base import (
    ERR_INVALID_CODE,
    LABEL_NORMAL,
    LABEL_OTHER,
    SCENES,
    ContentVerdict,
    SubscribeResult,
    SubscribeValue,
    WeChatError,
    WeChatSession,
)
from backend.wechat.subscribe import fit_subscribe_data

log = get_logger("yimen.wechat")

DEV_PREFIX = "dev:"
DEFAULT_OPENID = "dev-resident"
# Markers a developer types to see the content-check paths without WeChat.
RISKY_MARKER = "【违规测试】"
REVIEW_MARKER = "【人工复核】"
LABEL_ILLEGAL = 20006

_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_PHONE = re.compile(r"1[3-9]\d{9}")


class DevWeChat:
    """Answers like WeChat without WeChat, for development only (never in production).

    - code2session("dev:<name>") signs in as openid "dev-<name>" (letters, digits, _ and -);
      any other non-empty code as "dev-resident"; an empty code is 40029.
    - phone_number("dev:<11-digit mobile>") vouches for that number; anything else is 40029.
    - check_text passes, except text with 【违规测试】 (risky) or 【人工复核】 (review).
    - send_subscribe logs the template and page (never the data) and answers "sent".
    """

    kind: str = "dev"

    async def code2session(self, code: str) -> WeChatSession:
        """The development openid the code names."""
        code = code.strip()
        if not code:
            raise WeChatError(ERR_INVALID_CODE, "invalid code")
        if code.startswith(DEV_PREFIX):
            name = code[len(DEV_PREFIX) :]
            if not _NAME.fullmatch(name):
                raise WeChatError(ERR_INVALID_CODE, "invalid code: dev:<letters, digits, _ ->")
            return WeChatSession(openid=f"dev-{name}")
        return WeChatSession(openid=DEFAULT_OPENID)

    async def phone_number(self, code: str) -> str:
        """The mobile number written in a "dev:<number>" code."""
        number = code.strip().removeprefix(DEV_PREFIX)
        if not code.strip().startswith(DEV_PREFIX) or not _PHONE.fullmatch(number):
            raise WeChatError(ERR_INVALID_CODE, "invalid code: dev:<11-digit mobile number>")
        return number

    async def check_text(self, *, content: str, openid: str, scene: int = 2) -> ContentVerdict:
        """Pass, unless the text carries one of the test markers."""
        if scene not in SCENES:
            raise ValueError(f"scene must be one of {SCENES}")
        if RISKY_MARKER in content:
            return ContentVerdict("risky", LABEL_ILLEGAL, "dev-trace")
        if REVIEW_MARKER in content:
            return ContentVerdict("review", LABEL_OTHER, "dev-trace")
        return ContentVerdict("pass", LABEL_NORMAL, "dev-trace")

    async def send_subscribe(
        self,
        *,
        openid: str,
        template_id: str,
        page: str,
        data: Mapping[str, SubscribeValue],
    ) -> SubscribeResult:
        """Log that a message would be sent (its data is checked, never logged)."""
        fit_subscribe_data(data)
        log.info(
            "wechat subscribe message (development: not sent)", template=template_id, page=page
        )
        return "sent"

    def close(self) -> None:
        """Nothing to release."""
