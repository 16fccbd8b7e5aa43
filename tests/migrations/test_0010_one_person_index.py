"""Migration 0010: stored ID numbers re-indexed under the one person index."""

from __future__ import annotations

import importlib
from typing import Any

import httpx
from tortoise import connections

from backend.cases.models import Application
from backend.intake.models import Lead
from backend.people.identity import PERSON_ID_INDEX
from tests.factories import make_user
from tests.intake.conftest import Points, gcj, mobile_login, report_body
from tests.mp import conftest as mp_fixtures
from tests.mp.conftest import ID_A, ID_B, application_body

settings = mp_fixtures.settings
resident = mp_fixtures.resident
boundaries = mp_fixtures.boundaries
points = mp_fixtures.points

migration = importlib.import_module("backend.migrations.0010_one_person_index")

# What the code before 0010 wrote: one index purpose per table.
OLD_LEAD_PURPOSE = "lead.subject.id"
OLD_APPLICATION_PURPOSE = "application.person.id"


async def test_reindex_puts_leads_and_applications_under_one_index(
    app: Any, client: httpx.AsyncClient, resident: dict[str, str], points: Points
) -> None:
    await make_user("grid_m", "grid_worker", "330523001", villages=("330523001001",))
    worker = await mobile_login(client, "grid_m")
    response = await client.post(
        "/mp/v1/applications",
        json=application_body(),
        headers=resident,
    )
    assert response.status_code == 201, response.text
    application = await Application.get(id=response.json()["id"])
    report = await client.post(
        "/mobile/v1/reports/",
        json=report_body(gcj(points.dipu), subject={"name": "李建国", "id_number": ID_A}),
        headers=worker,
    )
    assert report.status_code == 201, report.text
    lead = await Lead.get(id=report.json()["id"])
    cipher = app.ctx.cipher
    # Put the rows back as the old code left them.
    await Lead.filter(id=lead.id).update(
        subject_id_index=cipher.blind_index(ID_A, purpose=OLD_LEAD_PURPOSE)
    )
    members = [
        m | {"id_index": cipher.blind_index("(unused)", purpose=OLD_APPLICATION_PURPOSE)}
        for m in application.members
    ]
    await Application.filter(id=application.id).update(
        applicant_id_index=cipher.blind_index(ID_A, purpose=OLD_APPLICATION_PURPOSE),
        members=members,
    )

    changed = await migration.reindex(connections.get("default"), app.ctx.settings.pii_key_bytes)

    assert changed == 2
    expected_a = cipher.blind_index(ID_A, purpose=PERSON_ID_INDEX)
    lead = await Lead.get(id=lead.id)
    application = await Application.get(id=application.id)
    assert lead.subject_id_index == expected_a == application.applicant_id_index
    assert application.members[0]["id_index"] == cipher.blind_index(ID_B, purpose=PERSON_ID_INDEX)
    # What a new submission writes is what the migration computed.
    again = await client.post(
        "/mobile/v1/reports/",
        json=report_body(gcj(points.dipu), subject={"name": "李", "id_number": "330523500307001"}),
        headers=worker,
    )
    assert (await Lead.get(id=again.json()["id"])).subject_id_index == expected_a
