"""Division look-ups: /api/v1/divisions (public: the mini-program's picker uses them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.errors import ValidationFailed
from backend.geo import service
from backend.geo.models import Division
from backend.web.http import ok, query

bp = Blueprint("geo", url_prefix="/api/v1/divisions")


class SearchQuery(BaseModel):
    """Search by name within a county."""

    model_config = ConfigDict(extra="forbid")

    county: str = Field(pattern=r"^\d{6}$")
    q: str = Field(min_length=1, max_length=32)
    limit: int = Field(default=20, ge=1, le=100)


def division_out(d: Division) -> dict[str, object]:
    """A division as the API shows it."""
    return {
        "code": d.code,
        "name": d.name,
        "level": d.level.value,
        "kind": d.kind,
        "parent_code": d.parent_code,
        "abolished": d.abolished,
        "version": d.version,
    }


@bp.get("/")
@openapi.summary("省级区划列表")
async def roots(request: Request) -> HTTPResponse:
    """The provinces."""
    return ok({"items": [division_out(d) for d in await service.list_roots()]})


@bp.get("/search")
@openapi.summary("在县内按名称搜索乡镇、村（社区）")
@openapi.parameter("county", str, required=True)
@openapi.parameter("q", str, required=True)
async def search(request: Request) -> HTTPResponse:
    """Townships and villages of a county by name."""
    params = query(request, SearchQuery)
    await service.ensure_division(code=params.county)
    found = await service.search_divisions(
        county_code=params.county, query=params.q, limit=params.limit
    )
    return ok({"items": [division_out(d) for d in found]})


@bp.get("/<code:str>")
@openapi.summary("按代码查询区划")
async def get_one(request: Request, code: str) -> HTTPResponse:
    """One division (abolished ones too, marked as such)."""
    division = await service.ensure_division(code=code, allow_abolished=True)
    return ok(division_out(division))


@bp.get("/<code:str>/children")
@openapi.summary("下级区划")
async def children(request: Request, code: str) -> HTTPResponse:
    """The divisions directly under a code."""
    division = await service.ensure_division(code=code, allow_abolished=True)
    if len(division.code) == 12:
        raise ValidationFailed("村（社区）没有下级区划")
    items = await service.list_children(code=division.code)
    return ok({"parent": division_out(division), "items": [division_out(d) for d in items]})
