"""Choose the WeChat implementation from configuration."""

from __future__ import annotations

from backend.config import ConfigError, Settings
from backend.wechat.base import WeChat
from backend.wechat.client import WechatpyWeChat
from backend.wechat.dev import DevWeChat


def create_wechat(settings: Settings) -> WeChat:
    """WechatpyWeChat when an appid is configured, else the development stand-in."""
    if settings.wechat_appid:
        return WechatpyWeChat(settings)
    if settings.is_production:
        # Settings.ensure_valid refuses this already; a second lock on the same door.
        raise ConfigError("the development WeChat stand-in is never used in production")
    return DevWeChat()
