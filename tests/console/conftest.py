"""Console fixtures: a browser-like client (cookies over https), logging in through the form."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.factories import PASSWORD
from tests.intake.conftest import boundaries, points, worker  # noqa: F401 - fixtures used here


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Let fixtures see whether the test itself failed (the browser test keeps its shots)."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@pytest.fixture
def console(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The test client as a browser on the console: https, so Secure cookies come back."""
    client.base_url = httpx.URL("https://yimen.test")
    return client


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = _CSRF.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


async def form_login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    """Log in through the login form, as a person would (the response is not followed)."""
    page = await client.get("/console/login")
    assert page.status_code == 200, page.text
    return await client.post(
        "/console/login",
        data={"csrf_token": csrf_of(page.text), "username": username, "password": password},
    )


async def signed_in(client: httpx.AsyncClient, username: str) -> str:
    """Log in and return the session's CSRF token (read from the front page)."""
    response = await form_login(client, username)
    assert response.status_code == 303, response.text
    home = await client.get("/console/")
    assert home.status_code == 200, home.text
    return csrf_of(home.text)
