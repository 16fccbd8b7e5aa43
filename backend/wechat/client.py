"""WeChat through wechatpy 1.8.18: one access token for all processes, kept in Redis.

wechatpy is synchronous (requests), so every call runs in a worker thread. Its token handling
is replaced: the token comes from POST /cgi-bin/stable_token (repeated calls hand back the same
token while it is valid, so processes never invalidate each other), lives in Redis through
wechatpy's RedisStorage with WeChat's expiry as its TTL, and is fetched under a Redis lock so
that many processes starting at once fetch it once. 1.8.18 has no getuserphonenumber and no
msg_sec_check version 2; each is one client.post.

Retry policy (WECHAT.md): -1 (busy) is tried again after a short wait, at most twice; 40001,
40014 and 42001 drop the cached token, fetch a new one once and try once more. Nothing else
is retried here: a job that sends is retried by its queue, a resident taps again.

Never logged: the secret, session keys, phone numbers, openids, access tokens (they travel in
URLs, so no URL is logged either).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import redis
import requests
from wechatpy.client import WeChatClient
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage
from wechatpy.utils import json as wechatpy_json

from backend.config import Settings
from backend.logs import get_logger
from backend.wechat.base import (
    ERR_BUSY,
    ERR_INVALID_CODE,
    ERR_NO_CONSENT,
    ERR_RISKY_V1,
    ERR_UNAVAILABLE,
    ERR_WATERMARK,
    LABEL_NORMAL,
    LABEL_OTHER,
    SCENES,
    TOKEN_ERRORS,
    ContentVerdict,
    SubscribeResult,
    SubscribeValue,
    Suggest,
    WeChatError,
    WeChatSession,
)
from backend.wechat.subscribe import fit_subscribe_data

log = get_logger("yimen.wechat")

WECHAT_ORIGIN = "https://api.weixin.qq.com"
REQUEST_TIMEOUT = 10.0
# Waits before the retries of a -1 (system busy) answer.
BUSY_BACKOFF = (0.2, 0.6)
# The cached token goes this long before WeChat's expiry (WeChat hands out the next one
# 5 minutes early, so a fetch in this window gets a fresh token).
TOKEN_EARLY_EXPIRY = 60
# The lock outlives a slow fetch (timeout) and waiters give up after LOCK_WAIT.
LOCK_TIMEOUT = 2 * REQUEST_TIMEOUT
LOCK_WAIT = 2 * REQUEST_TIMEOUT
# msg_sec_check takes at most 2500 characters; longer text is checked in parts.
TEXT_CHECK_LIMIT = 2500
LANG = "zh_CN"

# Delete the cached token only if it is still the one WeChat refused: another process may
# have put a fresh one there already.
_DROP_IF_SAME = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
# Endpoints that authenticate with the secret, not the access token.
_NO_TOKEN = frozenset({"sns/jscode2session"})


def _rebase(url: str, base: str) -> str:
    return base + url[len(WECHAT_ORIGIN) :] if url.startswith(WECHAT_ORIGIN) else url


class _Rejected(WeChatError):
    """One attempt failed; carries the token it used so a refusal can drop exactly that one."""

    def __init__(self, errcode: int, errmsg: str, token: str | None) -> None:
        super().__init__(errcode, errmsg)
        self.token = token


# wechatpy ships no types, so to mypy its client is Any (disallow_subclassing_any).
class _SharedTokenClient(WeChatClient):  # type: ignore[misc]
    """wechatpy's client pointed at api_base, its access token shared through Redis."""

    def __init__(
        self, *, appid: str, secret: str, api_base: str, redis_client: redis.Redis, prefix: str
    ) -> None:
        storage = RedisStorage(redis_client, prefix=prefix)
        super().__init__(appid, secret, session=storage, timeout=REQUEST_TIMEOUT, auto_retry=False)
        self.api_base = api_base
        self._redis = redis_client
        self._token_key = storage.key_name(self.access_token_key)
        self._lock_name = self._token_key + ":lock"
        self._drop_if_same = redis_client.register_script(_DROP_IF_SAME)
        # wechatpy hard-codes WeChat's origin in the client's API_BASE_URL and in each API
        # group's (wxa, message, ...); instance attributes win over the class ones. The API
        # groups are instance attributes (BaseWeChatClient.__new__ binds them), so vars() finds
        # them without touching the access_token property.
        self.API_BASE_URL = _rebase(WeChatClient.API_BASE_URL, api_base)
        for api in list(vars(self).values()):
            if isinstance(api, BaseWeChatAPI) and getattr(api, "API_BASE_URL", None):
                api.API_BASE_URL = _rebase(type(api).API_BASE_URL, api_base)

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        if url_or_endpoint in _NO_TOKEN:
            # wechatpy adds ?access_token= to every call, fetching one if need be; a None
            # value keeps it out (requests drops None params) so login never waits on a token.
            kwargs.setdefault("params", {}).setdefault("access_token", None)
        return super()._request(method, url_or_endpoint, **kwargs)

    @property
    def access_token(self) -> str:
        """The shared token, fetched under the lock when Redis has none."""
        return self.shared_token()

    def shared_token(self) -> str:
        """The token in Redis, or a new one fetched by exactly one process."""
        token = self.session.get(self.access_token_key)
        if token:
            return str(token)
        lock = self._redis.lock(self._lock_name, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT)
        if not lock.acquire():
            token = self.session.get(self.access_token_key)
            if token:
                return str(token)
            raise WeChatError(ERR_UNAVAILABLE, "access token lock not acquired")
        try:
            # Whoever held the lock before us has probably just stored one.
            token = self.session.get(self.access_token_key)
            if token:
                return str(token)
            return str(self.fetch_access_token()["access_token"])
        finally:
            with contextlib.suppress(redis.exceptions.LockError):
                lock.release()

    def fetch_access_token(self) -> dict[str, Any]:
        """POST /cgi-bin/stable_token and store the token with WeChat's expiry (lock held)."""
        log.info("wechat access token fetch")
        result: dict[str, Any] = self.post(
            f"{self.api_base}/cgi-bin/stable_token",
            params={"access_token": None},
            data={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
                "force_refresh": False,
            },
        )
        if not isinstance(result, dict) or not result.get("access_token"):
            raise WeChatClientException(ERR_UNAVAILABLE, "no access_token in answer")
        expires_in = int(result.get("expires_in") or 7200)
        ttl = (
            expires_in - TOKEN_EARLY_EXPIRY
            if expires_in > 2 * TOKEN_EARLY_EXPIRY
            else max(expires_in // 2, 1)
        )
        self.session.set(self.access_token_key, result["access_token"], ttl)
        return result

    def drop_token(self, token: str) -> None:
        """Forget the cached token if it is still the one that was refused."""
        self._drop_if_same(keys=[self._token_key], args=[wechatpy_json.dumps(token)])


class WechatpyWeChat:
    """The real WeChat, through wechatpy, with the token shared by every process in Redis."""

    kind: str = "wechatpy"

    def __init__(self, settings: Settings, *, busy_backoff: Sequence[float] = BUSY_BACKOFF) -> None:
        if not settings.wechat_appid or not settings.wechat_secret:
            raise ValueError("WechatpyWeChat needs wechat_appid and wechat_secret")
        if not settings.redis_url:
            raise ValueError("WechatpyWeChat needs redis_url: the access token is kept there")
        self.appid = settings.wechat_appid
        self._mp_state = settings.wechat_mp_state
        self._base = settings.wechat_api_base.rstrip("/")
        self._busy_backoff = tuple(busy_backoff)
        # wechatpy's RedisStorage is synchronous, like the rest of wechatpy.
        self._redis = redis.Redis.from_url(settings.redis_url)
        self._client = _SharedTokenClient(
            appid=settings.wechat_appid,
            secret=settings.wechat_secret,
            api_base=self._base,
            redis_client=self._redis,
            prefix=f"{settings.redis_prefix}wechat",
        )

    async def code2session(self, code: str) -> WeChatSession:
        """Exchange a wx.login() code for the openid; the session key is dropped here."""
        if not code:
            raise WeChatError(ERR_INVALID_CODE, "empty code")
        result = await self._call(
            "jscode2session", lambda _token: self._client.wxa.code_to_session(code), token=False
        )
        openid = result.get("openid")
        if not openid:
            raise WeChatError(ERR_UNAVAILABLE, "no openid in answer")
        return WeChatSession(openid=str(openid), unionid=result.get("unionid") or None)

    async def phone_number(self, code: str) -> str:
        """The purePhoneNumber a getPhoneNumber code stands for, if it was vouched for us."""
        if not code:
            raise WeChatError(ERR_INVALID_CODE, "empty code")
        result = await self._call(
            "getuserphonenumber",
            lambda token: self._client.post(
                f"{self._base}/wxa/business/getuserphonenumber",
                params={"access_token": token},
                data={"code": code},
            ),
        )
        info = result.get("phone_info") or {}
        watermark = info.get("watermark") or {}
        if watermark.get("appid") != self.appid:
            log.warning("wechat phone number refused: watermark names another appid")
            raise WeChatError(ERR_WATERMARK, "watermark")
        phone = info.get("purePhoneNumber")
        if not phone:
            raise WeChatError(ERR_UNAVAILABLE, "no purePhoneNumber in answer")
        return str(phone)

    async def check_text(self, *, content: str, openid: str, scene: int = 2) -> ContentVerdict:
        """msg_sec_check version 2; long text in parts, the worst verdict wins."""
        if scene not in SCENES:
            raise ValueError(f"scene must be one of {SCENES}")
        if not content.strip():
            return ContentVerdict("pass")
        review: ContentVerdict | None = None
        first: ContentVerdict | None = None
        for start in range(0, len(content), TEXT_CHECK_LIMIT):
            verdict = await self._check_part(
                content[start : start + TEXT_CHECK_LIMIT], openid, scene
            )
            if verdict.flagged:
                return verdict
            first = first or verdict
            if verdict.needs_review and review is None:
                review = verdict
        assert first is not None
        return review or first

    async def _check_part(self, content: str, openid: str, scene: int) -> ContentVerdict:
        body = {"content": content, "version": 2, "scene": scene, "openid": openid}
        try:
            result = await self._call(
                "msg_sec_check",
                lambda token: self._client.post(
                    f"{self._base}/wxa/msg_sec_check", params={"access_token": token}, data=body
                ),
                quiet=(ERR_RISKY_V1,),
            )
        except WeChatError as exc:
            if exc.errcode == ERR_RISKY_V1:  # version 1's way of saying risky
                return ContentVerdict("risky", LABEL_OTHER)
            raise
        verdict = result.get("result") or {}
        suggest = verdict.get("suggest")
        trace_id = result.get("trace_id") or None
        label = int(verdict.get("label") or LABEL_NORMAL)
        if suggest not in ("pass", "review", "risky"):
            # An answer we cannot read is not a pass: a clerk looks at it.
            log.warning("wechat content check answered no known suggest")
            return ContentVerdict("review", label, trace_id)
        known: Suggest = suggest
        return ContentVerdict(known, label, trace_id)

    async def send_subscribe(
        self,
        *,
        openid: str,
        template_id: str,
        page: str,
        data: Mapping[str, SubscribeValue],
    ) -> SubscribeResult:
        """Send a one-time subscribe message; 43101 (no consent left) is "no_consent"."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "miniprogram_state": self._mp_state,
            "lang": LANG,
            "data": fit_subscribe_data(data),
        }
        if page:
            body["page"] = page
        try:
            await self._call(
                "subscribe/send",
                lambda token: self._client.post(
                    f"{self._base}/cgi-bin/message/subscribe/send",
                    params={"access_token": token},
                    data=body,
                ),
                quiet=(ERR_NO_CONSENT,),
            )
        except WeChatError as exc:
            if exc.errcode == ERR_NO_CONSENT:
                log.info("wechat subscribe message skipped: no consent", template=template_id)
                return "no_consent"
            raise
        log.info("wechat subscribe message sent", template=template_id)
        return "sent"

    def close(self) -> None:
        """Close the HTTP session and the Redis connections."""
        self._client._http.close()
        self._redis.close()

    async def _call(
        self,
        name: str,
        send: Callable[[str | None], Any],
        *,
        token: bool = True,
        quiet: Collection[int] = (),
    ) -> dict[str, Any]:
        """One WeChat call under the retry policy; WeChatError when it finally fails."""
        waits = iter(self._busy_backoff)
        refreshed = False
        while True:
            try:
                return await asyncio.to_thread(self._attempt, send, token)
            except _Rejected as exc:
                code, used = exc.errcode, exc.token
                if code == ERR_BUSY and (wait := next(waits, None)) is not None:
                    log.info("wechat busy, trying again", call=name, wait_s=wait)
                    await asyncio.sleep(wait)
                    continue
                if code in TOKEN_ERRORS and used and not refreshed:
                    log.info(
                        "wechat refused the access token, fetching another", call=name, errcode=code
                    )
                    refreshed = True
                    await asyncio.to_thread(self._client.drop_token, used)
                    continue
                if code not in quiet:
                    log.warning("wechat call failed", call=name, errcode=code)
                raise WeChatError(code, exc.errmsg) from None

    def _attempt(self, send: Callable[[str | None], Any], token: bool) -> dict[str, Any]:
        """One try, in a worker thread: the token (when needed), then the call."""
        used: str | None = None
        try:
            if token:
                used = self._client.shared_token()
            result = send(used)
        except WeChatClientException as exc:
            if exc.errcode is None:  # an HTTP error status, not a WeChat answer
                status = getattr(exc.response, "status_code", "?")
                raise _Rejected(ERR_UNAVAILABLE, f"HTTP {status}", used) from None
            raise _Rejected(int(exc.errcode), str(exc.errmsg), used) from None
        except requests.RequestException as exc:
            # The exception's text holds the URL, and with it the secret or the token.
            raise _Rejected(ERR_UNAVAILABLE, type(exc).__name__, used) from None
        except redis.RedisError as exc:
            raise _Rejected(ERR_UNAVAILABLE, f"token store: {type(exc).__name__}", used) from None
        if not isinstance(result, dict):
            raise _Rejected(ERR_UNAVAILABLE, "answer is not JSON", used)
        return result
