"""allowed_actions: what each role may do with a lead or an application, and that it holds.

The expected sets are written out by hand from the duties of each role (see the table in
backend/intake/policy.py's docstring), never computed with the policy itself:

- window clerk and township head run the window: acknowledge a received lead; assign, ask
  for a home visit, merge, convert, refer and close any open one; transfer a lead not yet
  referred within the county; see the subject's phone and ID number; record a visit on an
  acknowledged or referred lead.
- admin may do all a staff role may, inside its jurisdiction.
- the county approver transfers (also to another county) and may see the full numbers.
- the investigator records the visit of a lead assigned to them, nothing else.
- supervisor and department officer take no action on a lead.
- the grid worker records the visit asked of them on a lead they reported; residents nothing.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from backend.accounts.authz import Principal
from backend.accounts.models import Role, UserKind
from backend.accounts.service import load_principal
from backend.cases import service as cases_service
from backend.cases.models import Application, ApplicationStatus
from backend.cases.service import DecisionClock
from backend.errors import Conflict, Forbidden, NotFound
from backend.intake import triage
from backend.intake.models import Lead, LeadSource, LeadStatus
from backend.intake.policy import allowed_actions
from backend.workdays import WorkCalendar
from tests.console import conftest as console_fixtures
from tests.console.conftest import signed_in
from tests.factories import make_user
from tests.intake.conftest import DIPU_VILLAGES, Points, gcj, mobile_login, report_body

DIPU = "330523001"  # 递铺街道, 安吉县 330523
CHANGSHUO = "330523002"  # another township of the same county
OTHER_COUNTY = "330522001"  # a township of 长兴县
# The console as a browser (https, cookies), from the console's fixtures.
console = console_fixtures.console
ME = uuid.uuid4()
SOMEONE = uuid.uuid4()

RECEIVED, ACKNOWLEDGED, REFERRED = "received", "acknowledged", "referred"
CONVERTED, MERGED, CLOSED = "converted", "merged", "closed"
STATUSES = (RECEIVED, ACKNOWLEDGED, REFERRED, CONVERTED, MERGED, CLOSED)
NOTHING: dict[str, set[str]] = {s: set() for s in STATUSES}

WINDOW: dict[str, set[str]] = {
    RECEIVED: {
        "acknowledge",
        "assign",
        "home_visit",
        "merge",
        "convert",
        "refer",
        "close",
        "transfer",
        "reveal",
    },
    ACKNOWLEDGED: {
        "assign",
        "home_visit",
        "merge",
        "convert",
        "refer",
        "close",
        "transfer",
        "reveal",
        "record_visit",
    },
    REFERRED: {
        "assign",
        "home_visit",
        "merge",
        "convert",
        "refer",
        "close",
        "reveal",
        "record_visit",
    },
    CONVERTED: {"reveal"},
    MERGED: {"reveal"},
    CLOSED: {"reveal"},
}
ADMIN: dict[str, set[str]] = {
    RECEIVED: {
        "acknowledge",
        "assign",
        "home_visit",
        "merge",
        "convert",
        "refer",
        "close",
        "transfer",
        "transfer_any_county",
        "reveal",
    },
    ACKNOWLEDGED: {
        "assign",
        "home_visit",
        "merge",
        "convert",
        "refer",
        "close",
        "transfer",
        "transfer_any_county",
        "reveal",
        "record_visit",
    },
    REFERRED: {
        "assign",
        "home_visit",
        "merge",
        "convert",
        "refer",
        "close",
        "reveal",
        "record_visit",
    },
    CONVERTED: {"reveal"},
    MERGED: {"reveal"},
    CLOSED: {"reveal"},
}
COUNTY_APPROVER: dict[str, set[str]] = {
    RECEIVED: {"transfer", "transfer_any_county", "reveal"},
    ACKNOWLEDGED: {"transfer", "transfer_any_county", "reveal"},
    REFERRED: {"reveal"},
    CONVERTED: {"reveal"},
    MERGED: {"reveal"},
    CLOSED: {"reveal"},
}
VISIT_ONLY: dict[str, set[str]] = {
    RECEIVED: set(),
    ACKNOWLEDGED: {"record_visit"},
    REFERRED: {"record_visit"},
    CONVERTED: set(),
    MERGED: set(),
    CLOSED: set(),
}

CLOCK = DecisionClock(calendar=WorkCalendar())


def staff(role: Role, jurisdiction: str) -> Principal:
    return Principal(
        user_id=ME, kind=UserKind.STAFF, display_name="x", role=role, jurisdiction=jurisdiction
    )


GRID_WORKER = Principal(
    user_id=ME,
    kind=UserKind.GRID_WORKER,
    display_name="x",
    jurisdiction=DIPU,
    villages=frozenset(DIPU_VILLAGES),
)
RESIDENT = Principal(user_id=ME, kind=UserKind.RESIDENT, display_name="x")


def lead(
    status: str,
    township: str | None = DIPU,
    *,
    county: str | None = None,
    reporter: uuid.UUID = SOMEONE,
    assigned: uuid.UUID | None = None,
    visit_asked: bool = False,
    source: LeadSource = LeadSource.GRID_WORKER,
) -> Lead:
    """An unsaved lead: the policy reads its fields, never the database."""
    return Lead(
        id=uuid.uuid4(),
        number="X",
        status=LeadStatus(status),
        source=source,
        township_code=township,
        county_code=county or (township or "")[:6],
        reporter_id=reporter,
        assigned_to_id=assigned,
        home_visit_requested_at=datetime.now(UTC) if visit_asked else None,
        home_visit_done_at=None,
    )


def actions(principal: Principal, record: Lead | Application) -> set[str]:
    return {str(a) for a in allowed_actions(principal, record)}


# (who, where the lead is, expected per status) for every role inside and outside.
CASES: list[tuple[str, Principal, str | None, str, dict[str, set[str]]]] = [
    ("clerk", staff(Role.WINDOW_CLERK, DIPU), DIPU, "330523", WINDOW),
    ("clerk, other township", staff(Role.WINDOW_CLERK, DIPU), CHANGSHUO, "330523", NOTHING),
    ("clerk, unrouted county lead", staff(Role.WINDOW_CLERK, DIPU), None, "330523", NOTHING),
    ("township head", staff(Role.TOWNSHIP_HEAD, DIPU), DIPU, "330523", WINDOW),
    ("head, other township", staff(Role.TOWNSHIP_HEAD, DIPU), CHANGSHUO, "330523", NOTHING),
    ("county approver", staff(Role.COUNTY_APPROVER, "330523"), DIPU, "330523", COUNTY_APPROVER),
    (
        "county approver, unrouted",
        staff(Role.COUNTY_APPROVER, "330523"),
        None,
        "330523",
        COUNTY_APPROVER,
    ),
    (
        "county approver, other county",
        staff(Role.COUNTY_APPROVER, "330523"),
        OTHER_COUNTY,
        "330522",
        NOTHING,
    ),
    ("supervisor", staff(Role.SUPERVISOR, "330523"), DIPU, "330523", NOTHING),
    ("department officer", staff(Role.DEPARTMENT_OFFICER, "330523"), DIPU, "330523", NOTHING),
    ("investigator, not assigned", staff(Role.INVESTIGATOR, DIPU), DIPU, "330523", NOTHING),
    ("admin", staff(Role.ADMIN, "33"), DIPU, "330523", ADMIN),
    ("admin, other province", staff(Role.ADMIN, "32"), DIPU, "330523", NOTHING),
    ("resident", RESIDENT, DIPU, "330523", NOTHING),
    ("grid worker, not the reporter", GRID_WORKER, DIPU, "330523", NOTHING),
]


@pytest.mark.parametrize(("who", "principal", "township", "county", "expected"), CASES)
@pytest.mark.parametrize("status", STATUSES)
async def test_each_role_inside_and_outside_its_jurisdiction(
    db: None,
    who: str,
    principal: Principal,
    township: str | None,
    county: str,
    expected: dict[str, set[str]],
    status: str,
) -> None:
    record = lead(status, township, county=county, visit_asked=True)
    assert actions(principal, record) == expected[status], who


@pytest.mark.parametrize("status", STATUSES)
async def test_ownership_the_assigned_investigator_and_the_reporting_worker(
    db: None, status: str
) -> None:
    investigator = staff(Role.INVESTIGATOR, DIPU)
    assert actions(investigator, lead(status, assigned=ME)) == VISIT_ONLY[status]
    assert actions(investigator, lead(status, assigned=SOMEONE)) == set()
    # Assigned, but the lead went to another township: no longer theirs to visit.
    assert actions(investigator, lead(status, CHANGSHUO, assigned=ME)) == set()

    # The reporting worker only while the window waits for their visit.
    assert actions(GRID_WORKER, lead(status, reporter=ME, visit_asked=True)) == VISIT_ONLY[status]
    assert actions(GRID_WORKER, lead(status, reporter=ME, visit_asked=False)) == set()
    # A resident is never asked for a visit, not even on her own help request.
    own = lead(status, reporter=ME, visit_asked=True, source=LeadSource.RESIDENT)
    assert actions(RESIDENT, own) == set()


def application(status: str, township: str = DIPU) -> Application:
    return Application(
        id=uuid.uuid4(),
        number="X",
        category="dibao",
        township_code=township,
        county_code=township[:6],
        status=ApplicationStatus(status),
        # An accepted case's clock runs (accepted yesterday, due in a month).
        accepted_at=datetime.now(UTC) - timedelta(days=1) if status == "accepted" else None,
        decision_due_at=datetime.now(UTC) + timedelta(days=30) if status == "accepted" else None,
    )


APPLICATION_STATUSES = ("received", "materials_requested", "accepted", "refused")
AT_WINDOW = {
    "received": {"accept", "request_materials"},
    "materials_requested": {"accept"},
    "accepted": set(),
    "refused": set(),
}
# Only the township head extends the decision's limit, once, on an accepted case (DOMAIN: the
# township head may extend 30 working days to 45 with a reason).
AT_WINDOW_HEAD = AT_WINDOW | {"accepted": {"extend"}}
NO_APPLICATION_ACTIONS = {s: set() for s in APPLICATION_STATUSES}
APPLICATION_CASES: list[tuple[str, Principal, str, dict[str, set[str]]]] = [
    ("clerk", staff(Role.WINDOW_CLERK, DIPU), DIPU, AT_WINDOW),
    ("clerk, other township", staff(Role.WINDOW_CLERK, DIPU), CHANGSHUO, NO_APPLICATION_ACTIONS),
    ("township head", staff(Role.TOWNSHIP_HEAD, DIPU), DIPU, AT_WINDOW_HEAD),
    ("admin", staff(Role.ADMIN, "330523"), DIPU, AT_WINDOW_HEAD),
    ("admin, other county", staff(Role.ADMIN, "330522"), DIPU, NO_APPLICATION_ACTIONS),
    ("county approver", staff(Role.COUNTY_APPROVER, "330523"), DIPU, NO_APPLICATION_ACTIONS),
    ("investigator", staff(Role.INVESTIGATOR, DIPU), DIPU, NO_APPLICATION_ACTIONS),
    ("supervisor", staff(Role.SUPERVISOR, "330523"), DIPU, NO_APPLICATION_ACTIONS),
    ("department officer", staff(Role.DEPARTMENT_OFFICER, "330523"), DIPU, NO_APPLICATION_ACTIONS),
    ("resident", RESIDENT, DIPU, NO_APPLICATION_ACTIONS),
    ("grid worker", GRID_WORKER, DIPU, NO_APPLICATION_ACTIONS),
]


@pytest.mark.parametrize(("who", "principal", "township", "expected"), APPLICATION_CASES)
@pytest.mark.parametrize("status", APPLICATION_STATUSES)
async def test_application_actions_of_each_role(
    db: None,
    who: str,
    principal: Principal,
    township: str,
    expected: dict[str, set[str]],
    status: str,
) -> None:
    assert actions(principal, application(status, township)) == expected[status], who


# --- the services refuse what the set does not hold ------------------------------------------


_ACTION_URL = re.compile(r'action="/console/(?:leads|applications)/[0-9a-f-]+/([a-z-]+)"')


def shown(page: str) -> set[str]:
    """The actions a page's forms post to."""
    return set(_ACTION_URL.findall(page))


