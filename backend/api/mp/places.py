"""What the mini-program shows before anything is sent: lists, my window, the division picker."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.api.mp.items import MAX_HELP_PHOTOS
from backend.api.mp.schemas import DivisionQuery, WindowQuery
from backend.cases.labels import category_label
from backend.cases.schemas import APPLICATION_CATEGORIES, RELATIONS
from backend.cases.service import MAX_DOCUMENTS
from backend.context import app_context
from backend.errors import NotFound, ValidationFailed
from backend.geo import service as geo_service
from backend.geo.coords import from_wgs84, to_wgs84
from backend.intake.catalog import HARDSHIP_TAGS
from backend.intake.routing import township_point
from backend.web.http import ok, query
from backend.windows.service import get_window_of_township
from storage.photos import MAX_BYTES

bp = Blueprint("mp_places", url_prefix="")


@bp.get("/config")
@openapi.summary("小程序需要的选项：困难类型、救助类别、关系、订阅模板")
async def config(request: Request) -> HTTPResponse:
    """The fixed lists and the status template id (public)."""
    settings = app_context(request).settings
    return ok(
        {
            "hardship_tags": [{"key": k, "label": v} for k, v in HARDSHIP_TAGS.items()],
            "categories": [{"key": k, "label": category_label(k)} for k in APPLICATION_CATEGORIES],
            "relations": [{"key": k, "label": v} for k, v in RELATIONS.items()],
            "subscribe_templates": {"status": settings.wechat_status_template or None},
            "max_photos": {"help": MAX_HELP_PHOTOS, "application": MAX_DOCUMENTS},
            "max_photo_mb": MAX_BYTES // (1024 * 1024),
            # The exact byte limit: a larger upload is answered 413 without being stored.
            "max_photo_bytes": MAX_BYTES,
        }
    )


@bp.get("/windows/mine")
@openapi.summary("找窗口：按定位或所选乡镇（街道）")
@openapi.parameter("lat", float)
@openapi.parameter("lng", float)
@openapi.parameter("coord_type", str)
@openapi.parameter("township_code", str)
async def my_window(request: Request) -> HTTPResponse:
    """The window of the township I am in (or chose), with a gcj02 point for wx.openLocation."""
    params = query(request, WindowQuery)
    code = params.township_code
    if code is None:
        if params.lat is None or params.lng is None:
            raise ValidationFailed(
                "请允许定位，或选择所在的乡镇（街道）",
                errors=[{"field": "township_code", "message": "请提供定位或乡镇（街道）"}],
            )
        routing = app_context(request).routing
        await routing.get_current()
        lng, lat = to_wgs84(params.lng, params.lat, params.coord_type)
        code = routing.index.locate(lng, lat)
        if code is None:
            raise NotFound("没有找到您所在位置的乡镇（街道），请手动选择", type_slug="no-township")
    township, window = await get_window_of_township(township_code=code, include_abolished=False)
    if township is None or window is None:
        raise NotFound("该乡镇（街道）还没有登记受理窗口", type_slug="no-window")
    if window.lng is not None and window.lat is not None:
        point: tuple[float, float] | None = (window.lng, window.lat)
    else:
        point = township_point(app_context(request).routing, code)
    location = None
    if point is not None:
        glng, glat = from_wgs84(point[0], point[1], "gcj02")
        location = {"lat": round(glat, 6), "lng": round(glng, 6), "coord_type": "gcj02"}
    return ok(
        {
            "township": {"code": township.code, "name": township.name},
            "name": window.name,
            "address": window.address,
            "opening_hours": window.opening_hours,
            "phone": window.phone,
            "complaint_phone": window.complaint_phone,
            "policies": window.policies,
            "duties": window.duties,
            "location": location,
            "location_exact": window.lng is not None,
        }
    )


@bp.get("/divisions")
@openapi.summary("区划选择：省 → 市 → 县 → 乡镇（街道）→ 村（社区）")
@openapi.parameter("parent", str)
async def divisions(request: Request) -> HTTPResponse:
    """One level of the picker."""
    params = query(request, DivisionQuery)
    if params.parent is None:
        items = await geo_service.list_roots()
    else:
        await geo_service.ensure_division(code=params.parent)
        items = await geo_service.list_children(code=params.parent)
    return ok({"items": [{"code": d.code, "name": d.name, "level": d.level.value} for d in items]})
