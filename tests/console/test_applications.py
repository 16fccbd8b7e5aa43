"""Residents' applications in the console: the list, the page (masked), accept, 一次性告知."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx
import pytest

from backend.cases.models import Application, ApplicationStatus
from backend.errors import PROBLEM_CONTENT_TYPE
from backend.integrity.models import AuditEvent
from backend.notify.models import Notice
from tests.console.conftest import signed_in
from tests.factories import make_user
from tests.harness.wechat_standin import WeChatStandIn
from tests.intake.conftest import Points, gcj, photos_dir, report_body
from tests.mp import conftest as mp_fixtures
from tests.mp.conftest import ID_A, ID_B, ID_C, application_body, help_body

# The resident API's fixtures: settings pointing WeChat at the stand-in, a signed-in resident.
settings = mp_fixtures.settings
resident = mp_fixtures.resident
boundaries = mp_fixtures.boundaries
points = mp_fixtures.points

DIPU = "330523001"
CHANGSHUO = "330523002"
CHANGSHUO_VILLAGE = "330523002001"


def assert_page(response: httpx.Response, status: int, *texts: str) -> str:
    """An HTML page of this status showing these texts."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    for text in texts:
        assert text in response.text, (text, response.text)
    return response.text


async def apply(
    client: httpx.AsyncClient, headers: dict[str, str], **changes: Any
) -> dict[str, Any]:
    """Send an application as the mini-program does; returns the resident's view of it."""
    response = await client.post(
        "/mp/v1/applications", json=application_body(**changes), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def clerk(resident: dict[str, str]) -> None:
    """A window clerk of 递铺街道 (after the resident fixture has loaded the divisions)."""
    await make_user("dipu_clerk", "window_clerk", DIPU)


@pytest.fixture
async def item(console: httpx.AsyncClient, resident: dict[str, str], clerk: None) -> dict[str, Any]:
    """A 低保 application from the mini-program, filed at 递铺街道 by the 户籍 village."""
    return await apply(console, resident)


async def _row(item: dict[str, Any]) -> Application:
    return await Application.get(id=item["id"])


async def test_the_clerk_sees_it_opens_it_masked_and_accepts_it(
    app: Any, console: httpx.AsyncClient, resident: dict[str, str], item: dict[str, Any]
) -> None:
    calls: list[int] = []
    kicker = app.ctx.kicker
    original = kicker.notices

    async def counting() -> None:
        calls.append(1)
        await original()

    # The service kicks once its transaction commits; the console page does not have to.
    kicker.notices = counting
    csrf = await signed_in(console, "dipu_clerk")
    home = (await console.get("/console/")).text
    assert 'href="/console/applications"' in home and "救助申请" in home
    listing = assert_page(
        await console.get("/console/applications"),
        200,
        item["number"],
        "最低生活保障",
        "李建国",
        "居民小程序",
        "已提交，待窗口受理",
    )
    assert 'aria-current="page">救助申请' in listing
    assert "需复核" not in listing
    url = f"/console/applications/{item['id']}"
    page = assert_page(
        await console.get(url),
        200,
        "李建国",
        "330523********0014",
        "139****0002",
        "张桂兰",
        "配偶",
        "孙子女/外孙子女",
        "330523********0025",
        "860.50",
        "2000.00",
        "自建房一处",
        "长竹社区",
        "本人年老多病",
        "授权时间",
        "家庭成员",
        'action="/console/applications/' + item["id"] + '/accept"',
        "一次性告知补充材料",
    )
    for secret in (ID_A, ID_B, ID_C, "13905720002"):
        assert secret not in page
    assert "未授权" not in page
    response = await console.post(f"{url}/accept", data={"csrf_token": csrf, "version": "1"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{url}?done=accept"
    page = assert_page(
        await console.get(response.headers["location"]),
        200,
        "已受理该申请",
        'data-status="accepted"',
        "窗口已受理，进入审核",
        "窗口受理员 dipu_clerk",
    )
    assert "/accept" not in page and "/request-materials" not in page  # nothing more to do here
    row = await _row(item)
    assert row.status == ApplicationStatus.ACCEPTED and row.version == 2
    audit = await AuditEvent.get(action="application.accept", entity_id=item["id"])
    assert audit.before == {"status": "received", "version": 1}
    assert audit.actor_label == "window_clerk:dipu_clerk"
    assert await Notice.filter(item_id=item["id"]).count() == 1
    assert calls == [1]
    shown = await console.get(f"/mp/v1/applications/{item['id']}", headers=resident)
    assert shown.status_code == 200 and shown.json()["status"] == "accepted"
    assert shown.json()["timeline"][-1]["kind"] == "accepted"
    accepted = (await console.get("/console/applications?status=accepted")).text
    assert item["number"] in accepted
    received = (await console.get("/console/applications?status=received")).text
    assert item["number"] not in received


async def test_one_time_notice_of_missing_materials_then_accept(
    console: httpx.AsyncClient, resident: dict[str, str], item: dict[str, Any]
) -> None:
    csrf = await signed_in(console, "dipu_clerk")
    url = f"/console/applications/{item['id']}"
    materials = "户口本首页照片、近三个月银行流水"
    response = await console.post(
        f"{url}/request-materials",
        data={"csrf_token": csrf, "version": "1", "materials": materials},
    )
    assert response.status_code == 303, response.text
    page = assert_page(
        await console.get(response.headers["location"]),
        200,
        "已一次性告知申请人需补充的材料",
        "需要补充材料",
        "银行流水",
    )
    # Once told, it is not told again in pieces; accepting is still possible.
    assert "/request-materials" not in page and f"{url}/accept" in page
    shown = (await console.get(f"/mp/v1/applications/{item['id']}", headers=resident)).json()
    assert shown["status"] == "materials_requested"
    assert materials in shown["timeline"][-1]["message"]
    audit = await AuditEvent.get(action="application.request_materials", entity_id=item["id"])
    assert audit.after["materials"] == materials
    accepted = await console.post(f"{url}/accept", data={"csrf_token": csrf, "version": "2"})
    assert accepted.status_code == 303, accepted.text
    assert (await _row(item)).status == ApplicationStatus.ACCEPTED


async def test_refused_actions_change_nothing(
    console: httpx.AsyncClient, item: dict[str, Any]
) -> None:
    csrf = await signed_in(console, "dipu_clerk")
    url = f"/console/applications/{item['id']}"
    empty = await console.post(
        f"{url}/request-materials", data={"csrf_token": csrf, "version": "1", "materials": "  "}
    )
    page = assert_page(empty, 422, "请列出需要补充的全部材料", "李建国", "办理记录")
    assert ID_A not in page
    long = "材" * 201
    too_long = await console.post(
        f"{url}/request-materials", data={"csrf_token": csrf, "version": "1", "materials": long}
    )
    assert_page(too_long, 422, "不能超过 200 个字", long)  # what was typed stays in the form
    no_version = await console.post(f"{url}/accept", data={"csrf_token": csrf})
    assert_page(no_version, 422, "表单缺少版本号")
    stale = await console.post(f"{url}/accept", data={"csrf_token": csrf, "version": "7"})
    assert_page(stale, 409, "该申请已被他人更新，请刷新后重试")
    unknown = await console.post(f"{url}/approve", data={"csrf_token": csrf, "version": "1"})
    assert_page(unknown, 404, "没有这个操作")
    row = await _row(item)
    assert row.status == ApplicationStatus.RECEIVED and row.version == 1
    assert not await AuditEvent.filter(
        action__in=["application.accept", "application.request_materials"]
    ).exists()
    assert not await Notice.filter(item_id=item["id"]).exists()
    # Accepted once; a second form read at the old version, and the wrong state, are refused.
    ok = await console.post(f"{url}/accept", data={"csrf_token": csrf, "version": "1"})
    assert ok.status_code == 303
    again = await console.post(
        f"{url}/request-materials", data={"csrf_token": csrf, "version": "1", "materials": "户口本"}
    )
    assert_page(again, 409, "该申请已被他人更新")
    wrong_state = await console.post(
        f"{url}/request-materials", data={"csrf_token": csrf, "version": "2", "materials": "户口本"}
    )
    assert_page(wrong_state, 409, "不能进行此操作")
    row = await _row(item)
    assert row.status == ApplicationStatus.ACCEPTED and row.version == 2
    # htmx and JSON callers read the refusal as problem+json.
    hx = await console.post(
        f"{url}/accept",
        data={"version": "2"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert hx.status_code == 409
    assert hx.headers["content-type"].startswith(PROBLEM_CONTENT_TYPE)


async def test_forged_csrf_is_refused(console: httpx.AsyncClient, item: dict[str, Any]) -> None:
    await signed_in(console, "dipu_clerk")
    url = f"/console/applications/{item['id']}/accept"
    assert_page(await console.post(url, data={"version": "1"}), 403, "安全校验未通过")
    assert_page(await console.post(url, data={"version": "1", "csrf_token": "forged"}), 403)
    hx = await console.post(
        url, data={"version": "1"}, headers={"HX-Request": "true", "X-CSRF-Token": "forged"}
    )
    assert hx.status_code == 403 and hx.json()["type"].endswith("csrf-failed")
    row = await _row(item)
    assert row.status == ApplicationStatus.RECEIVED and row.version == 1


async def test_another_township_does_not_see_it(
    console: httpx.AsyncClient, item: dict[str, Any]
) -> None:
    await make_user("changshuo_clerk", "window_clerk", CHANGSHUO)
    csrf = await signed_in(console, "changshuo_clerk")
    url = f"/console/applications/{item['id']}"
    assert_page(await console.get(url), 404, "不在您的管辖范围内")
    listing = assert_page(await console.get("/console/applications"), 200, "没有符合条件的申请")
    assert item["number"] not in listing
    for action, extra in (("accept", {}), ("request-materials", {"materials": "户口本"})):
        response = await console.post(
            f"{url}/{action}", data={"csrf_token": csrf, "version": "1", **extra}
        )
        assert_page(response, 404, "不在您的管辖范围内")
    row = await _row(item)
    assert row.status == ApplicationStatus.RECEIVED and row.version == 1
    assert_page(await console.get("/console/applications/not-a-uuid"), 404, "找不到该申请")
    assert_page(
        await console.post(
            "/console/applications/not-a-uuid/accept", data={"csrf_token": csrf, "version": "1"}
        ),
        404,
        "找不到该申请",
    )
    assert_page(await console.get(f"/console/applications/{uuid.uuid4()}"), 404, "找不到该申请")


async def test_an_investigator_reads_but_cannot_act(
    console: httpx.AsyncClient, item: dict[str, Any]
) -> None:
    await make_user("dipu_inv", "investigator", DIPU)
    csrf = await signed_in(console, "dipu_inv")
    url = f"/console/applications/{item['id']}"
    page = assert_page(await console.get(url), 200, item["number"], "330523********0014")
    assert "/accept" not in page and "/request-materials" not in page
    for action, extra in (("accept", {}), ("request-materials", {"materials": "户口本"})):
        response = await console.post(
            f"{url}/{action}", data={"csrf_token": csrf, "version": "1", **extra}
        )
        assert_page(response, 403, "您的岗位没有此操作的权限")
    row = await _row(item)
    assert row.status == ApplicationStatus.RECEIVED and row.version == 1


async def test_a_county_user_sees_every_township_and_a_bad_filter_is_explained(
    console: httpx.AsyncClient, resident: dict[str, str], item: dict[str, Any]
) -> None:
    other = await apply(console, resident, hukou_village_code=CHANGSHUO_VILLAGE)
    await make_user("anji_approver", "county_approver", "330523")
    await signed_in(console, "anji_approver")
    listing = assert_page(
        await console.get("/console/applications"), 200, item["number"], other["number"]
    )
    assert "<th>受理窗口</th>" in listing and "递铺街道" in listing and "昌硕街道" in listing
    # Newest first.
    assert listing.index(other["number"]) < listing.index(item["number"])
    page = assert_page(await console.get(f"/console/applications/{other['id']}"), 200)
    assert "/accept" not in page
    assert_page(await console.get("/console/applications?status=nonsense"), 422, "未知状态")


async def test_flagged_for_review_and_window_applications(
    console: httpx.AsyncClient,
    resident: dict[str, str],
    clerk: None,
    wechat: WeChatStandIn,
    worker: dict[str, str],
    points: Points,
) -> None:
    wechat.review("低保")
    reviewed = await apply(console, resident, reason="申请低保，家里困难")
    # A window application converted from a grid worker's lead: no consent signed yet.
    report = await console.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker
    )
    assert report.status_code == 201, report.text
    lead = report.json()
    csrf = await signed_in(console, "dipu_clerk")
    converted = await console.post(
        f"/console/leads/{lead['id']}/convert",
        data={"csrf_token": csrf, "version": "1", "category": "linshi"},
    )
    assert converted.status_code == 303, converted.text
    window = await Application.get(lead_id=lead["id"])
    listing = (await console.get("/console/applications")).text
    row = listing[listing.index(f'data-application="{reviewed["number"]}"') :]
    assert "需复核" in row[: row.index("</tr>")]
    assert window.number in listing and "窗口代为申请" in listing and "临时救助" in listing
    flagged = assert_page(
        await console.get(f"/console/applications/{reviewed['id']}"),
        200,
        "微信内容安全检查提示需人工复核",
    )
    assert "未授权" not in flagged
    page = assert_page(
        await console.get(f"/console/applications/{window.id}"),
        200,
        "未授权",
        "窗口代为申请",
        f'href="/console/leads/{lead["id"]}"',
        "未填写家庭成员",
    )
    assert "微信内容安全检查" not in page


async def test_supporting_photos_open_through_short_lived_links(
    console: httpx.AsyncClient, resident: dict[str, str], item: dict[str, Any]
) -> None:
    if not photos_dir().exists():
        pytest.skip("the sample photos are not present")
    jpeg = (photos_dir() / "gps_DSCN0010.jpg").read_bytes()
    upload = await console.post(
        f"/mp/v1/applications/{item['id']}/photos",
        data={"client_photo_id": str(uuid.uuid4())},
        files={"file": ("a.jpg", jpeg)},
        headers=resident,
    )
    assert upload.status_code == 201, upload.text
    await signed_in(console, "dipu_clerk")
    page = assert_page(await console.get(f"/console/applications/{item['id']}"), 200, "材料照片 1")
    link = re.search(r'<a href="([^"]+)"[^>]*data-document', page)
    assert link, page
    url = html.unescape(link.group(1))
    assert "/original" in url and "X-Amz-Expires=300" in url
    async with httpx.AsyncClient() as s3:
        image = await s3.get(url)
    assert image.status_code == 200 and image.content == jpeg


# --- a resident's help request on the lead page ----------------------------------------------


async def test_lead_page_shows_who_asked_for_help(
    console: httpx.AsyncClient,
    resident: dict[str, str],
    clerk: None,
    points: Points,
    wechat: WeChatStandIn,
) -> None:
    body = help_body(
        gcj(points.dipu),
        for_self=False,
        relation="邻居",
        subject={"name": "隔壁张奶奶", "address": "递铺街道长竹社区8号"},
    )
    response = await console.post("/mp/v1/help-requests", json=body, headers=resident)
    assert response.status_code == 201, response.text
    lead = response.json()
    await signed_in(console, "dipu_clerk")
    page = assert_page(
        await console.get(f"/console/leads/{lead['id']}"),
        200,
        "求助人",
        "为他人求助",
        "邻居",
        "139****0001",
        "隔壁张奶奶",
        "居民求助",
    )
    assert "13905720001" not in page
    assert "微信内容安全检查提示需人工复核" not in page
    # For herself, with text WeChat asks a person to look at.
    wechat.review("医药费")
    mine = await console.post(
        "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
    )
    assert mine.status_code == 201, mine.text
    page = assert_page(
        await console.get(f"/console/leads/{mine.json()['id']}"),
        200,
        "为本人求助",
        "微信内容安全检查提示需人工复核",
    )
    assert "为他人求助" not in page


async def test_a_grid_workers_lead_has_no_requester_block(
    console: httpx.AsyncClient,
    resident: dict[str, str],
    clerk: None,
    worker: dict[str, str],
    points: Points,
) -> None:
    report = await console.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker
    )
    assert report.status_code == 201, report.text
    await signed_in(console, "dipu_clerk")
    page = assert_page(await console.get(f"/console/leads/{report.json()['id']}"), 200, "困难对象")
    assert "求助人" not in page and "为本人求助" not in page and "为他人求助" not in page


# ID_A in its first-generation 15-digit form: the century dropped, no check digit.
ID_A_15 = "330523500307001"


def _shown(application: dict[str, Any]) -> str:
    """How the lead page names an application of the same person."""
    link = f'<a href="/console/applications/{application["id"]}">{application["number"]}</a>'
    return f"该人员已有申请 {link}"


async def _report_person(
    console: httpx.AsyncClient, worker: dict[str, str], points: Points, id_number: str
) -> dict[str, Any]:
    subject = {"name": "李建国", "id_number": id_number}
    response = await console.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu), subject=subject), headers=worker
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_reported_household_that_applied_is_shown_to_the_clerk(
    console: httpx.AsyncClient,
    resident: dict[str, str],
    clerk: None,
    worker: dict[str, str],
    points: Points,
) -> None:
    applied = await apply(console, resident)
    # The grid worker writes the applicant's old 15-digit number; a member (ID_B) is reported too.
    applicant_lead = await _report_person(console, worker, points, ID_A_15)
    member_lead = await _report_person(console, worker, points, ID_B)
    other_lead = await _report_person(console, worker, points, "330523198001011233")
    await signed_in(console, "dipu_clerk")
    for lead in (applicant_lead, member_lead):
        assert_page(
            await console.get(f"/console/leads/{lead['id']}"),
            200,
            _shown(applied),
        )
    page = assert_page(await console.get(f"/console/leads/{other_lead['id']}"), 200)
    assert "该人员已有申请" not in page


async def test_an_application_in_another_window_is_not_shown(
    console: httpx.AsyncClient,
    resident: dict[str, str],
    clerk: None,
    worker: dict[str, str],
    points: Points,
) -> None:
    elsewhere = await apply(console, resident, hukou_village_code=CHANGSHUO_VILLAGE)
    lead = await _report_person(console, worker, points, ID_A)
    await signed_in(console, "dipu_clerk")
    page = assert_page(await console.get(f"/console/leads/{lead['id']}"), 200)
    assert "该人员已有申请" not in page and elsewhere["number"] not in page
    # The county sees both windows: its approver is told.
    await make_user("anji_approver", "county_approver", "330523")
    console.cookies.clear()
    await signed_in(console, "anji_approver")
    assert_page(
        await console.get(f"/console/leads/{lead['id']}"),
        200,
        _shown(elsewhere),
    )
