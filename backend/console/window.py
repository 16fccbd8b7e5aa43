"""The window profile: the township head keeps the window's posted information (一明显三上墙)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sanic import Request
from sanic.response import HTTPResponse, redirect

from backend.accounts.authz import Principal, ensure_jurisdiction
from backend.accounts.models import Role
from backend.console.pages import bp, form_value, page
from backend.console.render import render, wants_problem
from backend.errors import NotFound, Problem, ValidationFailed
from backend.validation import parse_model
from backend.windows import service as windows_service
from backend.windows.schemas import WindowIn


def _township_of(request: Request, principal: Principal, value: str | None) -> str:
    code = (value or "").strip() or (principal.jurisdiction or "")
    if len(code) != 9 or not code.isdigit():
        raise NotFound("请指定乡镇（街道）代码（例如 ?township=330523001）")
    ensure_jurisdiction(principal, code, hide=True)
    return code


def _window_form(window: Any) -> dict[str, Any]:
    return {
        "version": window.version,
        "name": window.name,
        "address": window.address,
        "opening_hours": window.opening_hours,
        "phone": window.phone,
        "complaint_phone": window.complaint_phone,
        "policies": "\n".join(window.policies),
        "duties": "\n".join(window.duties),
    }


@bp.get("/window")
@page(roles=[Role.TOWNSHIP_HEAD])
async def window_form(request: Request, principal: Principal) -> HTTPResponse:
    """The township head's form for the window's posted information (一明显三上墙)."""
    code = _township_of(request, principal, request.args.get("township"))
    window, township = await windows_service.get_window(township_code=code)
    return render(
        request,
        "window.html",
        township=township,
        form=_window_form(window),
        field_errors={},
        notice="已保存" if request.args.get("saved") else None,
    )


@bp.post("/window")
@page(roles=[Role.TOWNSHIP_HEAD])
async def window_save(request: Request, principal: Principal) -> HTTPResponse:
    """Save the window's posted information; a stale version is a conflict, not an overwrite."""
    code = _township_of(request, principal, form_value(request, "township"))
    _window, township = await windows_service.get_window(township_code=code)
    names = ("name", "address", "opening_hours", "phone", "complaint_phone")
    form: dict[str, Any] = {name: form_value(request, name) for name in names}
    form["policies"] = form_value(request, "policies")
    form["duties"] = form_value(request, "duties")
    form["version"] = form_value(request, "version")
    try:
        window_in = parse_model(
            WindowIn,
            {
                **{name: form[name] for name in names},
                "version": form["version"] or "0",
                "policies": form["policies"].splitlines(),
                "duties": form["duties"].splitlines(),
            },
        )
        await windows_service.update_window(
            township_code=code, window_in=window_in, actor=principal
        )
    except ValidationFailed as problem:
        if wants_problem(request):
            raise
        errors = {e["field"].split(".")[0]: e["message"] for e in problem.extra.get("errors", [])}
        return render(
            request,
            "window.html",
            status=422,
            township=township,
            form=form,
            field_errors=errors,
            error="请检查标出的内容后再保存",
        )
    except Problem as problem:
        if wants_problem(request):
            raise
        return render(
            request,
            "window.html",
            status=problem.status,
            township=township,
            form=form,
            field_errors={},
            error=problem.detail,
        )
    query = urlencode({"township": code, "saved": "1"})
    return redirect(f"/console/window?{query}", status=303)
