"""The front page: today's figures of each window under the caller."""

from __future__ import annotations

from datetime import date

from sanic import Request
from sanic.response import HTTPResponse

from backend.accounts.authz import Principal
from backend.console.pages import bp, page
from backend.console.render import render
from backend.errors import ValidationFailed
from backend.intake import triage


@bp.get("/")
@page()
async def home(request: Request, principal: Principal) -> HTTPResponse:
    """The front page: today's figures of each window under the caller (received, overdue...)."""
    day = _day(request.args.get("day"))
    summary = await triage.window_summary(principal=principal, day=day)
    return render(request, "home.html", summary=summary)


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
