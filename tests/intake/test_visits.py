"""GET/POST /mobile/v1/visits: the home visit a window asks of the reporting grid worker."""

from __future__ import annotations

import httpx

from backend.accounts.service import load_principal
from backend.intake import triage
from backend.intake.models import Lead
from tests.factories import make_user
from tests.intake.conftest import DIPU_VILLAGES, Points, gcj, mobile_login, report_body


async def test_visit_request_reaches_the_worker_and_the_result_the_window(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    lead = (
        await client.post("/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker)
    ).json()
    assert (await client.get("/mobile/v1/visits/", headers=worker)).json()["items"] == []
    user = await make_user("clerk_v", "window_clerk", "330523001")
    clerk = await load_principal(user_id=user.id, token_id="t", family="t")
    asked = await triage.request_home_visit(
        principal=clerk, lead_id=lead["id"], expected_version=1, note="请核实住房情况"
    )
    visits = (await client.get("/mobile/v1/visits/", headers=worker)).json()["items"]
    assert [v["number"] for v in visits] == [lead["number"]]
    assert visits[0]["visit_note"] == "请核实住房情况"
    assert visits[0]["version"] == asked.version

    # Another grid worker neither sees it nor can answer it.
    await make_user("grid_v2", "grid_worker", "330523001", villages=DIPU_VILLAGES)
    other = await mobile_login(client, "grid_v2")
    assert (await client.get("/mobile/v1/visits/", headers=other)).json()["items"] == []
    body = {"version": asked.version, "result": "住房漏雨，已拍照"}
    refused = await client.post(f"/mobile/v1/visits/{lead['id']}", json=body, headers=other)
    assert refused.status_code == 404

    # A stale version is a conflict; an unknown field is refused; nothing changes.
    stale = await client.post(
        f"/mobile/v1/visits/{lead['id']}", json=body | {"version": 1}, headers=worker
    )
    assert stale.status_code == 409
    extra = await client.post(
        f"/mobile/v1/visits/{lead['id']}", json=body | {"x": 1}, headers=worker
    )
    assert extra.status_code == 422
    assert (await Lead.get(id=lead["id"])).home_visit_done_at is None

    done = await client.post(f"/mobile/v1/visits/{lead['id']}", json=body, headers=worker)
    assert done.status_code == 200, done.text
    assert (await client.get("/mobile/v1/visits/", headers=worker)).json()["items"] == []
    stored = await Lead.get(id=lead["id"])
    assert stored.home_visit_result == "住房漏雨，已拍照"
    assert any("走访" in e["message"] for e in done.json()["timeline"])


async def test_staff_cannot_use_the_visit_list(client: httpx.AsyncClient, boundaries: None) -> None:
    from tests.factories import auth_headers

    await make_user("clerk_v3", "window_clerk", "330523001")
    staff = await auth_headers(client, "clerk_v3")
    assert (await client.get("/mobile/v1/visits/", headers=staff)).status_code == 403
    assert (await client.get("/mobile/v1/visits/")).status_code == 401
