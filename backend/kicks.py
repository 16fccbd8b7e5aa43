"""After-commit kicks: a service that has committed work for a task queues it at once.

The running app sets its Kicker for each request (backend.app); a service calls
`await photo_stored(photo_id)` or `await notices_queued()` after its transaction has committed,
so no face has to remember. Without a kicker (the CLI, the worker, tests without an app) a kick
does nothing, and a failing kick only logs: the worker's sweep queues what was missed.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token
from typing import Protocol

from backend.logs import get_logger

log = get_logger("yimen.kicks")


class Kicker(Protocol):
    """What queues the tasks: the app builds one from its task broker."""

    async def photo(self, photo_id: uuid.UUID) -> None:
        """Queue the processing of a stored photo."""

    async def notices(self) -> None:
        """Queue the sending of the status messages just written."""


_current: ContextVar[Kicker | None] = ContextVar("yimen_kicker", default=None)


def use_kicker(kicker: Kicker | None) -> Token[Kicker | None]:
    """Kick through this kicker in the current context (a request); reset with the token."""
    return _current.set(kicker)


def reset_kicker(token: Token[Kicker | None]) -> None:
    """Back to the kicker before use_kicker (none, outside a request)."""
    _current.reset(token)


def current_kicker() -> Kicker | None:
    """The kicker of the current context, if any."""
    return _current.get()


async def photo_stored(photo_id: uuid.UUID) -> None:
    """A photo's row has committed: queue its processing now, not at the next sweep."""
    kicker = _current.get()
    if kicker is None:
        return
    try:
        await kicker.photo(photo_id)
    except Exception as exc:  # the sweep re-queues it: the photo is not lost
        log.warning("could not queue photo", photo_id=str(photo_id), error=str(exc))


async def notices_queued() -> None:
    """Status messages may have committed: send them now, not at the next sweep."""
    kicker = _current.get()
    if kicker is None:
        return
    try:
        await kicker.notices()
    except Exception as exc:  # the sweep sends them
        log.warning("could not queue status messages", error=str(exc))
