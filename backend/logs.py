"""Structured JSON logs with request ids, and a scrubber that keeps personal data out."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

# Mainland ID numbers (18 or 15 digits, last may be X) and mobile numbers. Logs never need them;
# anything that slipped into an event is masked before it is written.
# ID numbers as the API accepts them: 18 or 15 digits, or the groups 6-8-4 / 6-6-3 written with
# spaces or dashes between them ("330523 19900101 1238").
_ID_RE = re.compile(
    r"(?<![\dA-Za-z])(\d{6})(?:[ -]?\d{8}[ -]?\d{3}|\d{8,11}|[ -]\d{6}[ -]\d{2})([\dXx])(?![\d])"
)
# Mobile numbers with or without +86 / 0086 / 86 and with spaces or dashes in the usual places
# ("+86 138 0013 8000", "138-0013-8000"); landlines with their area code ("0572-5123456").
_PHONE_RE = re.compile(r"(?<!\d)((?:(?:\+|00)?86[ -]?)?1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3}[ -])\d{3,4}(\d{4})(?!\d)")
_SENSITIVE_KEYS = frozenset(
    {
        "password",
        "id_number",
        "phone",
        "token",
        "access_token",
        "refresh_token",
        "authorization",
        "secret",
        "session_key",
        "code",
    }
)


def scrub_text(text: str) -> str:
    """Mask ID numbers and phone numbers inside free text."""
    text = _ID_RE.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    return _LANDLINE_RE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def _scrub(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in _SENSITIVE_KEYS:
        return "[redacted]"
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # An exception or any other object: the renderer would write its repr, unscrubbed.
    return scrub_text(repr(value))


def scrub_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask personal data in every field of an event."""
    for key in list(event_dict):
        event_dict[key] = _scrub(event_dict[key], key if key != "event" else None)
    return event_dict


_TRACEBACKS = logging.Formatter()


class _ScrubFilter(logging.Filter):
    """Mask personal data in stdlib records (sanic, tortoise) too."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            return True  # a structlog event, already scrubbed by scrub_processor
        if record.args:
            try:
                record.msg = record.getMessage()
            except (TypeError, ValueError):
                record.msg = str(record.msg)
            record.args = None
        record.msg = scrub_text(str(record.msg))
        # Any other formatter (a plain logging.Formatter) uses exc_text when it is set: give it
        # the scrubbed traceback. Ours formats exc_info itself and scrubs the result.
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = scrub_text(_TRACEBACKS.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info)
        return True


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stdout is now (test capture, a redirected stream)."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    """Route structlog and stdlib logging to stdout as JSON lines."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # exc_info becomes the traceback text (the whole chain) before the scrubber reads it.
        structlog.processors.format_exc_info,
        scrub_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    handler.addFilter(_ScrubFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Sanic's own access log repeats ours without the request id.
    for name in ("sanic.access",):
        logging.getLogger(name).disabled = True
    for name in ("sanic.root", "sanic.error", "sanic.server", "tortoise", "asyncio"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True
    # urllib3 (under wechatpy) logs whole request URLs at DEBUG, and jscode2session carries the
    # AppSecret in its query string: never below INFO, whatever the root level.
    logging.getLogger("urllib3").setLevel(max(logging.INFO, logging.getLevelName(level)))


def get_logger(name: str) -> Any:
    """A structlog logger."""
    return structlog.get_logger(name)
