"""Test data built through the real services."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx

from backend.accounts.models import User
from backend.accounts.service import UserIn, upsert_user
from backend.demo import DEMO_VILLAGES
from backend.geo import service as geo_service
from backend.geo.models import Division, Level
from backend.windows import service as windows_service

PASSWORD = "correct horse battery"


async def load_geo(division_dir: Path) -> None:
    """Import the cut-down division list and the demo villages; windows and departments."""
    report = await geo_service.import_divisions(directory=division_dir, version="2023")
    assert report.written, report.problems
    report = await geo_service.import_villages(path=DEMO_VILLAGES, version="demo")
    assert report.written, report.problems
    await windows_service.create_missing_windows(townships=await geo_service.list_townships())
    await windows_service.create_missing_departments(
        counties=await Division.filter(level=Level.COUNTY, abolished=False)
    )


async def make_user(
    username: str,
    role: str,
    jurisdiction: str,
    *,
    villages: Sequence[str] = (),
    password: str = PASSWORD,
) -> User:
    """A grid worker or staff user."""
    user, _ = await upsert_user(
        user_in=UserIn(
            username=username,
            role=role,
            jurisdiction=jurisdiction,
            password=password,
            display_name=username,
            villages=villages,
        )
    )
    return user


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict:
    """Log in through the API; returns the token response."""
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def auth_headers(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Authorization headers for a user."""
    tokens = await login(client, username)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def signed_in(
    client: httpx.AsyncClient,
    username: str,
    role: str,
    jurisdiction: str,
    villages: Sequence[str] = (),
) -> dict[str, str]:
    """Create a user and return their Authorization headers."""
    await make_user(username, role, jurisdiction, villages=villages)
    return await auth_headers(client, username)


async def resident_headers(app: object, openid: str = "o-test-resident") -> dict[str, str]:
    """A resident (as WeChat sign-in will create them) and their Authorization headers."""
    from backend.accounts.service import get_or_create_resident

    user, _ = await get_or_create_resident(openid=openid)
    pair = await app.ctx.tokens.issue(user.id)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {pair.access_token}"}
