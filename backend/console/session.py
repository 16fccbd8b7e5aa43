"""Console sessions: an HttpOnly cookie naming a Redis record, a CSRF token per session."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sanic import Request
from sanic.response import HTTPResponse

from backend.accounts.authz import Principal
from backend.accounts.models import UserKind
from backend.accounts.service import load_principal
from backend.config import Settings
from backend.context import app_context
from backend.errors import Forbidden, Unauthorized
from backend.web.http import client_ip

COOKIE = "yimen_console"
# Before login there is no session to hold a CSRF token: the login form carries an HMAC of a
# nonce kept in this cookie instead (so a foreign site cannot log a browser into its account).
LOGIN_COOKIE = "yimen_console_login"
COOKIE_PATH = "/console"
# A browser a clerk signed in with: HMACs of (random id, username) for the last few names
# that signed in with it. Presented at the login form, it spares the clerk the per-name and
# per-address limits others can exhaust (the login service also checks it is recent).
DEVICE_COOKIE = "yimen_console_device"
DEVICE_NAMES_KEPT = 8
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# However busy the clerk, a console login ends after a working day.
ABSOLUTE_TTL = 12 * 3600
LOGIN_FORM_TTL = 3600
# What a console principal carries where an API caller's carries its access token's id.
SESSION_KIND = "console"
CSRF_FAILED = "页面已过期或来源不明（安全校验未通过），请刷新页面后重试"


@dataclass(frozen=True)
class Session:
    """A signed-in console session as stored in Redis (the cookie holds only its id)."""

    key: str
    user_id: uuid.UUID
    csrf: str
    created: int


def _digest(session_id: str) -> str:
    # Redis holds the hash of the cookie value: a copy of Redis does not hand out sessions.
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Create, read (sliding expiry) and delete console sessions."""

    def __init__(self, redis: Redis, *, settings: Settings) -> None:
        self._redis = redis
        self._prefix = settings.redis_prefix + "console:session:"
        self._idle = settings.access_token_ttl
        self._login_key = hashlib.sha256(
            b"yimen console login form\x00" + settings.secret_key.encode()
        ).digest()
        self._device_key = hashlib.sha256(
            b"yimen console known device\x00" + settings.secret_key.encode()
        ).digest()
        self._device_ttl = settings.login_known_days * 24 * 3600
        self.secure = settings.env != "development"

    async def create(self, *, user_id: uuid.UUID) -> tuple[str, Session]:
        """A new session for a user; returns the cookie value and the session."""
        session_id = secrets.token_urlsafe(32)
        session = Session(
            key=_digest(session_id),
            user_id=user_id,
            csrf=secrets.token_urlsafe(32),
            created=int(time.time()),
        )
        record = json.dumps({"u": str(user_id), "c": session.csrf, "t": session.created})
        await self._redis.set(self._prefix + session.key, record, ex=self._idle)
        return session_id, session

    async def load(self, session_id: str | None) -> Session | None:
        """The live session a cookie names (its idle timer restarted), or None."""
        if not session_id or len(session_id) > 128:
            return None
        key = _digest(session_id)
        raw = await self._redis.getex(self._prefix + key, ex=self._idle)
        if raw is None:
            return None
        try:
            data: dict[str, Any] = json.loads(raw)
            session = Session(
                key=key, user_id=uuid.UUID(data["u"]), csrf=str(data["c"]), created=int(data["t"])
            )
        except (ValueError, KeyError, TypeError):
            await self._redis.delete(self._prefix + key)
            return None
        if time.time() - session.created > ABSOLUTE_TTL:
            await self._redis.delete(self._prefix + key)
            return None
        return session

    async def delete(self, session: Session) -> None:
        """End a session at once."""
        await self._redis.delete(self._prefix + session.key)

    def login_token(self, nonce: str) -> str:
        """The login form's CSRF token for the nonce in the browser's login cookie."""
        return hmac.new(self._login_key, nonce.encode(), hashlib.sha256).hexdigest()

    def check_login_token(self, nonce: str | None, token: str | None) -> bool:
        """Whether a login form came from our page in this browser."""
        if not nonce or not token or len(nonce) > 128:
            return False
        return hmac.compare_digest(self.login_token(nonce), token)

    def _device_signature(self, device_id: str, username: str) -> str:
        message = f"{device_id}\x00{username.lower()}".encode()
        return hmac.new(self._device_key, message, hashlib.sha256).hexdigest()[:32]

    @staticmethod
    def _device_parts(cookie: str | None) -> tuple[str | None, list[str]]:
        if not cookie or len(cookie) > 64 + 33 * DEVICE_NAMES_KEPT:
            return None, []
        device_id, *signatures = cookie.split("~")
        if not 16 <= len(device_id) <= 64 or not all(c.isalnum() or c in "-_" for c in device_id):
            return None, []
        return device_id, signatures[:DEVICE_NAMES_KEPT]

    def known_device(self, cookie: str | None, username: str) -> str | None:
        """The known-device key of a browser's cookie if it is signed for this name, or None."""
        device_id, signatures = self._device_parts(cookie)
        if device_id is None:
            return None
        expected = self._device_signature(device_id, username)
        if any(hmac.compare_digest(expected, s) for s in signatures):
            return f"console:{device_id}"
        return None

    def device_cookie(self, cookie: str | None, username: str) -> tuple[str, str]:
        """The cookie after this name signed in with the browser, and its known-device key."""
        device_id, signatures = self._device_parts(cookie)
        if device_id is None:
            device_id, signatures = secrets.token_urlsafe(16), []
        mine = self._device_signature(device_id, username)
        kept = [mine, *[s for s in signatures if s != mine]][:DEVICE_NAMES_KEPT]
        return "~".join([device_id, *kept]), f"console:{device_id}"

    def set_device_cookie(self, response: HTTPResponse, value: str) -> None:
        """Hand the browser its known-device cookie (as long-lived as a known device)."""
        response.add_cookie(
            DEVICE_COOKIE,
            value,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=self.secure,
            max_age=self._device_ttl,
        )

    def set_cookie(self, response: HTTPResponse, session_id: str) -> None:
        """Hand the session id to the browser (not readable by scripts, not sent cross-site)."""
        response.add_cookie(
            COOKIE,
            session_id,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=self.secure,
            max_age=ABSOLUTE_TTL,
        )

    def clear_cookie(self, response: HTTPResponse, name: str = COOKIE) -> None:
        """Tell the browser to forget a console cookie."""
        response.add_cookie(
            name,
            "",
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=self.secure,
            max_age=0,
        )

    def set_login_cookie(self, response: HTTPResponse, nonce: str) -> None:
        """The nonce the login form's token is bound to."""
        response.add_cookie(
            LOGIN_COOKIE,
            nonce,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=self.secure,
            max_age=LOGIN_FORM_TTL,
        )


