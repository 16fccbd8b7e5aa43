"""The running app's context, typed: what the composition root builds and the faces read.

It sits between the faces and the domain: it names the domain's services the faces are given,
and no domain package imports it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

from sanic import Request
from taskiq import AsyncBroker

from backend.accounts.service import LoginService
from backend.accounts.tokens import TokenStore
from backend.cases.service import DecisionClock
from backend.geo.routing import RoutingIndex
from backend.intake.service import IntakePolicy, Routed
from backend.kicks import Kicker
from backend.web.context import WebContext
from backend.wechat.base import WeChat


@dataclass
class AppContext(WebContext):
    """`app.ctx`. Fields without a value at construction are opened in before_server_start."""

    intake_policy: IntakePolicy = field(kw_only=True)
    decision_clock: DecisionClock = field(kw_only=True)
    tokens: TokenStore = field(init=False)
    login: LoginService = field(init=False)
    broker: AsyncBroker = field(init=False)
    routing: RoutingIndex = field(init=False)
    wechat: WeChat = field(init=False)
    route_lead: Callable[..., Awaitable[Routed]] = field(init=False)
    kicker: Kicker = field(init=False)


def app_context(request: Request) -> AppContext:
    """This request's app context."""
    return cast(AppContext, request.app.ctx)
