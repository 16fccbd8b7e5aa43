"""The front page: today's figures of each window under the caller."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sanic import Request
from sanic.response import HTTPResponse

from backend.accounts.authz import Principal
from backend.cases import service as cases_service
from backend.console.pages import bp, page
from backend.console.render import render
from backend.context import app_context
from backend.errors import ValidationFailed
from backend.intake import triage

# "Due soon" on the front page: the decisions whose limit falls within this many working days.
SOON_WORKING_DAYS = 5


@bp.get("/")
@page()
async def home(request: Request, principal: Principal) -> HTTPResponse:
    """The front page: today's figures of each window under the caller (received, overdue...)."""
    day = _day(request.args.get("day"))
    summary = await triage.window_summary(principal=principal, day=day)
    clock, now = app_context(request).decision_clock, datetime.now(UTC)
    due = await cases_service.list_decisions_due(
        principal=principal, now=now, soon=clock.calendar.add_working_days(now, SOON_WORKING_DAYS)
    )
    names = {w["township_code"]: w["name"] for w in summary["windows"]} if due else {}
    return render(
        request,
        "home.html",
        summary=summary,
        decisions={
            "overdue": sum(d.overdue for d in due),
            "due_soon": sum(d.due_soon for d in due),
            "soon_days": SOON_WORKING_DAYS,
            "townships": [
                {"name": names.get(d.township_code, d.township_code), **d.__dict__} for d in due
            ],
        },
    )


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "日期格式应为 年-月-日（例如 2026-03-01）",
            errors=[{"field": "day", "message": "格式不正确"}],
        ) from None
