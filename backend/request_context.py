"""The current request's id, for logs and audit rows, without passing it everywhere."""

from __future__ import annotations

import contextvars

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return _request_id.get()


def set_request_id(value: str | None) -> contextvars.Token[str | None]:
    """Set the current request id; returns a token for reset."""
    return _request_id.set(value)
