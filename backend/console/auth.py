"""Signing in to the console and out of it."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, redirect

from backend.accounts.authz import Principal
from backend.console import session as sessions
from backend.console.pages import bp, form_value, page
from backend.console.render import render, security_headers
from backend.errors import TooManyRequests, Unauthorized


def _safe_next(value: str | None) -> str:
    # Only back into the console: never an open redirect to another site.
    if value and value.startswith("/console/") and not value.startswith("//"):
        if "\\" not in value and "\n" not in value and "\r" not in value:
            return value
    return "/console/"


def _login_page(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    username: str = "",
    next_url: str = "/console/",
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    store = sessions.sessions(request)
    nonce = request.cookies.get(sessions.LOGIN_COOKIE) or sessions.new_nonce()
    response = render(
        request,
        "login.html",
        status=status,
        error=error,
        username=username,
        next_url=next_url,
        login_token=store.login_token(nonce),
        principal=None,
        csrf_token="",
    )
    store.set_login_cookie(response, nonce)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    """The login page (straight on to the console when already signed in)."""
    next_url = _safe_next(request.args.get("next"))
    if await sessions.current_session(request) is not None:
        return redirect(next_url, status=303)
    return _login_page(request, next_url=next_url)


@bp.post("/login")
async def login_submit(request: Request) -> HTTPResponse:
    """Check the password through the rate-limited login service; start a session."""
    store = sessions.sessions(request)
    username = form_value(request, "username")[:64]
    next_url = _safe_next(form_value(request, "next"))
    if not store.check_login_token(
        request.cookies.get(sessions.LOGIN_COOKIE), form_value(request, sessions.CSRF_FIELD)
    ):
        return _login_page(
            request, status=403, error=sessions.CSRF_FAILED, username=username, next_url=next_url
        )
    password = (request.form.get("password") if request.form is not None else None) or ""
    if not username or not password:
        return _login_page(
            request, status=422, error="请填写用户名和密码", username=username, next_url=next_url
        )
    try:
        session_id, _principal, device_cookie = await sessions.login(
            request, username=username, password=password[:256]
        )
    except (Unauthorized, TooManyRequests) as problem:
        return _login_page(
            request,
            status=problem.status,
            error=problem.detail,
            username=username,
            next_url=next_url,
            headers={k: v for k, v in problem.headers.items() if k.lower() == "retry-after"},
        )
    response = redirect(next_url, status=303)
    store.set_cookie(response, session_id)
    store.set_device_cookie(response, device_cookie)
    store.clear_cookie(response, sessions.LOGIN_COOKIE)
    return security_headers(request, response)


@bp.post("/logout")
@page()
async def logout(request: Request, principal: Principal) -> HTTPResponse:
    """End the session (the CSRF check keeps other sites from signing the clerk out)."""
    store = sessions.sessions(request)
    await store.delete(request.ctx.console_session)
    response = redirect("/console/login", status=303)
    store.clear_cookie(response)
    return security_headers(request, response)
