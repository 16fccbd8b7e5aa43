"""RFC 9457 problem details: one exception type for every error a person may see."""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://yimen.example.org/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """An error answered as application/problem+json with a Chinese title and detail."""

    status: int = 400
    type_slug: str = "bad-request"
    title: str = "请求有误"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        type_slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.status = status or self.status
        self.type_slug = type_slug or self.type_slug
        self.title = title or self.title
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.detail)

    def to_dict(self, *, instance: str | None = None) -> dict[str, Any]:
        """The problem document."""
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.type_slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(Problem):
    """The request could not be understood."""

    status = 400
    type_slug = "bad-request"
    title = "请求有误"


class ValidationFailed(Problem):
    """The body or query was understood but some fields are invalid."""

    status = 422
    type_slug = "validation-failed"
    title = "填写的内容有误"


class Unauthorized(Problem):
    """No valid credentials."""

    status = 401
    type_slug = "unauthorized"
    title = "请先登录"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(Problem):
    """Authenticated, but not allowed."""

    status = 403
    type_slug = "forbidden"
    title = "没有权限"


class NotFound(Problem):
    """The thing asked for does not exist (or is not visible to this user)."""

    status = 404
    type_slug = "not-found"
    title = "找不到"


class Conflict(Problem):
    """The request conflicts with the current state."""

    status = 409
    type_slug = "conflict"
    title = "与现有数据冲突"


class TooManyRequests(Problem):
    """A rate limit was hit."""

    status = 429
    type_slug = "too-many-requests"
    title = "操作太频繁"


class ServiceUnavailable(Problem):
    """A dependency is down."""

    status = 503
    type_slug = "service-unavailable"
    title = "服务暂时不可用"