async def report(client: httpx.AsyncClient, headers: dict[str, str], points: Points) -> str:
    response = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def principal_of(username: str, role: str, jurisdiction: str) -> Principal:
    user = await make_user(username, role, jurisdiction)
    return await load_principal(user_id=user.id, token_id="t", family="t")


async def sign_in_as(console: httpx.AsyncClient, username: str) -> str:
    console.cookies.clear()
    return await signed_in(console, username)


async def post(
    console: httpx.AsyncClient, csrf: str, lead_id: str, action: str, **data: Any
) -> httpx.Response:
    return await console.post(
        f"/console/leads/{lead_id}/{action}",
        data={"csrf_token": csrf, "version": str((await Lead.get(id=lead_id)).version)} | data,
    )


async def test_the_console_shows_the_set_and_the_service_refuses_the_rest(
    console: httpx.AsyncClient, worker: dict[str, str], points: Points
) -> None:
    lead_id = await report(console, worker, points)
    await make_user("p_clerk", "window_clerk", DIPU)
    await make_user("p_approver", "county_approver", "330523")
    await make_user("p_super", "supervisor", "330523")
    await make_user("p_inv", "investigator", DIPU)
    await make_user("p_other", "window_clerk", CHANGSHUO)
    window_forms = {
        "acknowledge",
        "assign",
        "home-visit",
        "merge",
        "convert",
        "refer",
        "transfer",
        "close",
        "reveal",
    }

    csrf = await sign_in_as(console, "p_approver")
    page = (await console.get(f"/console/leads/{lead_id}")).text
    assert shown(page) == {"transfer", "reveal"}
    assert "跨县请填写 9 位乡镇（街道）代码" in page  # may send to another county
    # Through the door (they may transfer), refused by the service: not theirs to close.
    refused = await post(console, csrf, lead_id, "close", reason="other", note="x")
    assert refused.status_code == 403, refused.text
    assert "您的岗位没有此操作的权限" in refused.text
    stored = await Lead.get(id=lead_id)
    assert (stored.status, stored.version) == (LeadStatus.RECEIVED, 1)

    for username in ("p_super", "p_inv"):
        csrf = await sign_in_as(console, username)
        page = (await console.get(f"/console/leads/{lead_id}")).text
        assert shown(page) == set(), username
        assert (await post(console, csrf, lead_id, "acknowledge")).status_code == 403
        reveal = await console.post(
            f"/console/leads/{lead_id}/reveal", data={"csrf_token": csrf, "field": "phone"}
        )
        assert reveal.status_code == 403, username

    # Another township's clerk: the lead does not exist for them.
    csrf = await sign_in_as(console, "p_other")
    assert (await post(console, csrf, lead_id, "acknowledge")).status_code == 404
    assert (await Lead.get(id=lead_id)).status == LeadStatus.RECEIVED

    csrf = await sign_in_as(console, "p_clerk")
    page = (await console.get(f"/console/leads/{lead_id}")).text
    assert shown(page) == window_forms
    assert "跨县请填写 9 位乡镇（街道）代码" not in page  # within the county only
    assert (await post(console, csrf, lead_id, "acknowledge")).status_code == 303
    page = (await console.get(f"/console/leads/{lead_id}")).text
    assert shown(page) == window_forms - {"acknowledge"}
    # Acknowledging again is not in the set any more: refused, the page without the button.
    again = await post(console, csrf, lead_id, "acknowledge")
    assert again.status_code == 409, again.text
    assert "不能受理" in again.text
    assert "acknowledge" not in shown(again.text)


