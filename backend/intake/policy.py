"""What a user may do with a lead (or an application): decided here, and only here.

lead_actions(principal, lead) is the one answer, from four things: the caller's kind and role,
their jurisdiction (covers), the lead's state, and ownership (the grid worker who reported it,
the investigator it is assigned to). The triage service refuses any action not in the set
(ensure_lead_action), the console shows only the buttons in it, and the phone asks it too.
allowed_actions(principal, record) answers for a lead or an application alike.

    acknowledge          clerk, township head                  received
    assign               clerk, township head                  open
    home_visit           clerk, township head                  open
    merge                clerk, township head                  open
    convert              clerk, township head                  open
    refer                clerk, township head                  open
    close                clerk, township head                  open
    transfer             clerk, township head, county approver received, acknowledged
    transfer_any_county  county approver                       received, acknowledged
    reveal               clerk, township head, county approver any state
    record_visit         clerk, township head; the investigator it is assigned to;
                         the reporting grid worker while a visit is asked for
                                                               acknowledged, referred

Staff act only within their jurisdiction; admin holds every staff role. Supervisors and
department officers read (or answer referrals) but take no action on a lead; residents none.
What an action also needs from its input (an investigator of the township, a merge target,
a department of the county) the service checks when it is asked.
"""

from __future__ import annotations

from enum import StrEnum
from typing import overload

from backend.accounts.authz import Principal, covers, ensure_jurisdiction, ensure_role
from backend.accounts.models import Role, UserKind
from backend.cases.models import Application
from backend.cases.policy import ApplicationAction, application_actions
from backend.errors import Conflict, Forbidden, NotFound
from backend.intake.labels import STATUS_LABELS
from backend.intake.models import OPEN_STATUSES, Lead, LeadStatus


