"""The window's actions on applications: role, jurisdiction, state and version checked."""

from __future__ import annotations

import uuid

import httpx
import pytest

from backend.accounts.service import load_principal
from backend.cases import service as cases
from backend.cases.models import Application, ApplicationStatus
from backend.cases.service import DecisionClock
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.integrity.models import AuditEvent
from backend.notify.models import Notice
from backend.workdays import WorkCalendar
from tests.factories import make_user
from tests.mp.conftest import (  # noqa: F401
    application_body,
    boundaries,
    clerk,
    points,
    resident,
    settings,
)

CLOCK = DecisionClock(calendar=WorkCalendar())


async def _principal(username: str, role: str, jurisdiction: str):  # type: ignore[no-untyped-def]
    user = await make_user(username, role, jurisdiction)
    return await load_principal(user_id=user.id, token_id="t", family="f")


@pytest.fixture
async def application(client: httpx.AsyncClient, resident: dict) -> Application:  # noqa: F811
    response = await client.post("/mp/v1/applications", json=application_body(), headers=resident)
    assert response.status_code == 201, response.text
    return await Application.get(id=response.json()["id"])


async def test_accept_writes_timeline_audit_and_a_notice(application: Application) -> None:
    clerk_p = await _principal("c1", "window_clerk", "330523001")
    done = await cases.accept_application(
        clock=CLOCK, principal=clerk_p, application_id=application.id, expected_version=1
    )
    assert (done.status, done.version) == (ApplicationStatus.ACCEPTED, 2)
    audit = await AuditEvent.get(action="application.accept", entity_id=str(application.id))
    assert audit.before["status"] == "received" and audit.after["status"] == "accepted"
    notice = await Notice.get(item_id=application.id)
    assert notice.data["phrase2"] == "已受理" and notice.user_id == application.resident_id


async def test_refusals_change_nothing(application: Application) -> None:
    other_township = await _principal("c2", "window_clerk", "330523002")
    with pytest.raises(NotFound):
        await cases.accept_application(
            clock=CLOCK, principal=other_township, application_id=application.id, expected_version=1
        )
    investigator = await _principal("i1", "investigator", "330523001")
    with pytest.raises(Forbidden):
        await cases.accept_application(
            clock=CLOCK, principal=investigator, application_id=application.id, expected_version=1
        )
    clerk_p = await _principal("c3", "window_clerk", "330523001")
    with pytest.raises(Conflict):
        await cases.accept_application(
            clock=CLOCK, principal=clerk_p, application_id=application.id, expected_version=7
        )
    with pytest.raises(ValidationFailed):
        await cases.request_materials(
            principal=clerk_p, application_id=application.id, expected_version=1, materials=" "
        )
    with pytest.raises(NotFound):
        await cases.accept_application(
            clock=CLOCK, principal=clerk_p, application_id=uuid.uuid4(), expected_version=1
        )
    fresh = await Application.get(id=application.id)
    assert (fresh.status, fresh.version) == (ApplicationStatus.RECEIVED, 1)
    assert not await Notice.all().exists()
    await cases.accept_application(
        clock=CLOCK, principal=clerk_p, application_id=application.id, expected_version=1
    )
    with pytest.raises(Conflict, match="不能进行此操作"):
        await cases.request_materials(
            principal=clerk_p, application_id=application.id, expected_version=2, materials="户口本"
        )


async def test_staff_list_is_limited_to_the_jurisdiction(application: Application) -> None:
    mine = await _principal("c4", "window_clerk", "330523001")
    county = await _principal("a1", "county_approver", "330523")
    other = await _principal("c5", "window_clerk", "330522001")
    assert [a.id for a in await cases.list_applications_for_staff(principal=mine)] == [
        application.id
    ]
    assert len(await cases.list_applications_for_staff(principal=county)) == 1
    assert await cases.list_applications_for_staff(principal=other) == []
    with pytest.raises(NotFound):
        await cases.get_application_for_staff(principal=other, application_id=application.id)
