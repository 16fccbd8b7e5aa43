"""problem+json: every error, ours or Sanic's, leaves as RFC 9457 with a Chinese message."""

from __future__ import annotations

from sanic import Request
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse, json

from backend.errors import PROBLEM_CONTENT_TYPE, Problem
from backend.logs import get_logger

log = get_logger("yimen.http")

_STATUS_TITLES = {
    400: ("bad-request", "请求有误", "请求无法处理，请检查后重试"),
    401: ("unauthorized", "请先登录", "请先登录"),
    403: ("forbidden", "没有权限", "您没有进行此操作的权限"),
    404: ("not-found", "找不到", "找不到该地址"),
    405: ("method-not-allowed", "不支持该操作", "该地址不支持此请求方法"),
    408: ("request-timeout", "请求超时", "请求超时，请检查网络后重试"),
    413: ("payload-too-large", "内容太大", "提交的内容太大"),
    415: ("unsupported-media-type", "不支持的内容类型", "不支持该内容类型"),
    429: ("too-many-requests", "操作太频繁", "操作太频繁，请稍后再试"),
    503: ("service-unavailable", "服务暂时不可用", "服务暂时不可用，请稍后再试"),
}


def problem_response(problem: Problem, request: Request | None = None) -> HTTPResponse:
    """Render a Problem as application/problem+json."""
    body = problem.to_dict(instance=request.path if request else None)
    if request is not None and getattr(request.ctx, "request_id", None):
        body["request_id"] = request.ctx.request_id
    headers = dict(problem.headers)
    return json(
        body,
        status=problem.status,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
        ensure_ascii=False,
    )


class ProblemErrorHandler(ErrorHandler):
    """Every error, ours or Sanic's, leaves as problem+json with a Chinese message."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        """Render the exception."""
        if isinstance(exception, Problem):
            return problem_response(exception, request)
        if isinstance(exception, SanicException):
            status = int(getattr(exception, "status_code", 500) or 500)
            slug, title, detail = _STATUS_TITLES.get(status, ("error", "请求失败", "请求失败"))
            headers = dict(getattr(exception, "headers", {}) or {})
            return problem_response(
                Problem(detail, status=status, type_slug=slug, title=title, headers=headers),
                request,
            )
        log.exception("unhandled error", exc_info=exception)
        return problem_response(
            Problem(
                "服务器出了点问题，已记录，请稍后再试",
                status=500,
                type_slug="internal-error",
                title="服务器内部错误",
            ),
            request,
        )
