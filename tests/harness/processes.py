"""Environment for the app's own processes (yimen worker, yimen serve) started by tests."""

from __future__ import annotations

import os

from backend.config import Settings


def yimen_env(settings: Settings) -> dict[str, str]:
    """os.environ without YIMEN_*, plus the YIMEN_* that reproduce these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIMEN_")}
    return env | {
        "YIMEN_ENV": "test",
        "YIMEN_DATABASE_URL": settings.database_url,
        "YIMEN_REDIS_URL": settings.redis_url,
        "YIMEN_REDIS_PREFIX": settings.redis_prefix,
        "YIMEN_S3_ENDPOINT": settings.s3_endpoint,
        "YIMEN_S3_ACCESS_KEY": settings.s3_access_key,
        "YIMEN_S3_SECRET_KEY": settings.s3_secret_key,
        "YIMEN_S3_BUCKET": settings.s3_bucket,
        "YIMEN_DATA_DIR": str(settings.data_dir),
    }
