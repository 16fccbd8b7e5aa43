"""Home visits a window asked the reporting grid worker to make (入户走访)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.accounts.authz import Principal
from backend.accounts.models import UserKind
from backend.guard import protected
from backend.intake import triage
from backend.intake.policy import LeadAction, allowed_actions
from backend.web.http import body, ok, path_uuid
from mobile_api.reports import lead_out

bp = Blueprint("mobile_visits", url_prefix="/visits")


class VisitIn(BaseModel):
    """The result of a home visit; `version` is the report's version the phone last saw."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: int = Field(ge=1)
    result: str = Field(min_length=1, max_length=2000)


@bp.get("/")
@openapi.summary("待我入户走访的报告")
@openapi.secured("bearer")
@protected(kinds=[UserKind.GRID_WORKER])
async def list_visits(request: Request, principal: Principal) -> HTTPResponse:
    """Reports of mine whose window asked for a home visit not yet recorded."""
    leads = await triage.list_visit_requests(principal=principal)
    items = []
    # Only the visits the policy lets this worker record now (the service refuses the rest).
    for lead in (x for x in leads if LeadAction.RECORD_VISIT in allowed_actions(principal, x)):
        item = await lead_out(request, lead)
        item["version"] = lead.version
        item["visit_note"] = lead.home_visit_note
        items.append(item)
    return ok({"items": items})


@bp.post("/<lead_id:str>")
@openapi.summary("提交入户走访结果")
@openapi.secured("bearer")
@openapi.body({"application/json": VisitIn.model_json_schema()})
@protected(kinds=[UserKind.GRID_WORKER])
async def record_visit(request: Request, lead_id: str, principal: Principal) -> HTTPResponse:
    """Record what the visit found; the window sees it on the lead's timeline."""
    visit_in = body(request, VisitIn)
    lead = await triage.record_visit(
        principal=principal,
        lead_id=path_uuid(lead_id, "报告编号"),
        expected_version=visit_in.version,
        result=visit_in.result,
    )
    return ok(await lead_out(request, lead) | {"version": lead.version})
