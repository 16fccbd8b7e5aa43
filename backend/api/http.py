"""HTTP plumbing shared by every face: problem responses, bodies, the caller, request ids."""

from __future__ import annotations

import base64
import contextlib
import functools
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from limits import parse as parse_limit
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import BaseModel
from redis.exceptions import LockError
from sanic import Request
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse, json

from backend.accounts.authz import Principal, ensure_kind, ensure_role
from backend.accounts.models import Role, UserKind
from backend.accounts.service import load_principal
from backend.errors import (
    PROBLEM_CONTENT_TYPE,
    BadRequest,
    Conflict,
    Problem,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from backend.logs import get_logger
from backend.metrics import REQUEST_LATENCY, REQUESTS
from backend.request_context import set_request_id
from backend.validation import MAX_JSON_BYTES, parse_json_body, parse_model
from storage.photos import MAX_BYTES, PhotoRejected, UploadInfo, validate_upload

log = get_logger("yimen.http")
M = TypeVar("M", bound=BaseModel)
Handler = Callable[..., Awaitable[HTTPResponse]]
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_STATUS_TITLES = {
    400: ("bad-request", "请求有误", "请求无法处理，请检查后重试"),
    401: ("unauthorized", "请先登录", "请先登录"),
    403: ("forbidden", "没有权限", "您没有进行此操作的权限"),
    404: ("not-found", "找不到", "找不到该地址"),
    405: ("method-not-allowed", "不支持该操作", "该地址不支持此请求方法"),
    408: ("request-timeout", "请求超时", "请求超时，请检查网络后重试"),
    413: ("payload-too-large", "内容太大", "提交的内容太大"),
    415: ("unsupported-media-type", "不支持的内容类型", "不支持该内容类型"),
    429: ("too-many-requests", "操作太频繁", "操作太频繁，请稍后再试"),
    503: ("service-unavailable", "服务暂时不可用", "服务暂时不可用，请稍后再试"),
}


# Body limits. Up to DRAIN_LIMIT, a body over its route's limit is answered 413 problem+json
# before it is read, and Sanic then reads and drops the rest, so a client that sends the whole
# body before it reads (urllib, wx.uploadFile) still gets the answer. Past DRAIN_LIMIT Sanic
# answers 413 and closes the connection at once: no reason to read 64 MB of someone's bytes.
DRAIN_LIMIT = 64 * 1024 * 1024
# One photo and its multipart envelope (field names, boundary, client_photo_id).
UPLOAD_BODY_LIMIT = MAX_BYTES + 64 * 1024
BODY_LIMIT = MAX_JSON_BYTES


def body_limit(path: str) -> int:
    """The most bytes a request to this route path may send (photo uploads, else JSON)."""
    return UPLOAD_BODY_LIMIT if "/photos" in path else BODY_LIMIT


async def refuse_oversized_body(request: Request, **_: Any) -> None:
    """413 from the Content-Length alone, before the body is read (http.routing.after)."""
    path = request.route.path if request.route else request.path
    limit = body_limit("/" + path.lstrip("/"))
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        # Chunked (no length to judge by): Sanic stops reading once the route's limit is
        # passed (413, then the connection closes), so no one can make us buffer 64 MB.
        if request.stream is not None:
            request.stream.request_max_size = limit
        return
    if int(declared) <= limit:
        return
    if limit == UPLOAD_BODY_LIMIT:
        raise BadRequest(
            f"照片太大：每张不超过 {MAX_BYTES // (1024 * 1024)} MB，请压缩或换一张后重试",
            status=413,
            type_slug="photo-too-large",
            title="照片无法接收",
        )
    raise BadRequest(
        f"提交的内容太大（不超过 {BODY_LIMIT // 1024} KB）",
        status=413,
        type_slug="payload-too-large",
        title="内容太大",
    )


def problem_response(problem: Problem, request: Request | None = None) -> HTTPResponse:
    """Render a Problem as application/problem+json."""
    body = problem.to_dict(instance=request.path if request else None)
    if request is not None and getattr(request.ctx, "request_id", None):
        body["request_id"] = request.ctx.request_id
    headers = dict(problem.headers)
    return json(
        body,
        status=problem.status,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
        ensure_ascii=False,
    )


class ProblemErrorHandler(ErrorHandler):
    """Every error, ours or Sanic's, leaves as problem+json with a Chinese message."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        """Render the exception."""
        if isinstance(exception, Problem):
            return problem_response(exception, request)
        if isinstance(exception, SanicException):
            status = int(getattr(exception, "status_code", 500) or 500)
            slug, title, detail = _STATUS_TITLES.get(status, ("error", "请求失败", "请求失败"))
            headers = dict(getattr(exception, "headers", {}) or {})
            return problem_response(
                Problem(detail, status=status, type_slug=slug, title=title, headers=headers),
                request,
            )
        log.exception("unhandled error", exc_info=exception)
        return problem_response(
            Problem(
                "服务器出了点问题，已记录，请稍后再试",
                status=500,
                type_slug="internal-error",
                title="服务器内部错误",
            ),
            request,
        )


async def start_request(request: Request) -> None:
    """Middleware: assign a request id (or keep a sane one the client sent)."""
    incoming = request.headers.get("x-request-id", "")
    request.ctx.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
    request.ctx.started = time.perf_counter()
    request.ctx.token = set_request_id(request.ctx.request_id)


async def finish_request(request: Request, response: HTTPResponse) -> None:
    """Middleware: request id header, one access-log line (no query string, no body), metrics."""
    elapsed = time.perf_counter() - getattr(request.ctx, "started", time.perf_counter())
    response.headers["X-Request-ID"] = getattr(request.ctx, "request_id", "")
    route = request.route.path if request.route else "<unmatched>"
    REQUESTS.labels(method=request.method, route=route, status=str(response.status)).inc()
    REQUEST_LATENCY.labels(method=request.method, route=route).observe(elapsed)
    if route not in ("metrics", "healthz"):
        log.info(
            "request",
            request_id=request.ctx.request_id,
            method=request.method,
            path=request.path,
            route=route,
            status=response.status,
            ms=round(elapsed * 1000, 1),
        )


def client_ip(request: Request) -> str:
    """The caller's address (behind nginx, from X-Forwarded-For as PROXIES_COUNT allows)."""
    return request.remote_addr or request.ip or "unknown"


def body(request: Request, model: type[M]) -> M:
    """The JSON body validated against a model."""
    return parse_json_body(model, request.body, request.content_type)


def query(request: Request, model: type[M]) -> M:
    """The query string validated against a model (unknown parameters are refused)."""
    data: dict[str, Any] = {}
    for key, values in request.args.items():
        data[key] = values[0] if len(values) == 1 else values
    return parse_model(model, data)


async def authenticate(request: Request) -> Principal:
    """The caller from the Bearer token; 401 for a missing, forged, expired or revoked one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("请先登录（缺少 Authorization: Bearer 令牌）", type_slug="missing-token")
    claims = await request.app.ctx.tokens.verify_access(token.strip())
    return await load_principal(
        user_id=claims.user_id, token_id=claims.token_id, family=claims.family
    )


def protected(
    *, kinds: Iterable[UserKind] | None = None, roles: Iterable[Role] | None = None
) -> Callable[[Handler], Handler]:
    """Require a signed-in caller of these kinds/roles; the handler gets `principal`."""
    kind_set = tuple(kinds) if kinds else None
    role_set = tuple(roles) if roles else None

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            principal = await authenticate(request)
            if kind_set:
                ensure_kind(principal, *kind_set)
            if role_set:
                ensure_role(principal, role_set)
            request.ctx.principal = principal
            return await handler(request, *args, principal=principal, **kwargs)

        return wrapper

    return decorate


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    """A JSON response (UTF-8, Chinese unescaped)."""
    return json(data, status=status, headers=headers, ensure_ascii=False)


def accept_photo(data: bytes) -> UploadInfo:
    """Sniff and check an uploaded photo; 413 or 422 with the reason when it is refused."""
    try:
        return validate_upload(data)
    except PhotoRejected as exc:
        status = 413 if exc.code == "too-large" else 422
        raise BadRequest(
            exc.message, status=status, type_slug=f"photo-{exc.code}", title="照片无法接收"
        ) from None


def multipart_photo(request: Request) -> tuple[uuid.UUID, bytes]:
    """The one file and client_photo_id of a wx.uploadFile-style multipart upload."""
    if "multipart/form-data" not in (request.content_type or ""):
        raise BadRequest(
            "照片应以 multipart/form-data 上传（文件字段 file，另附 client_photo_id）",
            status=415,
            type_slug="unsupported-media-type",
            title="不支持的内容类型",
        )
    files = request.files.getlist("file") if request.files else []
    if len(files) != 1:
        raise ValidationFailed(
            "请在 file 字段中上传一张照片",
            errors=[{"field": "file", "message": "应为一个文件"}],
        )
    raw_id = request.form.get("client_photo_id", "") if request.form else ""
    try:
        client_photo_id = uuid.UUID(raw_id)
    except ValueError:
        raise ValidationFailed(
            "client_photo_id 格式不正确（应为 UUID）",
            errors=[{"field": "client_photo_id", "message": "应为 UUID"}],
        ) from None
    return client_photo_id, files[0].body or b""


async def ensure_rate(
    request: Request, *, limit: str, key: tuple[str, str], message: str, count: bool = True
) -> None:
    """429 with Retry-After once a limit (limits on Redis) is used up; count this request too.

    count=False only looks, so a caller can refuse early and count once the request is
    accepted (a refused request should not use up a person's quota).
    """
    item = parse_limit(limit)
    limiter = MovingWindowRateLimiter(request.app.ctx.limiter_storage)
    allowed = await limiter.hit(item, *key) if count else await limiter.test(item, *key)
    if not allowed:
        stats = await limiter.get_window_stats(item, *key)
        raise TooManyRequests(
            message, headers={"Retry-After": str(max(1, int(stats.reset_time - time.time())))}
        )


# A first send holds its lock through WeChat's text check (10 s at most) and the insert; a
# retry of it waits that long for the answer before it is told to try again.
FIRST_SEND_LOCK_S = 30
FIRST_SEND_WAIT_S = 30


@contextlib.asynccontextmanager
async def first_send(
    request: Request, *, kind: str, owner: uuid.UUID, client_id: uuid.UUID
) -> AsyncIterator[None]:
    """Serialise the sends of one item (one person's client_id) across workers.

    Inside, a retry finds the item its first send wrote and answers it as a replay, so only the
    first send looks at (and counts against) the rate limits.
    """
    settings = request.app.ctx.settings
    lock = request.app.ctx.redis.lock(
        f"{settings.redis_prefix}first-send:{kind}:{owner}:{client_id}",
        timeout=FIRST_SEND_LOCK_S,
        blocking_timeout=FIRST_SEND_WAIT_S,
        sleep=0.05,
    )
    if not await lock.acquire():
        raise Conflict(
            "上一次提交仍在处理中，请稍后再试",
            type_slug="still-processing",
            headers={"Retry-After": "5"},
        )
    try:
        yield
    finally:
        with contextlib.suppress(LockError):
            await lock.release()


def path_uuid(value: str, what: str) -> uuid.UUID:
    """A UUID from the path; 400 naming what it should have been."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadRequest(f"{what}格式不正确（应为 UUID）", type_slug="invalid-id") from None


def encode_cursor(at: datetime, item_id: uuid.UUID) -> str:
    """The keyset cursor (created_at, id) of the last row of a page."""
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{item_id}".encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """What encode_cursor made; 422 for anything else."""
    if not cursor:
        return None
    try:
        at, _, item_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), uuid.UUID(item_id)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("cursor 无效，请从第一页重新加载") from None


def original_putter(request: Request) -> Callable[[str, bytes, str], Awaitable[None]]:
    """How a service stores an upload's private original in this app's object store."""
    store = request.app.ctx.store

    async def put_original(key: str, payload: bytes, mime: str) -> None:
        await store.put(key, payload, content_type=mime)

    return put_original
