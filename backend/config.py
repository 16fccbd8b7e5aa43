"""Settings read from YIMEN_* environment variables, with embedded defaults for development."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Development defaults. Production refuses to start while any of these is in use.
DEFAULT_SECRET_KEY = "dev-secret-key-change-me"  # noqa: S105 - production refuses it
DEFAULT_PII_KEY = base64.b64encode(b"dev-pii-key-change-me-0123456789"[:32]).decode()

ENVIRONMENTS = ("development", "test", "production")
POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration we can run with."""


def _bool(value: str) -> bool:
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"not a boolean: {value!r}")


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None


@dataclass(frozen=True)
class Settings:
    """Everything the application reads from its environment, resolved once at start-up."""

    env: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    data_dir: Path = field(default_factory=lambda: Path("data").resolve())
    database_url: str = ""
    redis_url: str = ""
    # The role `yimen grant-app-role` creates for the app and worker (run by the owner).
    app_db_user: str = "yimen_app"
    app_db_password: str = ""
    s3_endpoint: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "yimen"
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    # The address people's phones and browsers fetch photo links from (scheme and host, no
    # path): links are signed for it. Empty: the S3 endpoint itself (development, tests).
    s3_public_url: str = ""
    secret_key: str = DEFAULT_SECRET_KEY
    pii_key: str = DEFAULT_PII_KEY
    log_level: str = "INFO"
    log_json: bool = True
    access_token_ttl: int = 2 * 3600
    refresh_token_ttl: int = 30 * 24 * 3600
    # Login attempts are counted before the password is checked. Per name and address: a
    # stranger elsewhere cannot lock a clerk out. Per name from every address: a ceiling of
    # failures, then a lock that doubles from the base with each further failure, up to the
    # maximum (seconds). Per address over every name: against trying one password on many
    # names. An address or device (the app's device_id, the console's signed cookie) the name
    # signed in with within login_known_days is spared both of those, never the first.
    login_rate_limit: str = "10/minute"
    login_user_rate_limit: str = "30/hour"
    login_backoff_base: int = 60
    login_backoff_max: int = 3600
    login_address_rate_limit: str = "60/minute"
    login_known_days: int = 30
    proxies_count: int = 0
    redis_prefix: str = "yimen:"
    ack_urgent_hours: int = 24
    ack_working_days: int = 3
    # 低保/特困: decided within 30 working days of acceptance, once extendable to 45.
    decision_working_days: int = 30
    decision_extended_working_days: int = 45
    holidays: str = ""
    makeup_workdays: str = ""
    nearest_window_m: float = 3000.0
    max_gps_accuracy_m: float = 2000.0
    # WeChat mini-program. An empty appid means the development stand-in (no WeChat needed),
    # which production refuses.
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_status_template: str = ""
    wechat_mp_state: str = "formal"
    help_rate_limit: str = "5/hour"
    help_device_rate_limit: str = "10/hour"

    @property
    def is_production(self) -> bool:
        """Whether this is a production deployment (strict checks apply)."""
        return self.env == "production"

    @property
    def pii_key_bytes(self) -> bytes:
        """The 32-byte personal-data key."""
        return base64.b64decode(self.pii_key)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some values replaced (tests and the CLI use this)."""
        return replace(self, **changes)

    def ensure_valid(self) -> None:
        """Refuse configurations that would be unsafe or cannot work."""
        if self.env not in ENVIRONMENTS:
            raise ConfigError(
                f"YIMEN_ENV must be one of {', '.join(ENVIRONMENTS)}, got {self.env!r}"
            )
        try:
            key = base64.b64decode(self.pii_key, validate=True)
        except ValueError:
            raise ConfigError("YIMEN_PII_KEY must be base64") from None
        if len(key) != 32:
            raise ConfigError("YIMEN_PII_KEY must decode to 32 bytes")
        if self.wechat_mp_state not in ("formal", "trial", "developer"):
            raise ConfigError("YIMEN_WECHAT_MP_STATE must be formal, trial or developer")
        if self.workers < 1:
            raise ConfigError("YIMEN_WORKERS must be at least 1")
        if self.login_known_days < 1:
            raise ConfigError("YIMEN_LOGIN_KNOWN_DAYS must be at least 1")
        if not 1 <= self.decision_working_days <= self.decision_extended_working_days:
            raise ConfigError(
                "YIMEN_DECISION_WORKING_DAYS must be at least 1 and at most "
                "YIMEN_DECISION_EXTENDED_WORKING_DAYS"
            )
        if self.database_url.startswith("sqlite"):
            raise ConfigError(
                "不再支持 SQLite：YIMEN_DATABASE_URL 须指向 PostgreSQL"
                "（postgres://用户:密码@主机:5432/库名）；留空则 yimen 命令启动内置 PostgreSQL"
            )
        if self.database_url and not self.database_url.startswith(POSTGRES_SCHEMES):
            raise ConfigError(
                "YIMEN_DATABASE_URL 须以 postgres://、postgresql:// 或 asyncpg:// 开头"
            )
        if self.is_production:
            problems = []
            if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
                problems.append("YIMEN_SECRET_KEY is the development default or shorter than 32")
            if self.pii_key == DEFAULT_PII_KEY:
                problems.append("YIMEN_PII_KEY is the development default")
            if not self.database_url:
                problems.append("YIMEN_DATABASE_URL must point at PostgreSQL in production")
            if not self.redis_url:
                problems.append("YIMEN_REDIS_URL must be set in production")
            if not self.s3_endpoint:
                problems.append("YIMEN_S3_ENDPOINT must be set in production")
            public = urlsplit(self.s3_public_url)
            if public.scheme != "https" or not public.hostname or public.path.strip("/"):
                problems.append(
                    "YIMEN_S3_PUBLIC_URL must be the https address (no path) photo links use"
                )
            if not self.wechat_appid or not self.wechat_secret:
                problems.append(
                    "YIMEN_WECHAT_APPID and YIMEN_WECHAT_SECRET must be set in production"
                )
            if problems:
                raise ConfigError("refusing to start in production: " + "; ".join(problems))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (os.environ by default)."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str = "") -> str:
        return env.get(f"YIMEN_{name}", default)

    settings = Settings(
        env=get("ENV", "development"),
        host=get("HOST", "127.0.0.1"),
        port=_int("YIMEN_PORT", get("PORT", "8000")),
        workers=_int("YIMEN_WORKERS", get("WORKERS", "1")),
        data_dir=Path(get("DATA_DIR", "data")).resolve(),
        database_url=get("DATABASE_URL"),
        redis_url=get("REDIS_URL"),
        app_db_user=get("APP_DB_USER", "yimen_app"),
        app_db_password=get("APP_DB_PASSWORD"),
        s3_endpoint=get("S3_ENDPOINT"),
        s3_access_key=get("S3_ACCESS_KEY"),
        s3_secret_key=get("S3_SECRET_KEY"),
        s3_bucket=get("S3_BUCKET", "yimen"),
        s3_secure=_bool(get("S3_SECURE", "false")),
        s3_region=get("S3_REGION", "us-east-1"),
        s3_public_url=get("S3_PUBLIC_URL").strip().rstrip("/"),
        secret_key=get("SECRET_KEY", DEFAULT_SECRET_KEY),
        pii_key=get("PII_KEY", DEFAULT_PII_KEY),
        log_level=get("LOG_LEVEL", "INFO").upper(),
        log_json=_bool(get("LOG_JSON", "true")),
        access_token_ttl=_int("YIMEN_ACCESS_TOKEN_TTL", get("ACCESS_TOKEN_TTL", "7200")),
        refresh_token_ttl=_int("YIMEN_REFRESH_TOKEN_TTL", get("REFRESH_TOKEN_TTL", "2592000")),
        login_rate_limit=get("LOGIN_RATE_LIMIT", "10/minute"),
        login_user_rate_limit=get("LOGIN_USER_RATE_LIMIT", "30/hour"),
        login_backoff_base=_int("YIMEN_LOGIN_BACKOFF_BASE", get("LOGIN_BACKOFF_BASE", "60")),
        login_backoff_max=_int("YIMEN_LOGIN_BACKOFF_MAX", get("LOGIN_BACKOFF_MAX", "3600")),
        login_address_rate_limit=get("LOGIN_ADDRESS_RATE_LIMIT", "60/minute"),
        login_known_days=_int("YIMEN_LOGIN_KNOWN_DAYS", get("LOGIN_KNOWN_DAYS", "30")),
        proxies_count=_int("YIMEN_PROXIES_COUNT", get("PROXIES_COUNT", "0")),
        redis_prefix=get("REDIS_PREFIX", "yimen:"),
        ack_urgent_hours=_int("YIMEN_ACK_URGENT_HOURS", get("ACK_URGENT_HOURS", "24")),
        ack_working_days=_int("YIMEN_ACK_WORKING_DAYS", get("ACK_WORKING_DAYS", "3")),
        decision_working_days=_int(
            "YIMEN_DECISION_WORKING_DAYS", get("DECISION_WORKING_DAYS", "30")
        ),
        decision_extended_working_days=_int(
            "YIMEN_DECISION_EXTENDED_WORKING_DAYS", get("DECISION_EXTENDED_WORKING_DAYS", "45")
        ),
        holidays=get("HOLIDAYS"),
        makeup_workdays=get("MAKEUP_WORKDAYS"),
        nearest_window_m=float(_int("YIMEN_NEAREST_WINDOW_M", get("NEAREST_WINDOW_M", "3000"))),
        max_gps_accuracy_m=float(
            _int("YIMEN_MAX_GPS_ACCURACY_M", get("MAX_GPS_ACCURACY_M", "2000"))
        ),
        wechat_appid=get("WECHAT_APPID"),
        wechat_secret=get("WECHAT_SECRET"),
        wechat_api_base=get("WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/"),
        wechat_status_template=get("WECHAT_STATUS_TEMPLATE"),
        wechat_mp_state=get("WECHAT_MP_STATE", "formal"),
        help_rate_limit=get("HELP_RATE_LIMIT", "5/hour"),
        help_device_rate_limit=get("HELP_DEVICE_RATE_LIMIT", "10/hour"),
    )
    settings.ensure_valid()
    return settings
