"""Signed, Redis-backed access and refresh tokens: forged, expired and revoked are told apart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from backend.errors import Unauthorized

ACCESS = "a"
REFRESH = "r"


@dataclass(frozen=True)
class TokenPair:
    """What a login or refresh hands out."""

    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class TokenClaims:
    """A verified token's contents."""

    user_id: uuid.UUID
    token_id: str
    family: str
    kind: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenStore:
    """Issues, verifies, rotates and revokes tokens; Redis holds what is still valid."""

    def __init__(
        self, redis: Redis, *, secret: str, access_ttl: int, refresh_ttl: int, prefix: str
    ) -> None:
        self._redis = redis
        self._key = hashlib.sha256(b"yimen tokens\x00" + secret.encode()).digest()
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._prefix = prefix + "tok:"

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest())

    def _encode(self, claims: dict[str, object]) -> str:
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    async def issue(self, user_id: uuid.UUID, *, device_id: str | None = None) -> TokenPair:
        """A fresh access/refresh pair in a new family (one login = one family)."""
        return await self._issue_family(user_id, secrets.token_hex(16), device_id=device_id)

    async def _issue_family(
        self, user_id: uuid.UUID, family: str, *, device_id: str | None
    ) -> TokenPair:
        now = int(time.time())
        access_id, refresh_id = secrets.token_hex(16), secrets.token_hex(16)
        access = self._encode(
            {
                "t": ACCESS,
                "u": str(user_id),
                "j": access_id,
                "f": family,
                "e": now + self.access_ttl,
            }
        )
        refresh = self._encode(
            {
                "t": REFRESH,
                "u": str(user_id),
                "j": refresh_id,
                "f": family,
                "e": now + self.refresh_ttl,
            }
        )
        meta = json.dumps({"u": str(user_id), "f": family, "d": device_id or ""})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._prefix + access_id, meta, ex=self.access_ttl)
            pipe.set(self._prefix + refresh_id, meta, ex=self.refresh_ttl)
            fam_key = f"{self._prefix}family:{family}"
            pipe.sadd(fam_key, access_id, refresh_id)
            pipe.expire(fam_key, self.refresh_ttl)
            user_key = f"{self._prefix}user:{user_id}"
            pipe.sadd(user_key, family)
            pipe.expire(user_key, self.refresh_ttl)
            await pipe.execute()
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=self.access_ttl)

    def _decode(self, token: str, *, expected: str) -> TokenClaims:
        try:
            payload_part, sig = token.split(".", 1)
            payload = _unb64(payload_part)
            good = hmac.compare_digest(self._sign(payload), sig)
        except (ValueError, TypeError):
            good = False
        if not good:
            raise Unauthorized("登录凭证无效，请重新登录", type_slug="invalid-token")
        claims = json.loads(payload)
        if claims.get("t") != expected:
            raise Unauthorized("登录凭证类型不对，请重新登录", type_slug="invalid-token")
        if int(claims["e"]) <= int(time.time()):
            raise Unauthorized("登录已过期，请重新登录", type_slug="token-expired")
        return TokenClaims(
            user_id=uuid.UUID(claims["u"]),
            token_id=claims["j"],
            family=claims["f"],
            kind=claims["t"],
        )

    async def verify_access(self, token: str) -> TokenClaims:
        """The claims of a valid, unrevoked access token."""
        claims = self._decode(token, expected=ACCESS)
        if not await self._redis.exists(self._prefix + claims.token_id):
            raise Unauthorized(
                "登录已失效（已退出或被注销），请重新登录", type_slug="token-revoked"
            )
        return claims

    def refresh_owner(self, refresh_token: str) -> uuid.UUID:
        """Whose refresh token this is (signature and expiry checked; nothing used up)."""
        return self._decode(refresh_token, expected=REFRESH).user_id

    async def rotate(self, refresh_token: str) -> tuple[uuid.UUID, TokenPair]:
        """Trade a refresh token for a new pair; the old one stops working at once."""
        claims = self._decode(refresh_token, expected=REFRESH)
        # GETDEL is atomic: of two concurrent refreshes only one gets the value.
        meta = await self._redis.getdel(self._prefix + claims.token_id)
        if meta is None:
            # A refresh token used twice means it leaked: end the whole family.
            await self.revoke_family(claims.family)
            raise Unauthorized("登录已失效，请重新登录", type_slug="token-revoked")
        await self.revoke_family(claims.family)
        # The new pair stays in the family, so reusing the old refresh token revokes it too.
        device_id = json.loads(meta).get("d") or None
        return claims.user_id, await self._issue_family(
            claims.user_id, claims.family, device_id=device_id
        )

    async def revoke_family(self, family: str) -> None:
        """Revoke every token of one login."""
        fam_key = f"{self._prefix}family:{family}"
        members = await self._redis.smembers(fam_key)
        keys = [self._prefix + _text(m) for m in members]
        if keys:
            await self._redis.delete(*keys)
        await self._redis.delete(fam_key)

    async def revoke_user(self, user_id: uuid.UUID) -> None:
        """Revoke every token of a user (password change, deactivation)."""
        user_key = f"{self._prefix}user:{user_id}"
        for family in await self._redis.smembers(user_key):
            await self.revoke_family(_text(family))
        await self._redis.delete(user_key)
