"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw, redirect
from sanic_ext import openapi

from backend.context import app_context
from backend.db import ping_db
from backend.errors import ServiceUnavailable
from backend.logs import get_logger
from backend.metrics import render_metrics
from backend.web.http import ok

bp = Blueprint("health")
log = get_logger("yimen.health")
_CHECK_TIMEOUT = 3.0


@bp.get("/")
@openapi.exclude()
async def root(request: Request) -> HTTPResponse:
    """People who open the bare address want the console."""
    return redirect("/console/")


@bp.get("/healthz")
@openapi.summary("存活检查")
async def healthz(request: Request) -> HTTPResponse:
    """The process is up."""
    return ok({"status": "ok"})


async def _check(name: str, probe: object) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(probe, timeout=_CHECK_TIMEOUT)  # type: ignore[arg-type]
    except TimeoutError:
        return name, "超时"
    except Exception as exc:
        log.warning("readiness check failed", check=name, error=type(exc).__name__)
        return name, f"{type(exc).__name__}"
    return name, None


@bp.get("/readyz")
@openapi.summary("就绪检查：数据库、Redis、对象存储")
async def readyz(request: Request) -> HTTPResponse:
    """200 when database, Redis and storage all answer; else 503 naming what failed."""
    ctx = app_context(request)
    results = await asyncio.gather(
        _check("database", ping_db()),
        _check("redis", ctx.redis.ping()),
        _check("storage", ctx.store.check()),
    )
    checks = {name: ("ok" if error is None else f"失败：{error}") for name, error in results}
    failed = [name for name, error in results if error is not None]
    if failed:
        names = {"database": "数据库", "redis": "Redis", "storage": "对象存储"}
        raise ServiceUnavailable(
            "以下依赖不可用：" + "、".join(names[n] for n in failed), checks=checks, failed=failed
        )
    return ok({"status": "ok", "checks": checks})


@bp.get("/metrics")
@openapi.exclude()
async def metrics(request: Request) -> HTTPResponse:
    """Prometheus exposition."""
    payload, content_type = render_metrics()
    return raw(payload, content_type=content_type)
