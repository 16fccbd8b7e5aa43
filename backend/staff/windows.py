"""Windows (public read, township-head edit) and the county category matrix."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.accounts.authz import Principal, ensure_jurisdiction
from backend.accounts.models import Role
from backend.errors import ValidationFailed
from backend.geo import service as geo_service
from backend.geo.models import Division, Level
from backend.guard import protected
from backend.web.http import body, ok
from backend.windows import service
from backend.windows.catalog import DEPARTMENTS
from backend.windows.models import Window
from backend.windows.schemas import CategoryRouteIn, WindowIn, WindowOut

bp = Blueprint("windows", url_prefix="/api/v1")


def window_out(window: Window, township: Division) -> dict[str, object]:
    """A window as everyone sees it."""
    return WindowOut(
        township_code=window.township_code,
        township_name=township.name,
        name=window.name,
        address=window.address,
        opening_hours=window.opening_hours,
        phone=window.phone,
        complaint_phone=window.complaint_phone,
        policies=window.policies,
        duties=window.duties,
        version=window.version,
    ).model_dump()


async def _county(code: str) -> Division:
    division = await geo_service.ensure_division(code=code)
    if division.level != Level.COUNTY:
        raise ValidationFailed(f"{code} 不是县级区划代码")
    return division


@bp.get("/windows/<township_code:str>")
@openapi.summary("乡镇（街道）受理窗口信息（一明显三上墙）")
@openapi.response(200, {"application/json": WindowOut.model_json_schema()}, "窗口")
async def get_window(request: Request, township_code: str) -> HTTPResponse:
    """A township window's posted information (public)."""
    await geo_service.ensure_division(code=township_code)
    window, township = await service.get_window(township_code=township_code)
    return ok(window_out(window, township))


@bp.put("/windows/<township_code:str>")
@openapi.summary("修改受理窗口公示信息")
@openapi.secured("bearer")
@openapi.body({"application/json": WindowIn.model_json_schema()})
@protected(roles=[Role.TOWNSHIP_HEAD])
async def put_window(request: Request, township_code: str, principal: Principal) -> HTTPResponse:
    """The township head edits their window (version must match the one read)."""
    window_in = body(request, WindowIn)
    await geo_service.ensure_division(code=township_code)
    ensure_jurisdiction(principal, township_code)
    window, township = await service.update_window(
        township_code=township_code, window_in=window_in, actor=principal
    )
    return ok(window_out(window, township))


@bp.get("/counties/<county_code:str>/departments")
@openapi.summary("县级部门")
async def departments(request: Request, county_code: str) -> HTTPResponse:
    """A county's departments (public: names and phones are posted anyway)."""
    county = await _county(county_code)
    items = await service.list_departments(county_code=county.code)
    return ok(
        {
            "items": [
                {"kind": d.kind, "label": DEPARTMENTS[d.kind][0], "name": d.name, "phone": d.phone}
                for d in items
            ]
        }
    )


@bp.get("/counties/<county_code:str>/category-matrix")
@openapi.summary("救助类别与承办部门对照")
async def category_matrix(request: Request, county_code: str) -> HTTPResponse:
    """Which department handles each category in this county."""
    county = await _county(county_code)
    return ok({"items": await service.get_category_matrix(county_code=county.code)})


@bp.put("/counties/<county_code:str>/category-matrix/<category:str>")
@openapi.summary("修改某救助类别的承办部门")
@openapi.secured("bearer")
@openapi.body({"application/json": CategoryRouteIn.model_json_schema()})
@protected(roles=[Role.COUNTY_APPROVER])
async def put_category(
    request: Request, county_code: str, category: str, principal: Principal
) -> HTTPResponse:
    """A county approver points a category at another department."""
    route_in = body(request, CategoryRouteIn)
    county = await _county(county_code)
    ensure_jurisdiction(principal, county.code)
    items = await service.set_category_route(
        county_code=county.code,
        category=category,
        department=route_in.department,
        actor=principal,
    )
    return ok({"items": items})
