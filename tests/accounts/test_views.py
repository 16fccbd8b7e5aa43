"""Sign-in over HTTP: login, tokens (forged, expired, revoked, rotated), rate limits, bad bodies."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.accounts.models import User
from backend.accounts.service import get_or_create_resident, hash_password, set_user_active
from backend.accounts.tokens import TokenStore
from backend.config import Settings
from backend.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE
from backend.integrity.models import AuditEvent
from tests.console.conftest import csrf_of, form_login
from tests.factories import PASSWORD, login, make_user

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"
BAD_CREDENTIALS = "用户名或密码错误"
OTHER_IP = "198.51.100.9"


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """A small name ceiling and a one-second backoff, so the backoff can be watched.

    A test parametrizes `settings` (indirect) to change more.
    """
    changes = {
        "login_user_rate_limit": "12/hour",
        "login_backoff_base": 1,
        "login_backoff_max": 8,
        "login_address_rate_limit": "20/minute",
    }
    return settings.with_overrides(**changes | getattr(request, "param", {}))


# A lock that outlasts the test: what follows it does not race its end.
LONG_LOCK = pytest.mark.parametrize(
    "settings", [{"login_backoff_base": 120, "login_backoff_max": 240}], indirect=True
)


@pytest.fixture
async def head(geo: None) -> User:
    """A township head of 递铺街道 who can log in with PASSWORD."""
    return await make_user("zhang", "township_head", "330523001")


@pytest.fixture
async def other_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second client, from another address."""
    transport = httpx.ASGITransport(app=app, client=(OTHER_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://yimen.test") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict:
    """A problem+json response of this status (and type); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_CONTENT_TYPE)
    problem = response.json()
    assert problem["status"] == status
    assert any("\u4e00" <= c <= "\u9fff" for c in problem["detail"]), problem
    if slug is not None:
        assert problem["type"] == PROBLEM_BASE + slug, problem
    return problem


def assert_unauthorized(response: httpx.Response, slug: str) -> dict:
    """A 401 of this type that tells the client to use a Bearer token."""
    problem = assert_problem(response, 401, slug)
    assert response.headers["www-authenticate"] == "Bearer"
    return problem


async def token_keys(app: Any) -> list[bytes]:
    """The token keys in this test's Redis."""
    prefix = app.ctx.settings.redis_prefix + "tok:"
    return [k async for k in app.ctx.redis.scan_iter(match=prefix + "*")]


# --- login and /me -----------------------------------------------------------------------


async def test_login_returns_tokens_and_me_works(
    app: Any, client: httpx.AsyncClient, head: User
) -> None:
    response = await client.post(LOGIN, json={"username": "zhang", "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == app.ctx.settings.access_token_ttl
    assert tokens["access_token"] != tokens["refresh_token"]

    me = await client.get(ME, headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json() == {
        "id": str(head.id),
        "kind": "staff",
        "username": "zhang",
        "display_name": "zhang",
        "role": "township_head",
        "role_label": "乡镇（街道）负责人",
        "jurisdiction": "330523001",
        "villages": [],
    }


async def test_grid_worker_logs_in_and_sees_their_villages(
    client: httpx.AsyncClient, geo: None
) -> None:
    await make_user("wang", "grid_worker", "330523001", villages=["330523001200", "330523001001"])
    tokens = await login(client, "wang")
    me = (await client.get(ME, headers=bearer(tokens["access_token"]))).json()
    assert me["kind"] == "grid_worker"
    assert me["role"] is None and me["role_label"] is None
    assert me["villages"] == ["330523001001", "330523001200"]


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, head: User
) -> None:
    wrong = await client.post(LOGIN, json={"username": "zhang", "password": "not the password"})
    unknown = await client.post(LOGIN, json={"username": "nobody", "password": PASSWORD})
    bodies = []
    for response in (wrong, unknown):
        problem = assert_unauthorized(response, "invalid-credentials")
        assert problem["detail"] == BAD_CREDENTIALS
        bodies.append({k: v for k, v in problem.items() if k != "request_id"})
    assert bodies[0] == bodies[1]


async def test_username_is_case_sensitive_at_login(client: httpx.AsyncClient, head: User) -> None:
    response = await client.post(LOGIN, json={"username": "ZHANG", "password": PASSWORD})
    assert assert_unauthorized(response, "invalid-credentials")["detail"] == BAD_CREDENTIALS


async def test_resident_cannot_log_in_with_a_password(client: httpx.AsyncClient, geo: None) -> None:
    resident, _ = await get_or_create_resident(openid="o-resident")
    # Even a resident row that somehow has a name and password is refused.
    await User.filter(id=resident.id).update(
        username="jumin", password_hash=hash_password(PASSWORD)
    )
    response = await client.post(LOGIN, json={"username": "jumin", "password": PASSWORD})
    assert assert_unauthorized(response, "invalid-credentials")["detail"] == BAD_CREDENTIALS


# --- rate limiting -----------------------------------------------------------------------


async def fail(client: httpx.AsyncClient, username: str, times: int) -> None:
    """Fail to log in this many times."""
    for _ in range(times):
        response = await client.post(LOGIN, json={"username": username, "password": "wrong pw"})
        assert response.status_code == 401, response.text


async def test_sixth_attempt_after_five_failures_is_429_even_with_the_right_password(
    client: httpx.AsyncClient, head: User
) -> None:
    await fail(client, "zhang", 5)
    response = await client.post(LOGIN, json={"username": "zhang", "password": PASSWORD})
    problem = assert_problem(response, 429, "too-many-requests")
    assert "登录失败次数过多" in problem["detail"]
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60


async def test_failures_from_another_address_do_not_lock_the_clerk_out(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, head: User
) -> None:
    # Someone elsewhere who knows the name uses up the limit for their own address ...
    await fail(other_client, "zhang", 5)
    response = await other_client.post(LOGIN, json={"username": "zhang", "password": PASSWORD})
    assert_problem(response, 429, "too-many-requests")
    # ... and the clerk at her own address still gets in.
    await login(client, "zhang")


async def _api_attempt(client: httpx.AsyncClient, i: int) -> httpx.Response:
    return await client.post(LOGIN, json={"username": "zhang", "password": f"wrong {i}"})


async def _mobile_attempt(client: httpx.AsyncClient, i: int) -> httpx.Response:
    body = {"username": "grid_z", "password": f"wrong {i}", "device_id": "phone-1"}
    return await client.post("/mobile/v1/auth/login", json=body)


async def _console_attempt(client: httpx.AsyncClient, i: int) -> httpx.Response:
    # One login page for all: each page load would start a new form token.
    token = client.headers["x-test-form-token"]
    data = {"csrf_token": token, "username": "zhang", "password": f"wrong {i}"}
    return await client.post("/console/login", data=data)


@pytest.mark.parametrize("attempt", [_api_attempt, _mobile_attempt, _console_attempt])
async def test_parallel_wrong_passwords_are_counted_before_they_are_checked(
    client: httpx.AsyncClient, head: User, attempt: Any
) -> None:
    await make_user("grid_z", "grid_worker", "330523001", villages=["330523001001"])
    # The test settings allow 5 attempts a minute per name and address, on every login face.
    if attempt is _console_attempt:
        client.base_url = httpx.URL("https://yimen.test")  # the console's cookies are Secure
        client.headers["x-test-form-token"] = csrf_of((await client.get("/console/login")).text)
    responses = await asyncio.gather(*[attempt(client, i) for i in range(60)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(401) <= 5, statuses
    assert statuses.count(401) + statuses.count(429) == 60, statuses
    for response in responses:
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
            if attempt is not _console_attempt:
                assert_problem(response, 429, "too-many-requests")


async def clients_from(app: Any, count: int) -> list[httpx.AsyncClient]:
    """Clients from as many different addresses."""
    return [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(f"192.0.2.{i + 1}", 40000)),
            base_url="http://yimen.test",
        )
        for i in range(count)
    ]


async def test_many_addresses_hit_the_name_ceiling_and_back_off(
    app: Any, client: httpx.AsyncClient, head: User
) -> None:
    # The clerk has signed in from her office before: that address stays usable.
    await login(client, "zhang")
    settings = app.ctx.settings
    ceiling = int(settings.login_user_rate_limit.split("/")[0])
    attackers = await clients_from(app, ceiling // 4 + 2)
    try:
        for attacker in attackers[:-1]:
            for _ in range(4):
                if ceiling <= 0:
                    break
                await fail(attacker, "zhang", 1)
                ceiling -= 1
        # A new address is now refused for the name, and told when to try again.
        fresh = attackers[-1]
        response = await fresh.post(LOGIN, json={"username": "zhang", "password": PASSWORD})
        problem = assert_problem(response, 429, "too-many-requests")
        first_wait = int(response.headers["retry-after"])
        assert first_wait == settings.login_backoff_base
        assert problem["retry_after"] == first_wait
        assert "北京时间" in problem["detail"] and "后再试" in problem["detail"]
        # The office is not locked out.
        await login(client, "zhang")
        # After the wait, one more failure doubles it.
        await asyncio.sleep(first_wait + 0.2)
        await fail(fresh, "zhang", 1)
        response = await fresh.post(LOGIN, json={"username": "zhang", "password": PASSWORD})
        assert_problem(response, 429, "too-many-requests")
        assert int(response.headers["retry-after"]) == 2 * first_wait
    finally:
        for attacker in attackers:
            await attacker.aclose()


async def test_a_successful_login_clears_the_name_and_address_counter(
    app: Any, client: httpx.AsyncClient, other_client: httpx.AsyncClient, head: User
) -> None:
    await fail(client, "zhang", 4)
    await login(client, "zhang")
    # Four more from a fresh address: eight in all, but only four since the last success.
    await fail(other_client, "zhang", 4)
    await login(other_client, "zhang")


async def lock_the_name(app: Any, username: str) -> None:
    """Fail for a name from fresh addresses until its ceiling is reached and it is locked."""
    ceiling = int(app.ctx.settings.login_user_rate_limit.split("/")[0])
    attackers = await clients_from(app, ceiling // 4 + 1)
    try:
        for attacker in attackers:
            for _ in range(min(4, ceiling)):
                await fail(attacker, username, 1)
                ceiling -= 1
    finally:
        for attacker in attackers:
            await attacker.aclose()


def client_at(app: Any, address: str, base_url: str = "http://yimen.test") -> httpx.AsyncClient:
    """A client from this address."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


MOBILE_LOGIN = "/mobile/v1/auth/login"


@LONG_LOCK
@pytest.mark.parametrize(
    ("path", "role"), [(MOBILE_LOGIN, "grid_worker"), (LOGIN, "township_head")]
)
async def test_a_device_id_someone_learned_does_not_lift_the_names_lock(
    app: Any, client: httpx.AsyncClient, geo: None, path: str, role: str
) -> None:
    villages = ["330523001001"] if role == "grid_worker" else []
    await make_user("li", role, "330523001", villages=villages)
    body = {"username": "li", "password": PASSWORD, "device_id": "phone-li"}
    assert (await client.post(path, json=body)).status_code == 200
    await lock_the_name(app, "li")
    # device_id is whatever a client sends: an attacker who learned it, from a new address,
    # is held by the name's lock like anyone else (no unlimited guessing behind it).
    async with client_at(app, "192.0.2.250") as attacker:
        guess = await attacker.post(path, json=body | {"password": "a guess"})
        problem = assert_problem(guess, 429, "too-many-requests")
        assert "登录失败次数过多" in problem["detail"]


@LONG_LOCK
async def test_a_console_known_device_cookie_gets_in_from_a_new_address_while_locked(
    app: Any, client: httpx.AsyncClient, geo: None
) -> None:
    await make_user("dipu_clerk", "window_clerk", "330523001")
    client.base_url = httpx.URL("https://yimen.test")  # the console's cookies are Secure
    response = await form_login(client, "dipu_clerk")
    assert response.status_code == 303, response.text
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("yimen_console_device=")
    )
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=2592000" in cookie  # thirty days
    value = client.cookies["yimen_console_device"]
    assert "dipu_clerk" not in value
    await lock_the_name(app, "dipu_clerk")
    async with client_at(app, "192.0.2.251", "https://yimen.test") as browser:
        # A browser without the cookie, or with a forged one, is refused while locked ...
        refused = await form_login(browser, "dipu_clerk")
        assert refused.status_code == 429 and "登录失败次数过多" in refused.text
        browser.cookies.set("yimen_console_device", value[:-4] + "0000", path="/console")
        assert (await form_login(browser, "dipu_clerk")).status_code == 429
        # ... the clerk's own browser, on a new network, gets in (with the right password).
        browser.cookies.set("yimen_console_device", value, path="/console")
        assert (await form_login(browser, "dipu_clerk", "wrong pw")).status_code == 401
        assert (await form_login(browser, "dipu_clerk")).status_code == 303
    # The cookie is bound to the name: it does not exempt another clerk.
    await make_user("dipu_other", "window_clerk", "330523001")
    await lock_the_name(app, "dipu_other")
    async with client_at(app, "192.0.2.252", "https://yimen.test") as browser:
        browser.cookies.set("yimen_console_device", value, path="/console")
        assert (await form_login(browser, "dipu_other")).status_code == 429


async def test_invented_names_from_a_shared_address_do_not_lock_out_a_known_person(
    app: Any, client: httpx.AsyncClient, geo: None
) -> None:
    await make_user("zhang", "township_head", "330523001")
    await make_user("grid_z", "grid_worker", "330523001", villages=["330523001001"])
    await make_user("newcomer", "window_clerk", "330523001")
    await login(client, "zhang")  # the clerk has signed in from this office before
    mobile = {"username": "grid_z", "password": PASSWORD, "device_id": "phone-z"}
    assert (await client.post(MOBILE_LOGIN, json=mobile)).status_code == 200  # known here too
    per_address = int(app.ctx.settings.login_address_rate_limit.split("/")[0])
    # The whole township office is behind one address; someone there tries invented names.
    for i in range(per_address + 1):
        response = await client.post(LOGIN, json={"username": f"x{i}", "password": "wrong pw"})
        if response.status_code != 401:
            break
    assert i >= per_address - 2, i  # the two logins above counted here too
    problem = assert_problem(response, 429, "too-many-requests")
    assert "该网络的登录尝试过多" in problem["detail"] and "北京时间" in problem["detail"]
    assert "登录失败次数过多" not in problem["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    # Someone who never signed in from here is told it is the network, not her account.
    response = await client.post(LOGIN, json={"username": "newcomer", "password": PASSWORD})
    assert "该网络的登录尝试过多" in assert_problem(response, 429)["detail"]
    # The clerk and the grid worker known at this address still get in.
    await login(client, "zhang")
    assert (await client.post(MOBILE_LOGIN, json=mobile)).status_code == 200
    # ... still with the password checked.
    wrong = await client.post(LOGIN, json={"username": "zhang", "password": "wrong pw"})
    assert_unauthorized(wrong, "invalid-credentials")


# --- tokens ------------------------------------------------------------------------------


def forge(token: str, **changes: object) -> str:
    """The token with its payload changed and its signature kept."""
    payload, signature = token.split(".", 1)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + signature


async def test_forged_tokens_are_invalid(client: httpx.AsyncClient, head: User) -> None:
    tokens = await login(client, "zhang")
    access = tokens["access_token"]
    payload, signature = access.split(".", 1)
    forged = [
        forge(access, u=str(uuid.uuid4())),
        forge(access, e=4_102_444_800),
        forge(tokens["refresh_token"], t="a"),
        payload + "." + signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"),
        payload,
        "not-a-token",
        "a.b.c",
        uuid.uuid4().hex + "." + uuid.uuid4().hex,
    ]
    for token in forged:
        response = await client.get(ME, headers=bearer(token))
        problem = assert_unauthorized(response, "invalid-token")
        assert problem["type"].endswith("invalid-token"), token
    # Non-ASCII bytes in the header are no token either.
    response = await client.get(ME, headers={"Authorization": "Bearer 令牌.签名".encode()})
    assert_unauthorized(response, "invalid-token")
    # The genuine token still works.
    assert (await client.get(ME, headers=bearer(access))).status_code == 200


async def test_token_signed_with_another_secret_is_invalid(
    app: Any, client: httpx.AsyncClient, head: User
) -> None:
    settings = app.ctx.settings
    other = TokenStore(
        app.ctx.redis,
        secret="some other secret entirely",
        access_ttl=60,
        refresh_ttl=60,
        prefix=settings.redis_prefix,
    )
    pair = await other.issue(head.id)
    assert_unauthorized(await client.get(ME, headers=bearer(pair.access_token)), "invalid-token")


async def test_expired_tokens_are_told_apart(
    app: Any, client: httpx.AsyncClient, head: User
) -> None:
    settings = app.ctx.settings
    short = TokenStore(
        app.ctx.redis,
        secret=settings.secret_key,
        access_ttl=1,
        refresh_ttl=1,
        prefix=settings.redis_prefix,
    )
    pair = await short.issue(head.id)
    assert (await client.get(ME, headers=bearer(pair.access_token))).status_code == 200
    await asyncio.sleep(1.2)
    problem = assert_unauthorized(
        await client.get(ME, headers=bearer(pair.access_token)), "token-expired"
    )
    assert "过期" in problem["detail"]
    response = await client.post(REFRESH, json={"refresh_token": pair.refresh_token})
    assert_unauthorized(response, "token-expired")


async def test_logout_revokes_the_login(app: Any, client: httpx.AsyncClient, head: User) -> None:
    tokens = await login(client, "zhang")
    other_login = await login(client, "zhang")
    response = await client.post(LOGOUT, headers=bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "logged_out"}

    assert_unauthorized(
        await client.get(ME, headers=bearer(tokens["access_token"])), "token-revoked"
    )
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_unauthorized(response, "token-revoked")
    assert_unauthorized(
        await client.post(LOGOUT, headers=bearer(tokens["access_token"])), "token-revoked"
    )
    # Another login (another device) of the same user is untouched.
    assert (await client.get(ME, headers=bearer(other_login["access_token"]))).status_code == 200


async def test_refresh_rotates_and_reuse_ends_the_family(
    client: httpx.AsyncClient, head: User
) -> None:
    first = await login(client, "zhang")
    response = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get(ME, headers=bearer(second["access_token"]))).status_code == 200
    # The old pair stops working at once.
    assert_unauthorized(
        await client.get(ME, headers=bearer(first["access_token"])), "token-revoked"
    )

    # Reusing the old refresh token means it leaked: the new pair is revoked too.
    response = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert_unauthorized(response, "token-revoked")
    assert_unauthorized(
        await client.get(ME, headers=bearer(second["access_token"])), "token-revoked"
    )
    response = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert_unauthorized(response, "token-revoked")


async def test_reuse_does_not_end_other_logins(client: httpx.AsyncClient, head: User) -> None:
    first = await login(client, "zhang")
    elsewhere = await login(client, "zhang")
    await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert (await client.get(ME, headers=bearer(elsewhere["access_token"]))).status_code == 200


async def test_refresh_and_access_tokens_are_not_interchangeable(
    client: httpx.AsyncClient, head: User
) -> None:
    tokens = await login(client, "zhang")
    assert_unauthorized(
        await client.get(ME, headers=bearer(tokens["refresh_token"])), "invalid-token"
    )
    response = await client.post(REFRESH, json={"refresh_token": tokens["access_token"]})
    assert_unauthorized(response, "invalid-token")
    # Neither attempt used anything up.
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param({"Authorization": ""}, id="empty"),
        pytest.param({"Authorization": "Bearer"}, id="no-token"),
        pytest.param({"Authorization": "Bearer   "}, id="blank-token"),
        pytest.param({"Authorization": "Basic emhhbmc6cHc="}, id="basic"),
    ],
)
async def test_missing_token_is_401_with_www_authenticate(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for response in (
        await client.get(ME, headers=headers),
        await client.post(LOGOUT, headers=headers),
    ):
        problem = assert_unauthorized(response, "missing-token")
        assert "Authorization" in problem["detail"]


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, head: User) -> None:
    tokens = await login(client, "zhang")
    headers = {"Authorization": f"bearer {tokens['access_token']}"}
    assert (await client.get(ME, headers=headers)).status_code == 200


async def test_disabled_user_loses_tokens_and_cannot_log_in(
    app: Any, client: httpx.AsyncClient, head: User
) -> None:
    tokens = await login(client, "zhang")
    second = await login(client, "zhang")
    await set_user_active(username="zhang", active=False, tokens=app.ctx.tokens)

    for pair in (tokens, second):
        assert_unauthorized(
            await client.get(ME, headers=bearer(pair["access_token"])), "token-revoked"
        )
        response = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        assert response.status_code == 401
    response = await client.post(LOGIN, json={"username": "zhang", "password": PASSWORD})
    assert assert_unauthorized(response, "invalid-credentials")["detail"] == BAD_CREDENTIALS
    events = await AuditEvent.filter(action="user.disable", entity_id=str(head.id)).all()
    assert len(events) == 1
    assert events[0].before is not None and events[0].before["is_active"] is True
    assert events[0].after is not None and events[0].after["is_active"] is False

    await set_user_active(username="zhang", active=True, tokens=app.ctx.tokens)
    tokens = await login(client, "zhang")
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200


async def test_token_of_a_disabled_user_is_refused_even_if_not_revoked(
    app: Any, client: httpx.AsyncClient, head: User
) -> None:
    tokens = await login(client, "zhang")
    await User.filter(id=head.id).update(is_active=False)
    assert_unauthorized(
        await client.get(ME, headers=bearer(tokens["access_token"])), "account-disabled"
    )
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_unauthorized(response, "account-disabled")


# --- bad bodies --------------------------------------------------------------------------


async def test_malformed_json_is_400(client: httpx.AsyncClient, head: User) -> None:
    for raw in (b'{"username": "zhang", ', b"", b"[1, 2]", b'"zhang"', b"\xff\xfe"):
        response = await client.post(
            LOGIN, content=raw, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 400, "invalid-json")


async def test_unknown_field_is_422_naming_it(client: httpx.AsyncClient, head: User) -> None:
    response = await client.post(
        LOGIN, json={"username": "zhang", "password": PASSWORD, "remember_me": True}
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert {"field": "remember_me", "message": "不认识的字段，请删除"} in problem["errors"]
    assert "remember_me" in problem["detail"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"username": 12345, "password": PASSWORD}, "username", id="int-name"),
        pytest.param({"username": "zhang", "password": ["x"]}, "password", id="list-password"),
        pytest.param({"username": "zhang"}, "password", id="missing-password"),
        pytest.param({"username": "", "password": PASSWORD}, "username", id="empty-name"),
        pytest.param({"username": "zhang", "password": "x" * 257}, "password", id="long"),
    ],
)
async def test_wrong_types_are_422(
    client: httpx.AsyncClient, head: User, payload: dict, field: str
) -> None:
    problem = assert_problem(await client.post(LOGIN, json=payload), 422, "validation-failed")
    assert field in {e["field"] for e in problem["errors"]}


async def test_non_json_content_type_is_415(client: httpx.AsyncClient, head: User) -> None:
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        response = await client.post(
            LOGIN,
            content=f"username=zhang&password={PASSWORD}",
            headers={"Content-Type": content_type},
        )
        assert_problem(response, 415, "unsupported-media-type")


async def test_bad_bodies_write_nothing_and_do_not_count_as_failures(
    app: Any, client: httpx.AsyncClient, head: User
) -> None:
    events = await AuditEvent.all().count()
    for _ in range(3):
        await client.post(LOGIN, content=b"{", headers={"Content-Type": "application/json"})
        await client.post(LOGIN, json={"username": "zhang", "password": 1})
        await client.post(LOGIN, content=b"x", headers={"Content-Type": "text/plain"})
        await client.post(REFRESH, json={"refresh_token": "short"})
    assert await token_keys(app) == []
    assert await AuditEvent.all().count() == events
    # Twelve bad requests, yet the limit of five failures has not been touched.
    await login(client, "zhang")
