"""The Sanic application factory: settings in, a configured app with its resources out.

A composition root: it wires the faces to the domain's services and the ground's resources.
`create_app` is three steps: configuration (Sanic's own settings and the OpenAPI document),
resources (opened per worker in before_server_start), and routes (every face's blueprints).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from limits.aio.storage import RedisStorage
from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse
from taskiq import AsyncBroker

from backend import kicks
from backend.accounts.service import LoginLimits, LoginService
from backend.accounts.tokens import TokenStore
from backend.cases.service import DecisionClock
from backend.config import Settings, load_settings
from backend.context import AppContext
from backend.crypto import PiiCipher
from backend.db import close_db, init_db
from backend.geo.routing import process_index
from backend.intake.routing import route_for_lead
from backend.intake.service import IntakePolicy, Routed
from backend.jobs.broker import make_broker
from backend.jobs.tasks import process_photo_task, send_notice_task
from backend.logs import configure_logging, get_logger
from backend.notify.service import fresh_notices
from backend.redis_conn import connect_redis, redis_pool
from backend.web.http import DRAIN_LIMIT, finish_request, refuse_oversized_body, start_request
from backend.web.problems import ProblemErrorHandler
from backend.wechat import create_wechat
from backend.workdays import WorkCalendar
from storage import StorageError, build_store

log = get_logger("yimen.app")
App = Sanic[Any, AppContext]


class TaskKicker:
    """The services' after-commit kicks (backend.kicks), sent through the app's task broker.

    A failure is the caller's to log (backend.kicks does): the worker's sweep catches up.
    """

    def __init__(self, broker: AsyncBroker) -> None:
        self.broker = broker

    async def photo(self, photo_id: uuid.UUID) -> None:
        """Queue a stored photo's processing."""
        await process_photo_task.kicker().with_broker(self.broker).kiq(str(photo_id))

    async def notices(self) -> None:
        """Queue the status messages just written (those of a commit a moment ago)."""
        for notice_id in await fresh_notices():
            await send_notice_task.kicker().with_broker(self.broker).kiq(str(notice_id))


async def _use_kicker(request: Request) -> None:
    """Kicks of this request's services go through its app's broker (none before start-up)."""
    kicker = getattr(request.app.ctx, "kicker", None)
    request.ctx.kicker_token = kicks.use_kicker(kicker)


async def _reset_kicker(request: Request, _response: BaseHTTPResponse) -> None:
    token = getattr(request.ctx, "kicker_token", None)
    if token is not None:
        request.ctx.kicker_token = None
        with contextlib.suppress(ValueError):  # set in another context: nothing to undo here
            kicks.reset_kicker(token)


def _limits_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url[len("unix://") :]
    return "async+" + redis_url


def create_app(settings: Settings | None = None, *, name: str = "yimen") -> App:
    """Build the app; connections open in before_server_start, in each worker."""
    settings = settings or load_settings()
    settings.ensure_valid()
    if not settings.redis_url:
        raise RuntimeError("YIMEN_REDIS_URL is empty: `yimen serve` starts an embedded Redis")
    configure_logging(level=settings.log_level, json=settings.log_json)
    calendar = WorkCalendar.parse(settings.holidays, settings.makeup_workdays)
    context = AppContext(
        settings=settings,
        cipher=PiiCipher(settings.pii_key_bytes),
        store=build_store(settings),
        intake_policy=IntakePolicy(
            calendar=calendar,
            urgent_hours=settings.ack_urgent_hours,
            working_days=settings.ack_working_days,
        ),
        decision_clock=DecisionClock(
            calendar=calendar,
            working_days=settings.decision_working_days,
            extended_working_days=settings.decision_extended_working_days,
        ),
    )
    app: App = Sanic(
        name, ctx=context, error_handler=ProblemErrorHandler(), configure_logging=False
    )
    _configure(app, settings)
    _add_resources(app, settings)
    _add_routes(app)
    return app


