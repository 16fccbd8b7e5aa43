"""A loopback stand-in for WeChat's servers, speaking their JSON protocol over real HTTP.

Tests point wechat_api_base at `base_url` and steer it through Python methods (never HTTP):
login and phone codes, words the content check flags, subscribe consents, expired tokens and
forced error answers. It checks what WeChat checks: appid and secret, the access token on
every call, codes that work once, consent per message, and the subscribe value rules.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

APPID = "wx5e1c0de0f1e2d3c4"
SECRET = "standin-secret-0123456789abcdef"
TOKEN_TTL = 7200
TOKEN_PATHS = frozenset({"/cgi-bin/token", "/cgi-bin/stable_token"})

# WeChat's subscribe value rules, written independently of backend.wechat.subscribe.
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_VALUE_RULES: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r"[^\n]{1,20}"),
    "character_string": re.compile(r"[\x21-\x7e]{1,32}"),
    "letter": re.compile(r"[A-Za-z]{1,32}"),
    "symbol": re.compile(r"[^\sA-Za-z0-9]{1,5}"),
    "number": re.compile(r"[0-9.]{1,32}"),
    "amount": re.compile(r"\D?[0-9]{1,10}(\.[0-9]+)?元?"),
    "phone_number": re.compile(r"[0-9+\-()#*]{1,17}"),
    "car_number": re.compile(r".{1,8}"),
    "name": re.compile(rf"[{_CJK}A-Za-z·]{{1,10}}|[A-Za-z .'\-]{{1,20}}"),
    "phrase": re.compile(rf"[{_CJK}]{{1,5}}"),
    "time": re.compile(r"[0-9年月日:\-/ ~]{4,40}"),
    "date": re.compile(r"[0-9年月日:\-/ ~]{4,40}"),
    "enum": re.compile(r".{1,20}"),
}
_KEY = re.compile(r"([a-z_]+)\d+")


@dataclass
class Call:
    """One request the stand-in answered."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    errcode: int


@dataclass
class _Token:
    value: str
    expires_at: float
    expired: bool = False

    def valid(self) -> bool:
        return not self.expired and time.time() < self.expires_at


@dataclass
class _State:
    login_codes: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    phone_codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    reviewed: dict[str, int] = field(default_factory=dict)
    consents: Counter[tuple[str, str]] = field(default_factory=Counter)
    tokens: dict[str, _Token] = field(default_factory=dict)
    stable: _Token | None = None
    forced: deque[tuple[int, str]] = field(default_factory=deque)
    log: list[Call] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    token_fetches: int = 0


def _error(errcode: int, errmsg: str) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": f"{errmsg} rid: standin-{secrets.token_hex(4)}"}


