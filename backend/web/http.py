"""The request's life and its parts: request ids, body limits, bodies, queries, ids, cursors."""

from __future__ import annotations

import base64
import re
import time
import uuid
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sanic import Request
from sanic.response import HTTPResponse, json

from backend.errors import BadRequest, ValidationFailed
from backend.logs import get_logger
from backend.metrics import REQUEST_LATENCY, REQUESTS
from backend.request_context import set_request_id
from backend.validation import MAX_JSON_BYTES, parse_json_body, parse_model
from storage.photos import MAX_BYTES

log = get_logger("yimen.http")
M = TypeVar("M", bound=BaseModel)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

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


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    """A JSON response (UTF-8, Chinese unescaped)."""
    return json(data, status=status, headers=headers, ensure_ascii=False)


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