def _configure(app: App, settings: Settings) -> None:
    """Sanic's settings, the request middleware and the OpenAPI document's header."""
    app.config.update(
        {
            "PROXIES_COUNT": settings.proxies_count,
            "REQUEST_MAX_SIZE": DRAIN_LIMIT,
            "FALLBACK_ERROR_FORMAT": "json",
            "ACCESS_LOG": False,
            "MOTD": False,
            "OAS_UI_DEFAULT": "swagger",
            "OAS_URL_PREFIX": "/docs",
            "OAS_UI_REDOC": False,
            "CORS": False,
        }
    )
    app.ext.openapi.describe(
        "Yimen 一门通 API",
        version="0.1.0",
        description="乡镇（街道）社会救助一门受理：网格员上报、居民求助申请、窗口分拣与转办。"
        "所有错误以 RFC 9457 application/problem+json 返回，title/detail 为中文。",
    )
    app.ext.openapi.add_security_scheme("bearer", "http", scheme="bearer")
    # First: every service a request calls kicks its tasks through this app's broker.
    app.register_middleware(_use_kicker, "request")
    app.register_middleware(_reset_kicker, "response")
    app.register_middleware(start_request, "request")
    app.register_middleware(finish_request, "response")  # type: ignore[arg-type]
    # After routing, before Sanic reads the body: an oversized one is refused unread.
    app.add_signal(refuse_oversized_body, "http.routing.after")


def _add_routes(app: App) -> None:
    """Every face's blueprints (imported here: a face is loaded only into an app)."""
    from backend.api.mp import group as mp_group
    from backend.console import group as console_group  # pages, /console/static and /files
    from backend.staff import group as staff_group
    from mobile_api import group as mobile_group

    for group in (staff_group, mobile_group, mp_group, console_group):
        app.blueprint(group)


def _add_resources(app: App, settings: Settings) -> None:
    """Open the connections and services in each worker; close them when it stops."""

    @app.before_server_start
    async def open_resources(app: App, _loop: Any = None) -> None:
        ctx = app.ctx
        await init_db(settings)
        try:
            await ctx.store.create_bucket_if_missing()
        except StorageError as exc:
            # Start anyway: /readyz reports storage as failed until it answers.
            log.warning("object storage not ready at start-up", error=str(exc))
        ctx.redis = connect_redis(settings.redis_url)
        ctx.tokens = TokenStore(
            ctx.redis,
            secret=settings.secret_key,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            prefix=settings.redis_prefix,
        )
        ctx.limiter_storage = RedisStorage(
            _limits_uri(settings.redis_url),
            implementation="redispy",
            key_prefix=settings.redis_prefix + "limits",
            connection_pool=redis_pool(settings.redis_url),  # type: ignore[arg-type]
        )
        ctx.broker = make_broker(settings)
        await ctx.broker.startup()
        ctx.routing = process_index()
        await ctx.routing.get_current()
        ctx.kicker = TaskKicker(ctx.broker)

        async def route_lead(**kwargs: Any) -> Routed:
            await ctx.routing.get_current()
            return await route_for_lead(index=ctx.routing, settings=settings, **kwargs)

        ctx.route_lead = route_lead
        ctx.wechat = create_wechat(settings)
        ctx.login = LoginService(
            tokens=ctx.tokens,
            limiter_storage=ctx.limiter_storage,
            redis=ctx.redis,
            prefix=settings.redis_prefix,
            limits=LoginLimits(
                per_name_and_address=settings.login_rate_limit,
                per_name=settings.login_user_rate_limit,
                backoff_base=settings.login_backoff_base,
                backoff_max=settings.login_backoff_max,
                per_address=settings.login_address_rate_limit,
                known_days=settings.login_known_days,
            ),
            secret_key=settings.secret_key,
        )

    @app.after_server_stop
    async def close_resources(app: App, _loop: Any = None) -> None:
        await app.ctx.broker.shutdown()
        app.ctx.wechat.close()
        await app.ctx.redis.aclose()
        await close_db()