class WeChatStandIn:
    """WeChat's mini-program server API on 127.0.0.1, steered by tests."""

    def __init__(self, *, appid: str = APPID, secret: str = SECRET) -> None:
        self.appid = appid
        self.secret = secret
        self.token_ttl = TOKEN_TTL
        self._lock = threading.Lock()
        self._state = _State()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> WeChatStandIn:
        """Listen on a free loopback port."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        # Clients keep connections alive; shutting down must not wait for them to hang up.
        server.block_on_close = False
        server.standin = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="wechat-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def base_url(self) -> str:
        """What wechat_api_base should be."""
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def settings_overrides(self) -> dict[str, str]:
        """Settings fields that point the app at this stand-in (for Settings.with_overrides)."""
        return {
            "wechat_appid": self.appid,
            "wechat_secret": self.secret,
            "wechat_api_base": self.base_url,
        }

    def reset(self) -> None:
        """Forget every code, word, consent, token, forced answer and record."""
        with self._lock:
            self._state = _State()
            self.token_ttl = TOKEN_TTL

    # -- steering ----------------------------------------------------------------------------

    def add_login_code(self, code: str, openid: str, unionid: str | None = None) -> None:
        """A wx.login() code that jscode2session accepts once."""
        with self._lock:
            self._state.login_codes[code] = (openid, unionid)

    def add_phone_code(self, code: str, phone: str, appid: str | None = None) -> None:
        """A getPhoneNumber code, accepted once; appid is the watermark's (default ours)."""
        with self._lock:
            self._state.phone_codes[code] = (phone, appid or self.appid)

    def flag(self, word: str, label: int = 20006) -> None:
        """Text containing word is risky (label as given)."""
        with self._lock:
            self._state.flagged[word] = label

    def review(self, word: str, label: int = 21000) -> None:
        """Text containing word is review."""
        with self._lock:
            self._state.reviewed[word] = label

    def grant_consent(self, openid: str, template_id: str, count: int = 1) -> None:
        """The user accepted the template count more times (each send uses one)."""
        with self._lock:
            self._state.consents[(openid, template_id)] += count

    def consents_left(self, openid: str, template_id: str) -> int:
        """How many sends of the template the user still allows."""
        with self._lock:
            return self._state.consents[(openid, template_id)]

    def expire_tokens(self) -> None:
        """Every token handed out so far answers 42001 from now on."""
        with self._lock:
            for token in self._state.tokens.values():
                token.expired = True

    def busy_next(self, n: int = 1) -> None:
        """The next n API calls (not token fetches) answer -1, system busy."""
        with self._lock:
            self._state.forced.extend([(-1, "system error")] * n)

    def reject_next(self, errcode: int, errmsg: str = "rejected by the stand-in") -> None:
        """The next API call (not a token fetch) answers errcode."""
        with self._lock:
            self._state.forced.append((errcode, errmsg))

    # -- records -----------------------------------------------------------------------------

    @property
    def calls(self) -> list[str]:
        """The paths asked for, in order (token fetches included)."""
        with self._lock:
            return [c.path for c in self._state.log]

    @property
    def log(self) -> list[Call]:
        """Every request with its query, body and the errcode answered."""
        with self._lock:
            return list(self._state.log)

    @property
    def sent(self) -> list[dict[str, Any]]:
        """The subscribe messages accepted (their request bodies)."""
        with self._lock:
            return list(self._state.sent)

    @property
    def token_fetches(self) -> int:
        """How many times a token was handed out."""
        with self._lock:
            return self._state.token_fetches

    # -- the protocol ------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any]:
        """WeChat's answer to one request (called by the HTTP handler)."""
        with self._lock:
            result = self._answer(method, path, query, body)
            errcode = int(result.get("errcode", 0))
            self._state.log.append(Call(method, path, query, body, errcode))
            return result

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any]:
        routes = {
            ("GET", "/cgi-bin/token"): self._token,
            ("POST", "/cgi-bin/stable_token"): self._stable_token,
            ("GET", "/sns/jscode2session"): self._jscode2session,
            ("POST", "/wxa/business/getuserphonenumber"): self._phone,
            ("POST", "/wxa/msg_sec_check"): self._msg_sec_check,
            ("POST", "/cgi-bin/message/subscribe/send"): self._subscribe_send,
        }
        handler = routes.get((method, path))
        if handler is None:
            return _error(40066, "invalid url")
        if path not in TOKEN_PATHS and self._state.forced:
            errcode, errmsg = self._state.forced.popleft()
            return _error(errcode, errmsg)
        if path not in TOKEN_PATHS and path != "/sns/jscode2session":
            refused = self._check_token(query.get("access_token", ""))
            if refused is not None:
                return refused
        return handler(query, body)

    def _check_credentials(self, appid: Any, secret: Any) -> dict[str, Any] | None:
        if appid != self.appid:
            return _error(40013, "invalid appid")
        if secret != self.secret:
            return _error(40125, "invalid appsecret")
        return None

    def _check_token(self, value: str) -> dict[str, Any] | None:
        if not value:
            return _error(41001, "access_token missing")
        token = self._state.tokens.get(value)
        if token is None:
            return _error(40014, "invalid access_token")
        if not token.valid():
            return _error(42001, "access_token expired")
        return None

    def _issue(self) -> _Token:
        token = _Token(f"ACCESS_TOKEN_{next(self._ids)}_{secrets.token_hex(8)}", 0.0)
        token.expires_at = time.time() + self.token_ttl
        self._state.tokens[token.value] = token
        self._state.token_fetches += 1
        return token

    def _token_answer(self, token: _Token) -> dict[str, Any]:
        return {
            "access_token": token.value,
            "expires_in": max(int(token.expires_at - time.time()), 1),
        }

    def _token(self, query: dict[str, str], _body: dict[str, Any]) -> dict[str, Any]:
        if query.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        refused = self._check_credentials(query.get("appid"), query.get("secret"))
        return refused or self._token_answer(self._issue())

    def _stable_token(self, _query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        refused = self._check_credentials(body.get("appid"), body.get("secret"))
        if refused:
            return refused
        stable = self._state.stable
        if body.get("force_refresh") or stable is None or not stable.valid():
            if stable is not None:
                stable.expired = True
            stable = self._state.stable = self._issue()
        else:
            # Normal mode: the same token while it is valid (still a fetch the caller made).
            self._state.token_fetches += 1
        return self._token_answer(stable)

    def _jscode2session(self, query: dict[str, str], _body: dict[str, Any]) -> dict[str, Any]:
        if query.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        refused = self._check_credentials(query.get("appid"), query.get("secret"))
        if refused:
            return refused
        login = self._state.login_codes.pop(query.get("js_code", ""), None)
        if login is None:
            return _error(40029, "invalid code")
        openid, unionid = login
        answer = {"openid": openid, "session_key": secrets.token_urlsafe(16)}
        if unionid:
            answer["unionid"] = unionid
        return answer

    def _phone(self, _query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        entry = self._state.phone_codes.pop(str(body.get("code", "")), None)
        if entry is None:
            return _error(40029, "invalid code")
        phone, appid = entry
        return {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": f"+86 {phone}",
                "purePhoneNumber": phone,
                "countryCode": "86",
                "watermark": {"timestamp": int(time.time()), "appid": appid},
            },
        }

    def _msg_sec_check(self, _query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        content = body.get("content")
        if not isinstance(content, str) or not content or len(content) > 2500:
            return _error(40097, "invalid args: content")
        suggest, label, keyword = "pass", 100, ""
        for word, word_label in self._state.flagged.items():
            if word in content:
                suggest, label, keyword = "risky", word_label, word
                break
        else:
            for word, word_label in self._state.reviewed.items():
                if word in content:
                    suggest, label, keyword = "review", word_label, word
                    break
        if body.get("version") != 2:
            # Version 1: flagged text is an error, everything else plain ok.
            return _error(87014, "risky content") if suggest == "risky" else {"errcode": 0}
        if not body.get("openid"):
            return _error(40003, "invalid openid")
        if body.get("scene") not in (1, 2, 3, 4):
            return _error(40097, "invalid args: scene")
        trace_id = f"trace-{secrets.token_hex(8)}"
        return {
            "errcode": 0,
            "errmsg": "ok",
            "result": {"suggest": suggest, "label": label},
            "detail": [
                {
                    "strategy": "content_model",
                    "errcode": 0,
                    "suggest": suggest,
                    "label": label,
                    "prob": 90 if suggest != "pass" else 0,
                    "keyword": keyword,
                }
            ],
            "trace_id": trace_id,
        }

    def _subscribe_send(self, _query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        openid, template_id = body.get("touser"), body.get("template_id")
        if not openid or not isinstance(openid, str):
            return _error(40003, "invalid openid")
        if not template_id or not isinstance(template_id, str):
            return _error(40037, "invalid template_id")
        if body.get("miniprogram_state", "formal") not in ("formal", "trial", "developer"):
            return _error(47003, "argument invalid! miniprogram_state invalid")
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return _error(47003, "argument invalid! data is empty")
        for key, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(value, str) or not value:
                return _error(47003, f"argument invalid! data.{key}.value is empty")
            match = _KEY.fullmatch(key)
            rule = _VALUE_RULES.get(match.group(1)) if match else None
            if rule is None or not rule.fullmatch(value):
                return _error(47003, f"argument invalid! data.{key}.value invalid")
        if self._state.consents[(openid, template_id)] <= 0:
            return _error(43101, "user refuse to accept the msg")
        self._state.consents[(openid, template_id)] -= 1
        self._state.sent.append(body)
        return {"errcode": 0, "errmsg": "ok"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An idle kept-alive connection is closed after this long.
    timeout = 60

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            body = None
        standin: WeChatStandIn = self.server.standin  # type: ignore[attr-defined]
        if not isinstance(body, dict):
            answer = _error(47001, "data format error")
        else:
            answer = standin.answer(method, url.path, query, body)
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        # WeChat answers HTTP 200 with the error in the body.
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: test output stays readable (and URLs carry secrets)."""
