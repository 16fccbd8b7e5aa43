"""Applications from the mini-program: checked ID numbers, consent, routed by 户籍 village."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from backend.accounts.service import load_principal
from backend.cases import service as cases
from backend.cases.models import Application, ApplicationDocument, ApplicationSource
from backend.cases.service import DecisionClock
from backend.integrity.models import AuditEvent
from backend.workdays import WorkCalendar
from tests.intake.conftest import photos_dir
from tests.mp.conftest import ID_A, ID_B, application_body

CHANGSHUO_VILLAGE = "330523002001"

CLOCK = DecisionClock(calendar=WorkCalendar())


async def test_application_goes_to_the_hukou_township_with_ids_masked(
    client: httpx.AsyncClient, resident: dict
) -> None:
    response = await client.post("/mp/v1/applications", json=application_body(), headers=resident)
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["kind"] == "application" and item["township"]["code"] == "330523001"
    assert item["number"].startswith("330523001-SQ-")
    assert item["category_label"] == "最低生活保障" and item["status"] == "received"
    assert item["applicant"]["id_number"] != ID_A and item["applicant"]["id_number"].endswith(
        "0014"
    )
    assert [m["relation_label"] for m in item["members"]] == ["配偶", "孙子女/外孙子女"]
    assert ID_B not in response.text and "13905720002" not in response.text
    assert item["income_monthly_yuan"] == 860.5 and item["assets"]["savings_yuan"] == 2000
    assert item["hukou_village"]["code"] == "330523001001"
    row = await Application.get(id=item["id"])
    assert row.source == ApplicationSource.RESIDENT and row.consent_at is not None
    assert row.income_monthly_fen == 86050
    assert ID_A not in (row.applicant_id_enc or "") and ID_B not in str(row.members)
    assert await AuditEvent.filter(action="application.create", entity_id=item["id"]).exists()


async def test_the_hukou_village_decides_not_where_she_is(
    client: httpx.AsyncClient, resident: dict
) -> None:
    body = application_body(hukou_village_code=CHANGSHUO_VILLAGE)
    response = await client.post("/mp/v1/applications", json=body, headers=resident)
    assert response.status_code == 201, response.text
    assert response.json()["township"]["code"] == "330523002"


async def test_a_15_digit_id_is_converted(client: httpx.AsyncClient, resident: dict) -> None:
    old = ID_A[:6] + ID_A[8:17]  # the first-generation form of the same number
    body = application_body(applicant={"name": "李建国", "id_number": old})
    response = await client.post("/mp/v1/applications", json=body, headers=resident)
    assert response.status_code == 201, response.text
    assert response.json()["applicant"]["id_number"].endswith("0014")


async def test_bad_id_numbers_name_the_field_and_write_nothing(
    client: httpx.AsyncClient, resident: dict
) -> None:
    wrong_digit = ID_A[:17] + ("1" if ID_A[17] != "1" else "2")
    body = application_body(applicant={"name": "李建国", "id_number": wrong_digit})
    response = await client.post("/mp/v1/applications", json=body, headers=resident)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "applicant.id_number"
    assert "校验码" in response.json()["errors"][0]["message"]
    member = application_body(
        members=[{"name": "张桂兰", "id_number": "330523198807120020", "relation": "spouse"}]
    )
    response = await client.post("/mp/v1/applications", json=member, headers=resident)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "members.0.id_number"
    twice = application_body(members=[{"name": "李建国", "id_number": ID_A, "relation": "other"}])
    response = await client.post("/mp/v1/applications", json=twice, headers=resident)
    assert response.status_code == 422 and "重复" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "members.0.id_number"
    assert await Application.all().count() == 0


async def test_without_consent_it_cannot_be_sent(client: httpx.AsyncClient, resident: dict) -> None:
    for consent in (
        {"economic_check": False, "signed_name": "李建国"},
        {"economic_check": True, "signed_name": "别人"},
        None,
    ):
        body = application_body()
        if consent is None:
            del body["consent"]
        else:
            body["consent"] = consent
        response = await client.post("/mp/v1/applications", json=body, headers=resident)
        assert response.status_code == 422, consent
        problem = response.json()
        assert problem["type"].endswith("/consent-required") and "授权" in problem["detail"]
    assert await Application.all().count() == 0


async def test_a_village_that_does_not_exist_is_refused(
    client: httpx.AsyncClient, resident: dict
) -> None:
    for code in ("330523001999", "330523001000", "999999999999"):
        body = application_body(hukou_village_code=code)
        response = await client.post("/mp/v1/applications", json=body, headers=resident)
        assert response.status_code == 422, code
        assert response.json()["errors"][0]["field"] == "hukou_village_code"
    malformed = await client.post(
        "/mp/v1/applications", json=application_body(hukou_village_code="3305"), headers=resident
    )
    assert malformed.status_code == 422
    unknown_category = await client.post(
        "/mp/v1/applications", json=application_body(category="shehui"), headers=resident
    )
    assert unknown_category.status_code == 422
    money = await client.post(
        "/mp/v1/applications", json=application_body(income_monthly_yuan=-5), headers=resident
    )
    assert money.status_code == 422 and money.json()["errors"][0]["field"] == "income_monthly_yuan"
    assert await Application.all().count() == 0


async def test_replay_and_conflict(client: httpx.AsyncClient, resident: dict) -> None:
    body = application_body()
    first = await client.post("/mp/v1/applications", json=body, headers=resident)
    again = await client.post("/mp/v1/applications", json=body, headers=resident)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = await client.post(
        "/mp/v1/applications", json=body | {"reason": "改了"}, headers=resident
    )
    assert other.status_code == 409
    assert await Application.all().count() == 1


async def test_flagged_reason_is_refused(
    client: httpx.AsyncClient, resident: dict, wechat: object
) -> None:
    wechat.flag("代办低保包过")  # type: ignore[attr-defined]
    body = application_body(reason="找人代办低保包过")
    response = await client.post("/mp/v1/applications", json=body, headers=resident)
    assert response.status_code == 422 and response.json()["type"].endswith("/content-flagged")
    assert await Application.all().count() == 0


async def test_supporting_photos_and_other_residents(
    client: httpx.AsyncClient, resident: dict, other_resident: dict
) -> None:
    item = (
        await client.post("/mp/v1/applications", json=application_body(), headers=resident)
    ).json()
    url = f"/mp/v1/applications/{item['id']}/photos"
    jpeg = (photos_dir() / "gps_DSCN0010.jpg").read_bytes()
    ok = await client.post(
        url,
        data={"client_photo_id": str(uuid.uuid4())},
        files={"file": ("a.jpg", jpeg)},
        headers=resident,
    )
    assert ok.status_code == 201, ok.text
    fake = await client.post(
        url,
        data={"client_photo_id": str(uuid.uuid4())},
        files={"file": ("a.jpg", b"GIF89a...")},
        headers=resident,
    )
    assert fake.status_code in (415, 422)
    theirs = await client.post(
        url,
        data={"client_photo_id": str(uuid.uuid4())},
        files={"file": ("a.jpg", jpeg)},
        headers=other_resident,
    )
    assert theirs.status_code == 404
    assert await ApplicationDocument.filter(application_id=item["id"]).count() == 1
    assert (
        await client.get(f"/mp/v1/applications/{item['id']}", headers=other_resident)
    ).status_code == 404


async def test_my_items_list_both_kinds_newest_first_with_pages(
    client: httpx.AsyncClient, resident: dict
) -> None:
    from tests.mp.conftest import DIPU_VILLAGE, help_body

    made = []
    for n in range(3):
        made.append(
            (
                await client.post(
                    "/mp/v1/help-requests",
                    json=help_body(subject={"name": f"求助{n}", "village_code": DIPU_VILLAGE}),
                    headers=resident,
                )
            ).json()["id"]
        )
        made.append(
            (
                await client.post("/mp/v1/applications", json=application_body(), headers=resident)
            ).json()["id"]
        )
    first = (await client.get("/mp/v1/items?limit=4", headers=resident)).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    rest = (
        await client.get(f"/mp/v1/items?limit=4&cursor={first['next_cursor']}", headers=resident)
    ).json()
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert ids == list(reversed(made)) and rest["next_cursor"] is None
    kinds = {i["kind"] for i in first["items"]}
    assert kinds == {"help", "application"}
    bad = await client.get("/mp/v1/items?cursor=%%%", headers=resident)
    assert bad.status_code == 422


async def test_clerk_accepts_and_the_resident_reads_it(
    client: httpx.AsyncClient, resident: dict, clerk: object
) -> None:
    item = (
        await client.post("/mp/v1/applications", json=application_body(), headers=resident)
    ).json()
    principal = await load_principal(user_id=clerk.id, token_id="t", family="f")  # type: ignore[attr-defined]
    await cases.request_materials(
        principal=principal,
        application_id=uuid.UUID(item["id"]),
        expected_version=1,
        materials="户口本首页照片、近三个月银行流水",
    )
    shown = (await client.get(f"/mp/v1/applications/{item['id']}", headers=resident)).json()
    assert shown["status_label"] == "需要补充材料"
    assert "银行流水" in shown["timeline"][-1]["message"]
    await cases.accept_application(
        clock=CLOCK, principal=principal, application_id=uuid.UUID(item["id"]), expected_version=2
    )
    shown = (await client.get(f"/mp/v1/applications/{item['id']}", headers=resident)).json()
    assert shown["status"] == "accepted"
    assert [e["kind"] for e in shown["timeline"]] == ["received", "materials_requested", "accepted"]


async def test_a_burst_of_one_application_counts_once(
    client: httpx.AsyncClient, resident: dict
) -> None:
    body = application_body()
    burst = await asyncio.gather(
        *(client.post("/mp/v1/applications", json=body, headers=resident) for _ in range(30))
    )
    statuses = sorted(r.status_code for r in burst)
    assert statuses == [200] * 29 + [201], statuses
    first = next(r for r in burst if r.status_code == 201).json()
    assert all(r.json()["id"] == first["id"] for r in burst)
    assert await Application.all().count() == 1
    for _ in range(4):
        new = await client.post("/mp/v1/applications", json=application_body(), headers=resident)
        assert new.status_code == 201, new.text
    limited = await client.post("/mp/v1/applications", json=application_body(), headers=resident)
    assert limited.status_code == 429
    again = await client.post("/mp/v1/applications", json=body, headers=resident)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
