"""WeChat for Yimen: one async interface over wechatpy (real) and a development stand-in."""

from __future__ import annotations

from backend.wechat.base import (
    ERR_BUSY,
    ERR_DATA_INVALID,
    ERR_HIGH_RISK_USER,
    ERR_INVALID_CODE,
    ERR_INVALID_OPENID,
    ERR_INVALID_TEMPLATE,
    ERR_NO_CONSENT,
    ERR_RISKY_V1,
    ERR_TOKEN_EXPIRED,
    ERR_TOO_FREQUENT,
    ERR_UNAVAILABLE,
    ERR_WATERMARK,
    ContentVerdict,
    SubscribeResult,
    SubscribeValue,
    Suggest,
    WeChat,
    WeChatError,
    WeChatSession,
)
from backend.wechat.client import WechatpyWeChat
from backend.wechat.dev import DevWeChat
from backend.wechat.factory import create_wechat
from backend.wechat.subscribe import fit_subscribe_data

__all__ = [
    "ERR_BUSY",
    "ERR_DATA_INVALID",
    "ERR_HIGH_RISK_USER",
    "ERR_INVALID_CODE",
    "ERR_INVALID_OPENID",
    "ERR_INVALID_TEMPLATE",
    "ERR_NO_CONSENT",
    "ERR_RISKY_V1",
    "ERR_TOKEN_EXPIRED",
    "ERR_TOO_FREQUENT",
    "ERR_UNAVAILABLE",
    "ERR_WATERMARK",
    "ContentVerdict",
    "DevWeChat",
    "SubscribeResult",
    "SubscribeValue",
    "Suggest",
    "WeChat",
    "WeChatError",
    "WeChatSession",
    "WechatpyWeChat",
    "create_wechat",
    "fit_subscribe_data",
]
