"""What a user may do with an application: decided here, asked by the service and the faces.

application_actions(principal, application) is the one answer, from the caller's role, their
jurisdiction and the application's state. The cases service refuses anything not in it
(ensure_application_action), and the console shows only the buttons in it.

    accept              window clerk, township head (admin): received or materials requested
    request_materials   window clerk, township head (admin): received
    extend              township head (admin): accepted, not extended before, limit not passed
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from backend.accounts.authz import Principal, covers, ensure_jurisdiction, ensure_role
from backend.accounts.models import Role, UserKind
from backend.cases.labels import STATUS_LABELS
from backend.cases.models import Application, ApplicationStatus
from backend.errors import Conflict


class ApplicationAction(StrEnum):
    """Everything a user may do with an application."""

    ACCEPT = "accept"
    REQUEST_MATERIALS = "request_materials"
    EXTEND = "extend"


# Who acts on an application at the window (admin always may).
WINDOW_ROLES = frozenset({Role.WINDOW_CLERK, Role.TOWNSHIP_HEAD})
ROLES: dict[ApplicationAction, frozenset[Role]] = {
    ApplicationAction.ACCEPT: WINDOW_ROLES,
    ApplicationAction.REQUEST_MATERIALS: WINDOW_ROLES,
    ApplicationAction.EXTEND: frozenset({Role.TOWNSHIP_HEAD}),
}
# The states each action starts from.
FROM_STATES: dict[ApplicationAction, frozenset[ApplicationStatus]] = {
    ApplicationAction.ACCEPT: frozenset(
        {ApplicationStatus.RECEIVED, ApplicationStatus.MATERIALS_REQUESTED}
    ),
    ApplicationAction.REQUEST_MATERIALS: frozenset({ApplicationStatus.RECEIVED}),
    ApplicationAction.EXTEND: frozenset({ApplicationStatus.ACCEPTED}),
}
# Staff who may act at all on some application (the console's doors for the POST routes).
ACTING_ROLES = frozenset().union(*ROLES.values())


def _holds_role(principal: Principal, action: ApplicationAction) -> bool:
    if principal.kind != UserKind.STAFF or principal.role is None:
        return False
    return principal.role == Role.ADMIN or principal.role in ROLES[action]


def application_actions(
    principal: Principal, application: Application
) -> frozenset[ApplicationAction]:
    """What this caller may do with this application now."""
    if not covers(principal, application.township_code):
        return frozenset()
    return frozenset(
        action
        for action in ApplicationAction
        if _holds_role(principal, action)
        and application.status in FROM_STATES[action]
        and not (action == ApplicationAction.EXTEND and not _extendable(application))
    )


def _extendable(application: Application) -> bool:
    """Once, while the 30-day limit still runs (the law extends it within the period)."""
    due = application.decision_due_at
    return (
        application.extended_at is None
        and application.accepted_at is not None
        and due is not None
        and datetime.now(UTC) <= due
    )


def ensure_may(principal: Principal, action: ApplicationAction) -> None:
    """403 unless the caller's role may take this action on some application."""
    ensure_role(principal, ROLES[action])


def ensure_application_action(
    principal: Principal, application: Application, action: ApplicationAction
) -> None:
    """Refuse unless action is in application_actions(principal, application).

    The refusal says why: 403 for the role, 404 outside the jurisdiction (the application
    does not exist for the caller), 409 for a state the action does not start from.
    """
    if action in application_actions(principal, application):
        return
    ensure_may(principal, action)
    ensure_jurisdiction(principal, application.township_code, hide=True)
    if action == ApplicationAction.EXTEND and application.status in FROM_STATES[action]:
        if application.extended_at is not None:
            raise Conflict("审核期限只能延长一次，已经延长过", type_slug="already-extended")
        if application.decision_due_at is None or application.accepted_at is None:
            raise Conflict("该申请没有审核期限，不能延长", type_slug="no-deadline")
        raise Conflict(
            "审核期限已过，不能再延长；请尽快作出决定，超期情况已报县级",
            type_slug="deadline-passed",
        )
    raise Conflict(
        f"该申请当前为“{STATUS_LABELS[application.status]}”，不能进行此操作",
        type_slug="invalid-state",
    )
