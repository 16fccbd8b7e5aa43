"""Help requests from the mini-program: routed like a report, replay-safe, checked, limited."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from backend.accounts.models import User
from backend.accounts.service import load_principal
from backend.intake import service as intake_service
from backend.intake import triage
from backend.intake.models import Lead, LeadPhoto, LeadSource
from tests.harness.wechat_standin import WeChatStandIn
from tests.intake.conftest import XIAOFENG_VILLAGE, Points, gcj, photos_dir, wgs
from tests.mp.conftest import DIPU_VILLAGE, help_body, mp_login


async def test_help_request_for_myself_reaches_the_dipu_queue(
    client: httpx.AsyncClient, resident: dict, points: Points, clerk: User
) -> None:
    response = await client.post(
        "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
    )
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["kind"] == "help" and item["township"]["code"] == "330523001"
    assert item["number"].startswith("330523001-")
    assert item["subject"]["phone"] == "139****0001"  # her contact phone, masked
    assert item["timeline"][0]["kind"] == "received"
    lead = await Lead.get(id=item["id"])
    assert lead.source == LeadSource.RESIDENT and lead.for_self
    assert lead.contact_phone_enc and "13905720001" not in lead.contact_phone_enc
    principal = await load_principal(user_id=clerk.id, token_id="t", family="f")
    page = await triage.list_queue(principal=principal)
    assert [row.number for row in page.items] == [item["number"]]


async def test_replay_answers_the_first_and_other_content_conflicts(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    body = help_body(gcj(points.dipu))
    first = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    again = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    changed = await client.post(
        "/mp/v1/help-requests", json=body | {"description": "别的内容"}, headers=resident
    )
    assert changed.status_code == 409 and changed.json()["type"].endswith("/client-id-reused")
    assert await Lead.all().count() == 1


async def test_quick_help_is_urgent_and_needs_only_a_place(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    body = {
        "client_id": str(uuid.uuid4()),
        "device_id": "mp-install-0001",
        "quick": True,
        "location": gcj(points.dipu),
        "contact_phone": "13905720009",
    }
    response = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 201, response.text
    lead = await Lead.get(id=response.json()["id"])
    assert lead.urgent and "一键求助" in lead.description
    assert (lead.ack_due_at - lead.created_at).total_seconds() <= 24 * 3600 + 1


async def test_for_someone_else_needs_their_name_and_keeps_my_phone_apart(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    nameless = help_body(gcj(points.dipu), for_self=False, subject={})
    refused = await client.post("/mp/v1/help-requests", json=nameless, headers=resident)
    assert refused.status_code == 422 and "姓名" in refused.json()["detail"]
    assert refused.json()["errors"] == [
        {"field": "subject.name", "message": "为他人求助时，请填写对方的姓名或称呼"}
    ]
    body = help_body(
        gcj(points.dipu),
        for_self=False,
        relation="邻居",
        subject={"name": "隔壁张奶奶", "village_code": DIPU_VILLAGE},
    )
    response = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 201, response.text
    lead = await Lead.get(id=response.json()["id"])
    assert (lead.for_self, lead.subject_relation, lead.subject_phone_enc) == (False, "邻居", None)
    assert lead.contact_phone_enc is not None


async def test_without_location_the_village_routes_it(
    client: httpx.AsyncClient, resident: dict
) -> None:
    nowhere = await client.post("/mp/v1/help-requests", json=help_body(), headers=resident)
    assert nowhere.status_code == 422 and "村（社区）" in nowhere.json()["detail"]
    body = help_body(subject={"name": "王秀英", "village_code": DIPU_VILLAGE})
    response = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 201 and response.json()["township"]["code"] == "330523001"
    unknown = help_body(subject={"name": "王秀英", "village_code": "330523001999"})
    missing = await client.post("/mp/v1/help-requests", json=unknown, headers=resident)
    assert (
        missing.status_code == 422
        and missing.json()["errors"][0]["field"] == "subject.village_code"
    )


async def test_a_point_no_window_covers_asks_for_the_village(
    client: httpx.AsyncClient, resident: dict
) -> None:
    beijing = {"lat": 39.9087, "lng": 116.3975, "coord_type": "gcj02", "accuracy_m": 15}
    response = await client.post("/mp/v1/help-requests", json=help_body(beijing), headers=resident)
    assert response.status_code == 422 and response.json()["type"].endswith("/not-routable")
    assert await Lead.all().count() == 0


async def test_flagged_text_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, resident: dict, points: Points, wechat: WeChatStandIn
) -> None:
    wechat.flag("加微信领钱")
    body = help_body(gcj(points.dipu), description="加微信领钱，快来")
    response = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 422
    assert response.json()["type"].endswith("/content-flagged")
    assert "内容安全检查" in response.json()["detail"]
    assert await Lead.all().count() == 0
    checks = [c for c in wechat.log if c.path.startswith("/wxa/msg_sec_check")]
    assert checks and checks[-1].body["openid"] == "o-resident-a"
    assert checks[-1].body["version"] == 2


async def test_text_for_review_is_kept_and_marked(
    client: httpx.AsyncClient, resident: dict, points: Points, wechat: WeChatStandIn
) -> None:
    wechat.review("借钱")
    body = help_body(gcj(points.dipu), description="家里急需借钱看病")
    response = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 201
    assert (await Lead.get(id=response.json()["id"])).content_review


async def test_wechat_down_keeps_the_request_for_a_clerk_to_check(
    client: httpx.AsyncClient, resident: dict, points: Points, wechat: WeChatStandIn
) -> None:
    wechat.busy_next(20)
    response = await client.post(
        "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
    )
    assert response.status_code == 201, response.text
    assert (await Lead.get(id=response.json()["id"])).content_review


async def test_help_requests_are_rate_limited_per_resident_and_device(
    client: httpx.AsyncClient, resident: dict, points: Points, wechat: WeChatStandIn
) -> None:
    for _ in range(5):
        ok = await client.post(
            "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
        )
        assert ok.status_code == 201
    limited = await client.post(
        "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
    )
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "窗口电话" in limited.json()["detail"]
    # The same phone under other accounts: the device's limit (8) ends it.
    statuses = []
    for n in range(4):
        other = await mp_login(client, wechat, f"o-device-{n}")
        r = await client.post(
            "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=other
        )
        statuses.append(r.status_code)
    assert statuses == [201, 201, 201, 429]
    assert await Lead.all().count() == 8


async def test_photos_upload_as_multipart_and_bad_ones_are_refused(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    item = (
        await client.post(
            "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
        )
    ).json()
    url = f"/mp/v1/help-requests/{item['id']}/photos"
    jpeg = (photos_dir() / "gps_DSCN0010.jpg").read_bytes()
    photo_id = str(uuid.uuid4())
    sent = await client.post(
        url, data={"client_photo_id": photo_id}, files={"file": ("a.jpg", jpeg)}, headers=resident
    )
    assert sent.status_code == 201, sent.text
    retry = await client.post(
        url, data={"client_photo_id": photo_id}, files={"file": ("a.jpg", jpeg)}, headers=resident
    )
    assert retry.status_code == 200 and retry.json()["photo_id"] == sent.json()["photo_id"]
    fake = await client.post(
        url,
        data={"client_photo_id": str(uuid.uuid4())},
        files={"file": ("b.jpg", b"<html>not a photo</html>")},
        headers=resident,
    )
    assert fake.status_code in (415, 422) and fake.json()["type"].split("/")[-1].startswith(
        "photo-"
    )
    no_id = await client.post(url, files={"file": ("c.jpg", jpeg)}, headers=resident)
    assert no_id.status_code == 422 and no_id.json()["errors"][0]["field"] == "client_photo_id"
    raw = await client.post(url, content=jpeg, headers=resident)
    assert raw.status_code == 415
    assert await LeadPhoto.filter(lead_id=item["id"]).count() == 1
    shown = (await client.get(f"/mp/v1/help-requests/{item['id']}", headers=resident)).json()
    assert [p["client_photo_id"] for p in shown["photos"]] == [photo_id]


async def test_at_most_six_photos(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    item = (
        await client.post(
            "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
        )
    ).json()
    url = f"/mp/v1/help-requests/{item['id']}/photos"
    names = sorted(p.name for p in photos_dir().glob("*.jpg"))[:7]
    statuses = []
    for name in names:
        r = await client.post(
            url,
            data={"client_photo_id": str(uuid.uuid4())},
            files={"file": (name, (photos_dir() / name).read_bytes())},
            headers=resident,
        )
        statuses.append(r.status_code)
    assert statuses[:6] == [201] * 6 and statuses[6] == 409


async def test_another_residents_help_request_does_not_exist_for_me(
    client: httpx.AsyncClient, resident: dict, other_resident: dict, points: Points
) -> None:
    item = (
        await client.post(
            "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
        )
    ).json()
    assert (
        await client.get(f"/mp/v1/help-requests/{item['id']}", headers=other_resident)
    ).status_code == 404
    jpeg = (photos_dir() / "gps_DSCN0010.jpg").read_bytes()
    upload = await client.post(
        f"/mp/v1/help-requests/{item['id']}/photos",
        data={"client_photo_id": str(uuid.uuid4())},
        files={"file": ("a.jpg", jpeg)},
        headers=other_resident,
    )
    assert upload.status_code == 404
    assert (await client.get("/mp/v1/items", headers=other_resident)).json()["items"] == []
    bad_id = await client.get("/mp/v1/help-requests/not-a-uuid", headers=resident)
    assert bad_id.status_code == 400


async def test_a_point_picked_on_the_map_has_no_accuracy(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    picked = {k: v for k, v in gcj(points.dipu).items() if k != "accuracy_m"}
    response = await client.post("/mp/v1/help-requests", json=help_body(picked), headers=resident)
    assert response.status_code == 201, response.text
    lead = await Lead.get(id=response.json()["id"])
    assert (lead.routed_by, lead.accuracy_m) == ("polygon", None)


async def test_flagged_text_does_not_use_up_her_quota(
    client: httpx.AsyncClient, resident: dict, points: Points, wechat: WeChatStandIn
) -> None:
    wechat.flag("违禁词")
    for _ in range(6):
        flagged = help_body(gcj(points.dipu), description="含违禁词的描述")
        r = await client.post("/mp/v1/help-requests", json=flagged, headers=resident)
        assert r.status_code == 422
    ok = await client.post(
        "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
    )
    assert ok.status_code == 201


async def test_staff_notes_stay_off_the_residents_timeline_and_messages(
    client: httpx.AsyncClient, resident: dict, points: Points, clerk: User
) -> None:
    from backend.notify.models import Notice

    body = help_body(gcj(points.dipu), for_self=False, subject={"name": "隔壁张奶奶"})
    item = (await client.post("/mp/v1/help-requests", json=body, headers=resident)).json()
    principal = await load_principal(user_id=clerk.id, token_id="t", family="f")
    note = "经核查其子在杭州有稳定收入"
    await triage.close_lead(
        principal=principal,
        lead_id=uuid.UUID(item["id"]),
        expected_version=1,
        reason="other",
        note=note,
    )
    shown = await client.get(f"/mp/v1/help-requests/{item['id']}", headers=resident)
    assert note not in shown.text
    assert shown.json()["timeline"][-1]["message"] == "窗口已办结：其他"
    notices = await Notice.filter(item_id=item["id"])
    assert notices and all(note not in str(n.data) for n in notices)
    # The window itself still reads its note in the lead's timeline.
    events = await intake_service.list_events(lead=await Lead.get(id=item["id"]))
    assert note in events[-1].message


async def test_a_help_request_converted_for_herself_is_hers_to_follow(
    client: httpx.AsyncClient, resident: dict, points: Points, clerk: User
) -> None:
    item = (
        await client.post(
            "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
        )
    ).json()
    principal = await load_principal(user_id=clerk.id, token_id="t", family="f")
    await triage.convert_lead(
        principal=principal,
        lead_id=uuid.UUID(item["id"]),
        expected_version=1,
        category="linshi",
    )
    items = (await client.get("/mp/v1/items", headers=resident)).json()["items"]
    assert [i["kind"] for i in items] == ["application", "help"]
    application = await client.get(f"/mp/v1/applications/{items[0]['id']}", headers=resident)
    assert application.status_code == 200
    assert application.json()["category_label"] == "临时救助"


async def test_no_tags_and_no_words_still_reach_the_window(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    body = help_body(gcj(points.dipu), hardship=[], description="")
    response = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 201, response.text
    lead = await Lead.get(id=response.json()["id"])
    assert lead.hardship == [] and "电话联系" in lead.description and not lead.urgent


HANGGAI_VILLAGE = "330523104001"  # 高小社区 of 杭垓镇, far from 递铺街道


async def test_for_someone_else_their_village_decides_not_my_phone(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    # She is in 递铺街道 and asks for her mother, who lives in 杭垓镇.
    body = help_body(
        gcj(points.dipu),
        for_self=False,
        relation="女儿",
        subject={"name": "李桂花", "village_code": HANGGAI_VILLAGE},
    )
    response = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["township"]["code"] == "330523104"
    assert item["number"].startswith("330523104-")
    assert item["window"]["name"].startswith("杭垓镇")
    lead = await Lead.get(id=item["id"])
    assert (lead.township_code, lead.routed_by, lead.ambiguous) == (
        "330523104",
        "village_code",
        False,
    )
    # Her phone's point is kept as evidence of where the request came from.
    assert lead.lng is not None and lead.lat is not None
    assert (lead.lng, lead.lat) == (
        pytest.approx(points.dipu[0], abs=1e-6),
        pytest.approx(points.dipu[1], abs=1e-6),
    )
    assert lead.sent_location is not None and lead.sent_location["coord_type"] == "gcj02"


async def test_for_myself_my_phone_decides_over_the_village(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    # 急难型 help goes where the person is: her own request follows her phone.
    body = help_body(gcj(points.dipu), subject={"name": "王秀英", "village_code": HANGGAI_VILLAGE})
    response = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 201, response.text
    assert response.json()["township"]["code"] == "330523001"
    lead = await Lead.get(id=response.json()["id"])
    assert (lead.routed_by, lead.ambiguous) == ("polygon", False)


async def test_for_myself_near_a_border_my_village_decides(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    # 150 m inside 递铺街道 with a 500 m fix: the village she says she is in decides.
    body = help_body(
        wgs(points.dipu_by_xiaofeng, 500),
        subject={"name": "王秀英", "village_code": XIAOFENG_VILLAGE},
    )
    response = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 201, response.text
    assert response.json()["township"]["code"] == "330523105"
    lead = await Lead.get(id=response.json()["id"])
    assert (lead.routed_by, lead.ambiguous) == ("village_code", True)
    sharp = help_body(
        wgs(points.dipu_by_xiaofeng, 20),
        subject={"name": "王秀英", "village_code": XIAOFENG_VILLAGE},
    )
    response = await client.post("/mp/v1/help-requests", json=sharp, headers=resident)
    assert response.status_code == 201, response.text
    assert response.json()["township"]["code"] == "330523001"


async def test_a_burst_of_one_request_counts_once_and_answers_the_first(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    body = help_body(gcj(points.dipu))
    burst = await asyncio.gather(
        *(client.post("/mp/v1/help-requests", json=body, headers=resident) for _ in range(100))
    )
    statuses = sorted(r.status_code for r in burst)
    assert statuses == [200] * 99 + [201], statuses
    first = next(r for r in burst if r.status_code == 201).json()
    assert all(r.json() == first for r in burst)
    assert await Lead.all().count() == 1
    # The burst used one of her five: four new requests go through, the fifth is limited.
    for _ in range(4):
        new = await client.post(
            "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
        )
        assert new.status_code == 201, new.text
    limited = await client.post(
        "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
    )
    assert limited.status_code == 429
    # A replay of a sent request is never limited, even with the quota used up.
    again = await client.post("/mp/v1/help-requests", json=body, headers=resident)
    assert again.status_code == 200 and again.json()["id"] == first["id"]


async def test_a_merge_does_not_tell_her_the_other_requests_number(
    client: httpx.AsyncClient, resident: dict, points: Points, clerk: User
) -> None:
    sent = []
    for _ in range(2):
        r = await client.post(
            "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
        )
        assert r.status_code == 201, r.text
        sent.append(r.json())
    first, second = sent
    principal = await load_principal(user_id=clerk.id, token_id="t", family="f")
    await triage.merge_lead(
        principal=principal,
        lead_id=uuid.UUID(second["id"]),
        expected_version=1,
        into_lead_id=uuid.UUID(first["id"]),
    )
    numbers = (first["number"], second["number"])
    for item in (first, second):
        shown = (await client.get(f"/mp/v1/help-requests/{item['id']}", headers=resident)).json()
        messages = [e["message"] for e in shown["timeline"]]
        assert any("同一户" in m for m in messages), messages
        assert not any(n in m for m in messages for n in numbers), messages
