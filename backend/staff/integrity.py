"""The audit trail, read by supervisors within their jurisdiction."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.accounts.authz import Principal
from backend.accounts.models import Role
from backend.guard import protected
from backend.integrity.service import list_events
from backend.web.http import ok, query

bp = Blueprint("integrity", url_prefix="/api/v1")


class AuditQuery(BaseModel):
    """Filters for the audit list."""

    model_config = ConfigDict(extra="forbid")

    entity: str | None = Field(default=None, max_length=32)
    entity_id: str | None = Field(default=None, max_length=64)
    before: int | None = Field(default=None, ge=1)
    limit: int = Field(default=50, ge=1, le=200)


@bp.get("/audit")
@openapi.summary("审计记录（本管辖范围）")
@openapi.secured("bearer")
@protected(roles=[Role.SUPERVISOR, Role.COUNTY_APPROVER])
async def audit(request: Request, principal: Principal) -> HTTPResponse:
    """Audit events under the caller's jurisdiction, newest first."""
    params = query(request, AuditQuery)
    events = await list_events(
        jurisdiction_prefix=principal.jurisdiction or "\x00",
        entity=params.entity,
        entity_id=params.entity_id,
        limit=params.limit,
        before_id=params.before,
    )
    items = [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": e.actor_label,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "jurisdiction": e.jurisdiction,
            "before": e.before,
            "after": e.after,
            "request_id": e.request_id,
        }
        for e in events
    ]
    next_before = items[-1]["id"] if len(items) == params.limit else None
    return ok({"items": items, "next_before": next_before})
