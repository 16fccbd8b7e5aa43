"""The log scrubber: no ID or phone number reaches the log, exception text included."""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sanic import Request

from backend.app import create_app
from backend.config import Settings
from backend.logs import configure_logging, get_logger

ID_NUMBER, PHONE = "330523198001011234", "13812345678"
_names = itertools.count(1)


def _fail() -> None:
    try:
        raise KeyError(f"no household for phone {PHONE}")
    except KeyError as inner:
        raise ValueError(f"person {ID_NUMBER} not found") from inner


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def assert_clean(out: str) -> None:
    """No whole ID or phone number anywhere; the masked forms are there."""
    assert ID_NUMBER not in out and PHONE not in out, out
    assert "330523********4" in out and "138****5678" in out, out


def test_exception_text_and_tracebacks_are_scrubbed(capsys: pytest.CaptureFixture) -> None:
    configure_logging(level="INFO", json=True)
    log = get_logger("yimen.test")
    try:
        _fail()
    except ValueError as exc:
        log.exception("structlog, in the except block")
        log.error("structlog, the exception passed", exc_info=exc)
        log.warning("structlog, the exception as a field", error=exc, errors=[exc])
        logging.getLogger("yimen.stdlib").exception("stdlib, in the except block")
        logging.getLogger("sanic.error").error("sanic's error log: %s", exc, exc_info=exc)
        logging.getLogger("tortoise").warning("a tuple", exc_info=(type(exc), exc, None))
        logging.getLogger("yimen.stdlib").warning("stack %s", PHONE, stack_info=True)
    out = capsys.readouterr().out
    lines = _lines(out)
    assert len(lines) == 7, out
    assert_clean(out)
    # The traceback is still there to debug with, the cause of the chain too.
    with_traceback = [entry for entry in lines if "Traceback" in entry.get("exception", "")]
    assert len(with_traceback) == 5, out
    for entry in with_traceback:
        assert "ValueError: person 330523********4 not found" in entry["exception"]
        assert "KeyError: 'no household for phone 138****5678'" in entry["exception"]


def test_other_handlers_see_the_scrubbed_traceback(capsys: pytest.CaptureFixture) -> None:
    configure_logging(level="INFO", json=True)
    seen: list[str] = []

    class Plain(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(logging.Formatter().format(record))

    # A handler added beside ours (a plain formatter) gets the record after our filter.
    root = logging.getLogger()
    plain = Plain()
    for f in root.handlers[0].filters:
        plain.addFilter(f)
    root.addHandler(plain)
    try:
        try:
            _fail()
        except ValueError:
            logging.getLogger("yimen.stdlib").exception("failed")
    finally:
        root.removeHandler(plain)
    capsys.readouterr()
    assert seen and "Traceback" in seen[0]
    assert_clean(seen[0])


async def test_an_unhandled_error_is_logged_scrubbed(
    settings: Settings, capsys: pytest.CaptureFixture
) -> None:
    app = create_app(settings, name=f"yimen_logs_{next(_names)}")

    @app.get("/boom")
    async def boom(_request: Request) -> None:
        _fail()

    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://yimen.test") as c:
            response = await c.get("/boom")
    assert response.status_code == 500
    assert ID_NUMBER not in response.text and PHONE not in response.text
    out = capsys.readouterr().out
    assert_clean(out)
    assert any("Traceback" in entry.get("exception", "") for entry in _lines(out)), out


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # Every form the API accepts for an ID number or a phone, masked by hand.
        ("330523198001011234", "330523********4"),
        ("33052319800101123X", "330523********X"),
        ("330523800101123", "330523********3"),  # the 15-digit first-generation form
        ("330523 19800101 1234", "330523********4"),
        ("330523-19800101-1234", "330523********4"),
        ("830000199001010012", "830000********2"),  # a Taiwan residents' residence permit
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("8613812345678", "86138****5678"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("0572-5123456", "0572-****3456"),
        ("path /mobile/v1/reports/8613812345678", "path /mobile/v1/reports/86138****5678"),
        # Not personal: left as they are.
        ("330523001-2026-00042", "330523001-2026-00042"),
        ("2026-12-01 19:46:25", "2026-12-01 19:46:25"),
        ("ts 1733000000123", "ts 1733000000123"),
    ],
)
def test_scrub_text_masks_every_accepted_form(text: str, masked: str) -> None:
    from backend.logs import scrub_text

    assert scrub_text(text) == masked