def sessions(request: Request) -> SessionStore:
    """The session store of this app (cheap to build: it holds the app's Redis and keys)."""
    ctx = app_context(request)
    return SessionStore(ctx.redis, settings=ctx.settings)


async def current_session(request: Request) -> tuple[Session, Principal] | None:
    """The signed-in staff member of this request, or None."""
    session = await sessions(request).load(request.cookies.get(COOKIE))
    if session is None:
        return None
    try:
        principal = await load_principal(
            user_id=session.user_id, token_id=SESSION_KIND, family=session.key[:32]
        )
    except Unauthorized:
        # Disabled or deleted since signing in: the session ends with the account.
        await sessions(request).delete(session)
        return None
    if principal.kind != UserKind.STAFF:
        await sessions(request).delete(session)
        return None
    return session, principal


def submitted_csrf(request: Request) -> str:
    """The CSRF token a request carries: htmx sends a header, plain forms a hidden field."""
    header: str | None = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = request.form if _is_form(request) else None
    value: str | None = form.get(CSRF_FIELD) if form else None
    return value or ""


def ensure_csrf(request: Request, session: Session) -> None:
    """403 unless a state-changing request carries this session's CSRF token."""
    if not hmac.compare_digest(submitted_csrf(request).encode(), session.csrf.encode()):
        raise Forbidden(CSRF_FAILED, type_slug="csrf-failed", title="安全校验未通过")


def _is_form(request: Request) -> bool:
    content_type = (request.content_type or "").lower()
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


async def login(request: Request, *, username: str, password: str) -> tuple[str, Principal, str]:
    """Check a staff login (rate-limited like the API's).

    Returns a new session's cookie value, the principal and the browser's known-device cookie.
    """
    store = sessions(request)
    presented = request.cookies.get(DEVICE_COOKIE)
    # Only a cookie signed for this name is a known device for it.
    known = store.known_device(presented, username)
    user, pair = await app_context(request).login.login(
        username=username,
        password=password,
        client_ip=client_ip(request),
        kinds=(UserKind.STAFF,),
        device=known,
    )
    device_cookie, device = store.device_cookie(presented, username)
    if known is None:
        # First sign-in with this browser for the name: it is known from now on.
        await app_context(request).login.remember_device(username, device)
    # The console authenticates by cookie: the bearer tokens a login issues are not needed.
    claims = await app_context(request).tokens.verify_access(pair.access_token)
    await app_context(request).tokens.revoke_family(claims.family)
    session_id, session = await store.create(user_id=user.id)
    principal = await load_principal(
        user_id=user.id, token_id=SESSION_KIND, family=session.key[:32]
    )
    return session_id, principal, device_cookie


def new_nonce() -> str:
    """A random value for the login cookie."""
    return secrets.token_urlsafe(24)