async def test_application_buttons_and_refusals(
    console: httpx.AsyncClient, worker: dict[str, str], points: Points
) -> None:
    lead_id = await report(console, worker, points)
    clerk = await principal_of("a_clerk", "window_clerk", DIPU)
    approver = await principal_of("a_approver", "county_approver", "330523")
    other = await principal_of("a_other", "window_clerk", CHANGSHUO)
    await triage.convert_lead(
        principal=clerk, lead_id=lead_id, expected_version=1, category="dibao"
    )
    row = await Application.get(lead_id=lead_id)
    url = f"/console/applications/{row.id}"

    csrf = await sign_in_as(console, "a_approver")
    assert shown((await console.get(url)).text) == set()
    door = await console.post(f"{url}/accept", data={"csrf_token": csrf, "version": "1"})
    assert door.status_code == 403
    with pytest.raises(Forbidden):
        await cases_service.accept_application(
            clock=CLOCK, principal=approver, application_id=row.id, expected_version=1
        )
    with pytest.raises(NotFound):
        await cases_service.accept_application(
            clock=CLOCK, principal=other, application_id=row.id, expected_version=1
        )

    csrf = await sign_in_as(console, "a_clerk")
    assert shown((await console.get(url)).text) == {"accept", "request-materials"}
    asked = await console.post(
        f"{url}/request-materials",
        data={"csrf_token": csrf, "version": "1", "materials": "户口簿复印件"},
    )
    assert asked.status_code == 303, asked.text
    assert shown((await console.get(url)).text) == {"accept"}
    again = await console.post(
        f"{url}/request-materials", data={"csrf_token": csrf, "version": "2", "materials": "x"}
    )
    assert again.status_code == 409
    assert (await Application.get(id=row.id)).status == ApplicationStatus.MATERIALS_REQUESTED


