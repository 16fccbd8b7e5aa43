"""Rendering for the console: the Jinja2 environment, display helpers and the township map."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sanic import Request
from sanic.response import HTTPResponse, html
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from backend.accounts.models import Role
from backend.context import app_context
from backend.errors import Problem
from backend.web.problems import problem_response

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SHANGHAI = ZoneInfo("Asia/Shanghai")

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    # Everything a template prints is escaped: a lead's description is text, never markup.
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as a clerk in China reads it."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI).strftime(fmt)


def time_left(due: datetime | None, now: datetime | None = None) -> str:
    """How long until a deadline, or how long past it, in words."""
    if due is None:
        return ""
    now = now or datetime.now(UTC)
    seconds = (due - now).total_seconds()
    hours = abs(seconds) / 3600
    if hours < 1:
        amount = f"{max(1, math.ceil(abs(seconds) / 60))} 分钟"
    elif hours < 48:
        amount = f"{math.floor(hours)} 小时"
    else:
        amount = f"{math.floor(hours / 24)} 天"
    return f"剩余 {amount}" if seconds >= 0 else f"已超期 {amount}"


def distance(metres: float | None) -> str:
    """Metres, or kilometres past one."""
    if metres is None:
        return ""
    return f"{metres:.0f} 米" if metres < 1000 else f"{metres / 1000:.1f} 公里"


def minutes(value: float | None) -> str:
    """A number of minutes, in hours or days when large."""
    if value is None:
        return ""
    m = abs(value)
    if m < 90:
        return f"{m:.0f} 分钟"
    if m < 48 * 60:
        return f"{m / 60:.1f} 小时"
    return f"{m / 1440:.1f} 天"


env.filters["local_time"] = local_time
env.filters["time_left"] = time_left
env.filters["distance"] = distance
env.filters["minutes"] = minutes


def wants_problem(request: Request) -> bool:
    """Whether the caller is htmx or a JSON client, who read problem+json, not a page."""
    if request.headers.get("hx-request", "").lower() == "true":
        return True
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


def security_headers(request: Request, response: HTTPResponse) -> HTTPResponse:
    """Headers every console page carries: no caching of personal data, no framing, no inline JS."""
    settings = app_context(request).settings
    images = "'self' data:"
    if settings.s3_endpoint:
        # Photos come straight from the object store through presigned links.
        scheme = "https" if settings.s3_secure else "http"
        images += f" {scheme}://{settings.s3_endpoint}"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # Presigned links are credentials for a few minutes: keep them out of Referer headers.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTTPResponse:
    """A page (or fragment) from a template, with the signed-in user and their CSRF token."""
    principal = getattr(request.ctx, "principal", None)
    context.setdefault("principal", principal)
    context.setdefault(
        "can_edit_window",
        principal is not None and principal.role in (Role.TOWNSHIP_HEAD, Role.ADMIN),
    )
    session = getattr(request.ctx, "console_session", None)
    context.setdefault("csrf_token", session.csrf if session else "")
    context.setdefault("path", request.path)
    context.setdefault("error", None)
    context.setdefault("notice", None)
    body = env.get_template(template).render(**context)
    return security_headers(request, html(body, status=status))


def problem_page(request: Request, problem: Problem, **context: Any) -> HTTPResponse:
    """An error as a page with its Chinese message (problem+json for htmx and JSON callers)."""
    if wants_problem(request):
        return security_headers(request, problem_response(problem, request))
    response = render(
        request, "error.html", status=problem.status, problem=problem, error=None, **context
    )
    for name, value in problem.headers.items():
        if name.lower() == "retry-after":
            response.headers[name] = value
    return response


@dataclass(frozen=True)
class MapSvg:
    """A township outline and a point, projected into an SVG box."""

    width: int
    height: int
    path: str
    point: tuple[float, float] | None
    point_inside: bool


def township_map(
    geometry: BaseGeometry | None,
    point: tuple[float, float] | None,
    *,
    width: int = 360,
    height: int = 280,
    pad: float = 12.0,
) -> MapSvg | None:
    """The township's own polygon (WGS-84) and the lead's point (lng, lat), drawn to fit the box."""
    if geometry is None or geometry.is_empty:
        return None
    minx, miny, maxx, maxy = geometry.bounds
    if point is not None and all(math.isfinite(v) for v in point):
        minx, maxx = min(minx, point[0]), max(maxx, point[0])
        miny, maxy = min(miny, point[1]), max(maxy, point[1])
    # Equirectangular at the township's latitude: at this scale the shape is true to the eye.
    squeeze = math.cos(math.radians((miny + maxy) / 2))
    span_x = max((maxx - minx) * squeeze, 1e-9)
    span_y = max(maxy - miny, 1e-9)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    off_x = (width - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2

    def project(lng: float, lat: float) -> tuple[float, float]:
        return (
            round(off_x + (lng - minx) * squeeze * scale, 1),
            round(off_y + (maxy - lat) * scale, 1),
        )

    # About half a pixel of detail: the whole border in a few kilobytes.
    simple = geometry.simplify(max(maxx - minx, maxy - miny) / 600, preserve_topology=True)
    polygons: list[Polygon]
    if isinstance(simple, Polygon):
        polygons = [simple]
    elif isinstance(simple, MultiPolygon):
        polygons = list(simple.geoms)
    else:
        polygons = [g for g in getattr(simple, "geoms", []) if isinstance(g, Polygon)]
    parts = []
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            coords = [project(x, y) for x, y, *_ in ring.coords]
            if len(coords) < 3:
                continue
            head, *rest = coords
            parts.append(f"M{head[0]},{head[1]}" + "".join(f"L{x},{y}" for x, y in rest[:-1]) + "Z")
    projected = None
    inside = False
    if point is not None and all(math.isfinite(v) for v in point):
        projected = project(point[0], point[1])
        inside = bool(geometry.intersects(Point(point[0], point[1])))
    return MapSvg(width, height, "".join(parts), projected, inside)
