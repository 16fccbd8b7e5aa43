"""Tortoise ORM configuration and lifecycle."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, connections

from backend.config import ConfigError, Settings, load_settings

POOL_SIZE = 20
MODEL_MODULES = [
    "backend.accounts.models",
    "backend.geo.models",
    "backend.windows.models",
    "backend.integrity.models",
    "backend.intake.models",
    "backend.cases.models",
    "backend.notify.models",
]


def _normalise_url(url: str) -> str:
    # Tortoise names the asyncpg backend "asyncpg://"; operators write "postgres(ql)://".
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "asyncpg://" + url[len(prefix) :]
    if url.startswith("asyncpg://") and "maxsize=" not in url:
        # Tortoise's default pool of 5 queues requests long before PostgreSQL is busy.
        url += ("&" if "?" in url else "?") + f"maxsize={POOL_SIZE}"
    return url


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The Tortoise config dict for these settings (one app, committed migrations)."""
    if not settings.database_url:
        raise ConfigError("未配置 YIMEN_DATABASE_URL（开发环境的 yimen 命令会启动内置 PostgreSQL）")
    url = _normalise_url(settings.database_url)
    return {
        "connections": {"default": url},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "backend.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    # `tortoise makemigrations` reads backend.db.TORTOISE_ORM; build it from the environment then.
    if name == "TORTOISE_ORM":
        return tortoise_config(load_settings())
    raise AttributeError(name)


async def init_db(settings: Settings) -> None:
    """Open connections for this process (the global context, shared by all request tasks)."""
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_db() -> None:
    """Close this process's connections."""
    await Tortoise.close_connections()


async def migrate(settings: Settings) -> None:
    """Apply the committed migrations."""
    from tortoise.migrations.api import migrate as run_migrations

    try:
        await run_migrations(config=tortoise_config(settings))
    finally:
        # A failed migration must not leave the pool open behind the process.
        await Tortoise.close_connections()


async def ping_db() -> None:
    """Raise when the database does not answer."""
    await connections.get("default").execute_query("SELECT 1")