async def test_the_phone_and_the_investigator_are_refused_what_the_set_lacks(
    client: httpx.AsyncClient, worker: dict[str, str], points: Points
) -> None:
    lead_id = await report(client, worker, points)
    clerk = await principal_of("v_clerk", "window_clerk", DIPU)
    investigator = await principal_of("v_inv", "investigator", DIPU)
    await make_user("v_grid", "grid_worker", DIPU, villages=DIPU_VILLAGES)
    other_worker = await mobile_login(client, "v_grid")
    body = {"version": 1, "result": "已走访"}

    # No visit asked of the reporting worker yet: refused, and not in their list.
    early = await client.post(f"/mobile/v1/visits/{lead_id}", json=body, headers=worker)
    assert early.status_code == 409, early.text
    assert (await client.get("/mobile/v1/visits/", headers=worker)).json()["items"] == []

    await triage.assign_lead(
        principal=clerk, lead_id=lead_id, expected_version=1, investigator_id=investigator.user_id
    )
    asked = await triage.request_home_visit(principal=clerk, lead_id=lead_id, expected_version=2)
    body["version"] = asked.version
    listed = (await client.get("/mobile/v1/visits/", headers=worker)).json()["items"]
    assert [item["id"] for item in listed] == [lead_id]
    # Another worker of the same villages did not report it: it does not exist for them.
    assert (
        await client.post(f"/mobile/v1/visits/{lead_id}", json=body, headers=other_worker)
    ).status_code == 404

    # An investigator it is not assigned to is refused; the assigned one may record it.
    stranger = await principal_of("v_inv2", "investigator", DIPU)
    with pytest.raises(Forbidden):
        await triage.record_visit(
            principal=stranger, lead_id=lead_id, expected_version=asked.version, result="x"
        )
    # Closed: no visit may be recorded on it any more, by the phone or anyone.
    closed = await triage.close_lead(
        principal=clerk,
        lead_id=lead_id,
        expected_version=asked.version,
        reason="other",
        note="已核实",
    )
    late = await client.post(
        f"/mobile/v1/visits/{lead_id}",
        json={"version": closed.version, "result": "已走访"},
        headers=worker,
    )
    assert late.status_code == 409, late.text
    assert (await client.get("/mobile/v1/visits/", headers=worker)).json()["items"] == []
    with pytest.raises(Conflict):
        await triage.record_visit(
            principal=investigator, lead_id=lead_id, expected_version=closed.version, result="x"
        )