class LeadAction(StrEnum):
    """Everything a user may do with a lead."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    HOME_VISIT = "home_visit"
    MERGE = "merge"
    CONVERT = "convert"
    REFER = "refer"
    TRANSFER = "transfer"
    # A transfer to a township of another county (民政 decides at county level).
    TRANSFER_ANY_COUNTY = "transfer_any_county"
    CLOSE = "close"
    REVEAL = "reveal"
    RECORD_VISIT = "record_visit"


WINDOW_ROLES = frozenset({Role.WINDOW_CLERK, Role.TOWNSHIP_HEAD})
# The staff roles that may take each action (admin always may).
ROLES: dict[LeadAction, frozenset[Role]] = {
    LeadAction.ACKNOWLEDGE: WINDOW_ROLES,
    LeadAction.ASSIGN: WINDOW_ROLES,
    LeadAction.HOME_VISIT: WINDOW_ROLES,
    LeadAction.MERGE: WINDOW_ROLES,
    LeadAction.CONVERT: WINDOW_ROLES,
    LeadAction.REFER: WINDOW_ROLES,
    LeadAction.CLOSE: WINDOW_ROLES,
    # A window sends within its county; across counties only the county approver.
    LeadAction.TRANSFER: WINDOW_ROLES | {Role.COUNTY_APPROVER},
    LeadAction.TRANSFER_ANY_COUNTY: frozenset({Role.COUNTY_APPROVER}),
    # Seeing a subject's phone and ID number in full (each time written to the audit trail).
    LeadAction.REVEAL: WINDOW_ROLES | {Role.COUNTY_APPROVER},
    # The investigator only for a lead assigned to them (see _owns).
    LeadAction.RECORD_VISIT: WINDOW_ROLES | {Role.INVESTIGATOR},
}
TRANSFERABLE = frozenset({LeadStatus.RECEIVED, LeadStatus.ACKNOWLEDGED})
# The states each action starts from.
FROM_STATES: dict[LeadAction, frozenset[LeadStatus]] = {
    LeadAction.ACKNOWLEDGE: frozenset({LeadStatus.RECEIVED}),
    LeadAction.ASSIGN: OPEN_STATUSES,
    LeadAction.HOME_VISIT: OPEN_STATUSES,
    LeadAction.MERGE: OPEN_STATUSES,
    LeadAction.CONVERT: OPEN_STATUSES,
    LeadAction.REFER: OPEN_STATUSES,
    LeadAction.CLOSE: OPEN_STATUSES,
    LeadAction.TRANSFER: TRANSFERABLE,
    LeadAction.TRANSFER_ANY_COUNTY: TRANSFERABLE,
    LeadAction.REVEAL: frozenset(LeadStatus),
    LeadAction.RECORD_VISIT: frozenset({LeadStatus.ACKNOWLEDGED, LeadStatus.REFERRED}),
}
# How a refusal for the lead's state names the action ("不能{…}").
DOING: dict[LeadAction, str] = {
    LeadAction.ACKNOWLEDGE: "受理",
    LeadAction.ASSIGN: "指派调查员",
    LeadAction.HOME_VISIT: "请求入户走访",
    LeadAction.MERGE: "合并",
    LeadAction.CONVERT: "转为申请",
    LeadAction.REFER: "转办",
    LeadAction.CLOSE: "办结",
    LeadAction.TRANSFER: "转交其他乡镇（街道）",
    LeadAction.TRANSFER_ANY_COUNTY: "转交其他乡镇（街道）",
    LeadAction.REVEAL: "查看",
    LeadAction.RECORD_VISIT: "记录入户走访",
}
NOT_ASSIGNED = "该线索没有指派给您"
NO_VISIT = "该线索没有待完成的入户走访"


def roles_for(actions: frozenset[LeadAction] | set[LeadAction]) -> frozenset[Role]:
    """The staff roles that may take at least one of these actions (a page's door)."""
    return frozenset().union(*(ROLES[a] for a in actions))


def where(lead: Lead) -> str:
    """The division a lead belongs to: its township, or its county while unrouted."""
    return lead.township_code or lead.county_code


def visit_open(lead: Lead) -> bool:
    """A home visit was asked for and not yet recorded."""
    return lead.home_visit_requested_at is not None and lead.home_visit_done_at is None


def _holds_role(principal: Principal, action: LeadAction) -> bool:
    if principal.kind != UserKind.STAFF or principal.role is None:
        return False
    return principal.role == Role.ADMIN or principal.role in ROLES[action]


def _owns(principal: Principal, lead: Lead, action: LeadAction) -> bool:
    if action == LeadAction.RECORD_VISIT and principal.role == Role.INVESTIGATOR:
        return bool(lead.assigned_to_id == principal.user_id)
    return True


def _actor_may(principal: Principal, lead: Lead, action: LeadAction) -> bool:
    """The caller (kind, role, jurisdiction, ownership) may take this action on this lead."""
    if principal.kind == UserKind.GRID_WORKER:
        # The worker who reported it, while the window waits for their home visit.
        return (
            action == LeadAction.RECORD_VISIT
            and lead.reporter_id == principal.user_id
            and visit_open(lead)
        )
    return (
        _holds_role(principal, action)
        and covers(principal, where(lead))
        and _owns(principal, lead, action)
    )


def lead_actions(principal: Principal, lead: Lead) -> frozenset[LeadAction]:
    """What this caller may do with this lead now."""
    return frozenset(
        action
        for action in LeadAction
        if lead.status in FROM_STATES[action] and _actor_may(principal, lead, action)
    )


@overload
def allowed_actions(principal: Principal, record: Lead) -> frozenset[LeadAction]: ...
@overload
def allowed_actions(principal: Principal, record: Application) -> frozenset[ApplicationAction]: ...
def allowed_actions(
    principal: Principal, record: Lead | Application
) -> frozenset[LeadAction] | frozenset[ApplicationAction]:
    """What this caller may do with this lead or application now."""
    if isinstance(record, Lead):
        return lead_actions(principal, record)
    return application_actions(principal, record)


def ensure_may(principal: Principal, action: LeadAction) -> None:
    """403 unless the caller is staff whose role may take this action on some lead.

    Asked before a lead is read, so a role that may never act learns nothing about it.
    """
    ensure_role(principal, ROLES[action])


def ensure_actor(principal: Principal, lead: Lead, action: LeadAction) -> None:
    """Refuse unless the caller may take this action on this lead, its state aside.

    404 where the lead is not the caller's to know of (another jurisdiction, another worker's
    report), 403 for a role or an investigator it is not assigned to, 409 for a grid worker
    with no visit asked of them.
    """
    if _actor_may(principal, lead, action):
        return
    if principal.kind == UserKind.GRID_WORKER and action == LeadAction.RECORD_VISIT:
        if lead.reporter_id != principal.user_id:
            raise NotFound("找不到该线索")
        raise Conflict(NO_VISIT, type_slug="invalid-state")
    ensure_may(principal, action)
    ensure_jurisdiction(principal, where(lead), hide=True)
    if not _owns(principal, lead, action):
        raise Forbidden(NOT_ASSIGNED)
    raise Forbidden("您的岗位没有此操作的权限")


def ensure_lead_action(principal: Principal, lead: Lead, action: LeadAction) -> None:
    """Refuse unless action is in lead_actions(principal, lead) (409 for the lead's state)."""
    if action in lead_actions(principal, lead):
        return
    ensure_actor(principal, lead, action)
    label = STATUS_LABELS.get(lead.status, lead.status)
    raise Conflict(
        f"该线索当前为“{label}”，不能{DOING[action]}",
        type_slug="invalid-state",
        status_value=lead.status.value,
    )
