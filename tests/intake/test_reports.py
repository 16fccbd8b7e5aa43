"""POST/GET /mobile/v1/reports: routing, replays, validation, ownership, deadlines."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from shapely.geometry import shape

from backend.intake.models import Lead, SuspectedDuplicate
from backend.integrity.models import AuditEvent
from backend.workdays import SHANGHAI
from tests.console.conftest import signed_in as console_signed_in
from tests.factories import auth_headers, make_user, resident_headers
from tests.intake.conftest import (
    BOUNDARIES,
    DIPU_VILLAGES,
    XIAOFENG_VILLAGE,
    Points,
    gcj,
    mobile_login,
    report_body,
    wgs,
)


async def test_login_returns_the_worker_and_refuses_staff(
    client: httpx.AsyncClient, boundaries: None
) -> None:
    await make_user("grid_b", "grid_worker", "330523001", villages=DIPU_VILLAGES)
    await make_user("clerk_b", "window_clerk", "330523001")
    response = await client.post(
        "/mobile/v1/auth/login",
        json={"username": "grid_b", "password": "correct horse battery", "device_id": "p1"},
    )
    assert response.status_code == 200
    worker = response.json()["worker"]
    assert worker["township"] == {"code": "330523001", "name": "递铺街道"}
    assert [v["code"] for v in worker["villages"]] == list(DIPU_VILLAGES)
    response = await client.post(
        "/mobile/v1/auth/login",
        json={"username": "clerk_b", "password": "correct horse battery", "device_id": "p1"},
    )
    assert response.status_code == 401
    response = await client.post(
        "/mobile/v1/auth/login", json={"username": "grid_b", "password": "correct horse battery"}
    )
    assert response.status_code == 422


async def test_report_from_gcj02_routes_to_dipu(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    response = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["township"] == {"code": "330523001", "name": "递铺街道"}
    assert body["routed_by"] == "polygon" and body["ambiguous"] is False
    assert body["window"]["name"] == "递铺街道社会救助一门受理窗口"
    assert body["number"].startswith(f"330523001-{datetime.now(UTC).year}-")
    assert body["status"] == "received"
    # Stored as WGS-84, what the phone sent kept beside it.
    assert body["location"]["lng"] == pytest.approx(points.dipu[0], abs=1e-6)
    assert body["location"]["lat"] == pytest.approx(points.dipu[1], abs=1e-6)
    assert body["location"]["sent"]["coord_type"] == "gcj02"
    # Personal data masked in the answer, encrypted at rest.
    assert body["subject"]["phone"] == "138****5678"
    lead = await Lead.get(id=body["id"])
    assert "13812345678" not in (lead.subject_phone_enc or "")
    assert await AuditEvent.filter(action="lead.create", entity_id=body["id"]).count() == 1


async def test_exclave_point_routes_to_changshuo(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    response = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.exclave)), headers=worker
    )
    assert response.status_code == 201, response.text
    assert response.json()["township"]["code"] == "330523002"


async def test_replay_answers_the_first_and_other_content_conflicts(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    body = report_body(gcj(points.dipu))
    first = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    again = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    changed = body | {"description": "另一件事"}
    conflict = await client.post("/mobile/v1/reports/", json=changed, headers=worker)
    assert conflict.status_code == 409
    assert conflict.json()["type"].endswith("/client-id-reused")
    assert await Lead.all().count() == 1


async def test_without_gps_the_village_decides(client: httpx.AsyncClient, boundaries: None) -> None:
    await make_user("grid_cs", "grid_worker", "330523002", villages=["330523002001"])
    worker = await mobile_login(client, "grid_cs")
    body = report_body(subject={"name": "李大伯", "village_code": "330523002001"})
    response = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    assert response.status_code == 201, response.text
    assert response.json()["routed_by"] == "village_code"
    assert response.json()["township"]["code"] == "330523002"
    assert response.json()["outside_grid"] is False


async def test_absurd_accuracy_is_not_routed_by_gps(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    location = gcj(points.changshuo) | {"accuracy_m": 50_000}
    body = report_body(location, subject={"name": "王", "village_code": DIPU_VILLAGES[1]})
    response = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    assert response.status_code == 201, response.text
    assert response.json()["routed_by"] == "village_code"
    assert response.json()["township"]["code"] == "330523001"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hardship": ["rich"]}, "hardship"),
        ({"hardship": []}, "hardship"),
        ({"subject": {"name": "张", "id_number": "330523198001011234"}}, "subject.id_number"),
        ({"subject": {"name": "张", "phone": "abc"}}, "subject.phone"),
        ({"observed_at": "2026-12-01T09:00:00"}, "observed_at"),
        ({"observed_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "observed_at"),
        (
            {"location": {"lat": 30, "lng": 119, "coord_type": "utm", "accuracy_m": 5}},
            "location.coord_type",
        ),
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"surprise": 1}, "surprise"),
        ({"description": ""}, "description"),
    ],
)
async def test_bad_reports_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient, worker: dict, points: Points, change: dict, field: str
) -> None:
    body = report_body(gcj(points.dipu)) | change
    response = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await Lead.all().count() == 0


async def test_no_location_and_no_village_is_refused(
    client: httpx.AsyncClient, worker: dict
) -> None:
    response = await client.post("/mobile/v1/reports/", json=report_body(), headers=worker)
    assert response.status_code == 422
    assert "定位" in response.json()["detail"]


async def test_unknown_village_is_refused(client: httpx.AsyncClient, worker: dict) -> None:
    body = report_body(subject={"name": "张", "village_code": "330523001999"})
    response = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    assert response.status_code == 422
    assert await Lead.all().count() == 0


async def test_only_grid_workers_file_reports(
    app: object, client: httpx.AsyncClient, boundaries: None, points: Points
) -> None:
    await make_user("clerk_c", "window_clerk", "330523001")
    body = report_body(gcj(points.dipu))
    staff = await auth_headers(client, "clerk_c")
    assert (await client.post("/mobile/v1/reports/", json=body, headers=staff)).status_code == 403
    resident = await resident_headers(app)
    response = await client.post("/mobile/v1/reports/", json=body, headers=resident)
    assert response.status_code == 403
    assert (await client.post("/mobile/v1/reports/", json=body)).status_code == 401
    assert await Lead.all().count() == 0


async def test_workers_see_only_their_own_reports(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    mine = (
        await client.post("/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker)
    ).json()
    await make_user("grid_other", "grid_worker", "330523001", villages=DIPU_VILLAGES)
    other = await mobile_login(client, "grid_other")
    assert (await client.get(f"/mobile/v1/reports/{mine['id']}", headers=other)).status_code == 404
    listing = await client.get("/mobile/v1/reports/", headers=other)
    assert listing.json()["items"] == []
    own = await client.get(f"/mobile/v1/reports/{mine['id']}", headers=worker)
    assert own.status_code == 200 and own.json()["number"] == mine["number"]
    assert (await client.get("/mobile/v1/reports/nope", headers=worker)).status_code == 400


async def test_cursor_pagination_walks_every_report_once(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    created = []
    for _ in range(5):
        response = await client.post(
            "/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker
        )
        created.append(response.json()["id"])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/mobile/v1/reports/", params=params, headers=worker)).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == list(reversed(created))
    bad = await client.get("/mobile/v1/reports/", params={"cursor": "%%%"}, headers=worker)
    assert bad.status_code == 422


async def test_urgent_reports_get_a_shorter_deadline(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    now = datetime.now(UTC)
    urgent = await client.post(
        "/mobile/v1/reports/",
        json=report_body(gcj(points.dipu), hardship=["disaster"]),
        headers=worker,
    )
    normal = await client.post(
        "/mobile/v1/reports/",
        json=report_body(gcj(points.dipu), hardship=["no_income"]),
        headers=worker,
    )
    urgent_due = datetime.fromisoformat(urgent.json()["ack_due_at"])
    normal_due = datetime.fromisoformat(normal.json()["ack_due_at"])
    assert urgent.json()["urgent"] is True and normal.json()["urgent"] is False
    assert timedelta(hours=23) < urgent_due - now <= timedelta(hours=24, minutes=1)
    # The close of the third working day after today (weekends skipped), 17:30 in China.
    local_due = normal_due.astimezone(SHANGHAI)
    assert (local_due.hour, local_due.minute) == (17, 30) and local_due.weekday() < 5
    assert (local_due.date() - now.astimezone(SHANGHAI).date()).days >= 3


async def test_same_person_is_flagged_as_a_suspected_duplicate(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    person = {"name": "赵某", "id_number": "330523198001011233"}
    first = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu), subject=person), headers=worker
    )
    assert first.status_code == 201, first.text
    # The old 15-digit form of the same number is the same person.
    again = person | {"name": "赵某某", "id_number": "330523800101123"}
    second = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu), subject=again), headers=worker
    )
    # The window sees the pair; the phone is told only that a duplicate may exist.
    assert second.json()["possible_duplicate"] is True
    assert first.json()["possible_duplicate"] is False
    assert "suspected_duplicates" not in second.json()
    assert first.json()["number"] not in second.text and "same_person" not in second.text
    assert second.json()["subject"]["id_number"] == "330523********1233"
    assert await SuspectedDuplicate.all().count() == 1


async def test_nearby_similar_name_is_flagged(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    near = (points.dipu[0] + 0.0005, points.dipu[1])  # about 48 m east
    far = (points.dipu[0] + 0.01, points.dipu[1])  # about 960 m east
    subject = {"name": "钱秀英", "address": "长竹社区5幢"}
    await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu), subject=subject), headers=worker
    )
    close = await client.post(
        "/mobile/v1/reports/",
        json=report_body(gcj(near), subject=subject | {"name": "钱秀英 "}),
        headers=worker,
    )
    distant = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(far), subject=subject), headers=worker
    )
    assert close.json()["possible_duplicate"] is True
    assert distant.json()["possible_duplicate"] is False
    assert [d.reasons for d in await SuspectedDuplicate.all()] == [["nearby_similar"]]


async def test_report_ids_are_checked(client: httpx.AsyncClient, worker: dict) -> None:
    response = await client.get(f"/mobile/v1/reports/{uuid.uuid4()}", headers=worker)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_taiwan_residence_permit_number_is_accepted(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    # 830000199001010012: the check digit worked by hand in tests/intake/test_schemas.py.
    subject = {"name": "林女士", "id_number": "830000199001010012"}
    response = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu), subject=subject), headers=worker
    )
    assert response.status_code == 201, response.text
    assert response.json()["subject"]["id_number"] == "830000********0012"


def _point_in(township: str) -> tuple[float, float]:
    """A WGS-84 point inside a demo township polygon."""
    data = json.loads((BOUNDARIES / "demo-townships-wgs84.geojson").read_text(encoding="utf-8"))
    feature = next(f for f in data["features"] if f["properties"]["code"] == township)
    point = shape(feature["geometry"]).representative_point()
    return point.x, point.y


async def test_a_village_outside_the_grid_is_refused(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    # 330523002001 is a village of 昌硕街道: real, but not in this worker's grid (递铺街道).
    for body in (
        report_body(subject={"name": "李大伯", "village_code": "330523002001"}),
        report_body(gcj(points.dipu), subject={"name": "李大伯", "village_code": "330523002001"}),
    ):
        response = await client.post("/mobile/v1/reports/", json=body, headers=worker)
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"].endswith("/outside-grid")
        assert "网格" in problem["title"] + problem["detail"]
    assert await Lead.all().count() == 0
    assert await AuditEvent.filter(action="lead.create").count() == 0


async def test_gps_outside_the_workers_county_is_refused(
    client: httpx.AsyncClient, worker: dict
) -> None:
    # 330522110 lies in 长兴县; the worker's grid is in 安吉县.
    body = report_body(gcj(_point_in("330522110")))
    response = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    assert response.status_code == 403, response.text
    assert response.json()["type"].endswith("/outside-county")
    assert "县" in response.json()["detail"]
    assert await Lead.all().count() == 0


async def test_gps_in_the_county_outside_the_grid_is_marked_for_the_clerk(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    inside = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker
    )
    outside = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.changshuo)), headers=worker
    )
    assert (inside.status_code, outside.status_code) == (201, 201), outside.text
    assert inside.json()["outside_grid"] is False
    assert outside.json()["outside_grid"] is True
    assert outside.json()["township"]["code"] == "330523002"
    lead = await Lead.get(id=outside.json()["id"])
    assert lead.outside_grid is True
    # The clerk of the receiving window sees the flag on the lead page.
    await make_user("clerk_cs", "window_clerk", "330523002")
    client.base_url = httpx.URL("https://yimen.test")
    await console_signed_in(client, "clerk_cs")
    page = await client.get(f"/console/leads/{lead.id}")
    assert page.status_code == 200, page.text
    assert "网格外" in page.text


async def test_near_a_border_the_village_the_worker_chose_decides(
    client: httpx.AsyncClient, boundaries: None, points: Points
) -> None:
    # Her grid spans both sides of the 递铺街道 / 孝丰镇 border.
    await make_user(
        "grid_edge", "grid_worker", "330523001", villages=[*DIPU_VILLAGES, XIAOFENG_VILLAGE]
    )
    worker = await mobile_login(client, "grid_edge")
    subject = {"name": "陈大爷", "village_code": XIAOFENG_VILLAGE}
    # 150 m inside 递铺街道 with a 500 m fix: the phone cannot tell the two apart.
    vague = wgs(points.dipu_by_xiaofeng, 500)
    response = await client.post(
        "/mobile/v1/reports/", json=report_body(vague, subject=subject), headers=worker
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["township"]["code"] == "330523105"
    assert (body["routed_by"], body["ambiguous"], body["outside_grid"]) == (
        "village_code",
        True,
        False,
    )
    # The GPS stays on the lead as evidence, as sent.
    assert body["location"]["lng"] == pytest.approx(points.dipu_by_xiaofeng[0], abs=1e-9)
    assert body["location"]["lat"] == pytest.approx(points.dipu_by_xiaofeng[1], abs=1e-9)
    lead = await Lead.get(id=body["id"])
    assert (lead.township_code, lead.routed_by, lead.ambiguous) == (
        "330523105",
        "village_code",
        True,
    )
    assert lead.sent_location is not None and lead.sent_location["accuracy_m"] == 500
    assert lead.accuracy_m == 500

    # A 20 m fix is no doubt: the polygon wins over the village (marked 网格外 it is not).
    sharp = wgs(points.dipu_by_xiaofeng, 20)
    response = await client.post(
        "/mobile/v1/reports/", json=report_body(sharp, subject=subject), headers=worker
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["township"]["code"] == "330523001"
    assert (body["routed_by"], body["ambiguous"], body["outside_grid"]) == ("polygon", False, False)


async def test_near_a_border_a_village_outside_the_grid_is_still_refused(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    # The default worker's grid is 递铺街道 only: 孝丰镇's village is not hers to choose.
    body = report_body(
        wgs(points.dipu_by_xiaofeng, 500),
        subject={"name": "陈大爷", "village_code": XIAOFENG_VILLAGE},
    )
    response = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    assert response.status_code == 403, response.text
    assert response.json()["type"].endswith("/outside-grid")
    assert await Lead.all().count() == 0


async def test_a_nul_in_the_text_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    body = report_body(gcj(points.dipu), description="独居老人\u0000需要上门")
    response = await client.post("/mobile/v1/reports/", json=body, headers=worker)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "description"
    assert "控制字符" in response.json()["detail"]
    assert await Lead.all().count() == 0
