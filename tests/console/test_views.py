"""The console over HTTP: sessions, CSRF, lockout, jurisdiction, escaping, the window profile."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from backend.accounts.service import set_user_active
from backend.app import create_app
from backend.config import Settings
from backend.console.leads import QUEUE_PAGE_SIZE
from backend.errors import PROBLEM_CONTENT_TYPE
from backend.intake.models import Lead, LeadStatus, Referral
from backend.intake.photos import process_lead_photo
from backend.integrity.models import AuditEvent
from backend.windows.models import Window
from tests.console.conftest import csrf_of, form_login, signed_in
from tests.factories import PASSWORD, make_user
from tests.intake.conftest import Points, gcj, photos_dir, report_body

DIPU = "330523001"
CHANGSHUO = "330523002"


def assert_page(response: httpx.Response, status: int, *texts: str) -> str:
    """An HTML page of this status showing these texts."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    for text in texts:
        assert text in response.text, (text, response.text)
    return response.text


@pytest.fixture
async def clerk(geo: None) -> None:
    """A window clerk of 递铺街道."""
    await make_user("dipu_clerk", "window_clerk", DIPU)


@pytest.fixture
async def head(geo: None) -> None:
    """The township head of 递铺街道."""
    await make_user("dipu_head", "township_head", DIPU)


# --- login, session, logout ------------------------------------------------------------------


async def test_pages_need_a_login(console: httpx.AsyncClient, clerk: None) -> None:
    response = await console.get("/console/leads?status=received")
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/console/login?next=%2Fconsole%2Fleads%3Fstatus%3Dreceived"
    )
    # htmx (the queue's polling) gets problem+json and is told where to go.
    response = await console.get("/console/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM_CONTENT_TYPE)
    assert response.headers["hx-redirect"].startswith("/console/login")


async def test_login_sets_a_secure_http_only_session_cookie(
    console: httpx.AsyncClient, clerk: None
) -> None:
    response = await form_login(console, "dipu_clerk")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("yimen_console=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite", "path"} <= attributes
    assert "SameSite=Lax" in cookie and "Path=/console" in cookie
    page = assert_page(await console.get("/console/"), 200, "dipu_clerk", "退出登录")
    assert "<script>" not in page.split("</head>")[1]  # no inline scripts
    assert "cdn" not in page.lower()


async def test_wrong_password_and_non_staff_are_refused_in_chinese(
    console: httpx.AsyncClient, clerk: None
) -> None:
    assert_page(await form_login(console, "dipu_clerk", "wrong password"), 401, "用户名或密码错误")
    await make_user("grid_x", "grid_worker", DIPU, villages=["330523001001"])
    response = await form_login(console, "grid_x")
    assert_page(response, 401, "用户名或密码错误")
    assert "yimen_console=" not in "".join(response.headers.get_list("set-cookie")).replace(
        "yimen_console_login", ""
    )


async def test_login_form_needs_its_token(console: httpx.AsyncClient, clerk: None) -> None:
    await console.get("/console/login")
    for token in (None, "forged"):
        data = {"username": "dipu_clerk", "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        response = await console.post("/console/login", data=data)
        assert_page(response, 403, "安全校验未通过")
    assert (await console.get("/console/")).status_code == 303  # still not signed in


async def test_repeated_failures_lock_the_login(console: httpx.AsyncClient, clerk: None) -> None:
    # The test settings allow 5 failures a minute, counted by the same limiter as the API's.
    for _ in range(5):
        assert (await form_login(console, "dipu_clerk", "wrong password")).status_code == 401
    response = await form_login(console, "dipu_clerk")
    assert_page(response, 429, "登录失败次数过多")
    assert int(response.headers["retry-after"]) >= 1
    # The API's login sees the same lock.
    api = await console.post(
        "/api/v1/auth/login", json={"username": "dipu_clerk", "password": PASSWORD}
    )
    assert api.status_code == 429


async def test_next_only_leads_back_into_the_console(
    console: httpx.AsyncClient, clerk: None
) -> None:
    page = await console.get("/console/login?next=https://evil.example/x")
    response = await console.post(
        "/console/login",
        data={
            "csrf_token": csrf_of(page.text),
            "username": "dipu_clerk",
            "password": PASSWORD,
            "next": "//evil.example/x",
        },
    )
    assert response.headers["location"] == "/console/"


async def test_logout_deletes_the_session(console: httpx.AsyncClient, clerk: None) -> None:
    csrf = await signed_in(console, "dipu_clerk")
    cookie = console.cookies.get("yimen_console")
    response = await console.post("/console/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    assert (await console.get("/console/")).status_code == 303
    # The old cookie, replayed, is worth nothing: the session is gone from Redis.
    replay = await console.get("/console/", headers={"Cookie": f"yimen_console={cookie}"})
    assert replay.status_code == 303


async def test_logout_without_the_csrf_token_changes_nothing(
    console: httpx.AsyncClient, clerk: None
) -> None:
    await signed_in(console, "dipu_clerk")
    assert_page(await console.post("/console/logout"), 403, "安全校验未通过")
    assert_page(await console.post("/console/logout", data={"csrf_token": "x"}), 403)
    response = await console.post("/console/logout", headers={"X-CSRF-Token": "forged"})
    assert response.status_code == 403
    assert (await console.get("/console/")).status_code == 200  # still signed in


async def test_a_disabled_account_loses_its_session(
    app: Any, console: httpx.AsyncClient, clerk: None
) -> None:
    await signed_in(console, "dipu_clerk")
    await set_user_active(username="dipu_clerk", active=False, tokens=app.ctx.tokens)
    assert (await console.get("/console/")).status_code == 303


# --- the window profile ----------------------------------------------------------------------


def _window_form(html: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf_of(html),
        "township": DIPU,
        "version": "1",
        "name": "递铺街道社会救助一门受理窗口",
        "address": "递铺街道便民服务中心一楼",
        "opening_hours": "周一至周五 8:30-17:00",
        "phone": "0572-5001000",
        "complaint_phone": "0572-5123456",
        "policies": "《社会救助暂行办法》\n\n临时救助：急难型先行救助",
        "duties": "一门受理",
    }
    return form | changes


async def test_township_head_edits_the_window(console: httpx.AsyncClient, head: None) -> None:
    await signed_in(console, "dipu_head")
    page = assert_page(await console.get("/console/window"), 200, "递铺街道", "窗口公示信息")
    response = await console.post("/console/window", data=_window_form(page))
    assert response.status_code == 303, response.text
    assert_page(await console.get(response.headers["location"]), 200, "已保存", "便民服务中心一楼")
    window = await Window.get(township_code=DIPU)
    assert window.version == 2
    assert window.policies == ["《社会救助暂行办法》", "临时救助：急难型先行救助"]
    public = (await console.get(f"/api/v1/windows/{DIPU}")).json()
    assert public["address"] == "递铺街道便民服务中心一楼"


async def test_window_edit_refuses_bad_input_stale_forms_and_forged_tokens(
    console: httpx.AsyncClient, head: None
) -> None:
    await signed_in(console, "dipu_head")
    page = (await console.get("/console/window")).text
    bad = await console.post("/console/window", data=_window_form(page, phone="电话"))
    assert_page(bad, 422, "电话号码格式不正确", "请检查标出的内容")
    stale = await console.post("/console/window", data=_window_form(page, version="7"))
    assert_page(stale, 409, "窗口信息已被他人修改")
    forged = await console.post("/console/window", data=_window_form(page, csrf_token="forged"))
    assert_page(forged, 403, "安全校验未通过")
    missing = _window_form(page)
    del missing["csrf_token"]
    assert_page(await console.post("/console/window", data=missing), 403)
    window = await Window.get(township_code=DIPU)
    assert window.version == 1 and window.address != "递铺街道便民服务中心一楼"


async def test_window_edit_checks_role_and_jurisdiction(
    console: httpx.AsyncClient, clerk: None
) -> None:
    await make_user("changshuo_head", "township_head", CHANGSHUO)
    await signed_in(console, "dipu_clerk")
    assert_page(await console.get("/console/window"), 403, "您的岗位没有此操作的权限")
    await console.post(
        "/console/logout", data={"csrf_token": csrf_of((await console.get("/console/")).text)}
    )
    await signed_in(console, "changshuo_head")
    assert_page(await console.get(f"/console/window?township={DIPU}"), 404, "不在您的管辖范围内")
    page = (await console.get("/console/window")).text
    response = await console.post("/console/window", data=_window_form(page, township=DIPU))
    assert_page(response, 404)
    assert (await Window.get(township_code=DIPU)).version == 1


# --- /files for the local store --------------------------------------------------------------


@pytest.fixture
async def local_app(settings: Settings) -> AsyncIterator[Any]:
    """An app on the local object store (as `make run` has it)."""
    application = create_app(settings.with_overrides(s3_endpoint=""), name="yimen_console_local")
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


async def test_files_serves_presigned_local_objects_only(local_app: Any) -> None:
    store = local_app.ctx.store
    await store.put("leads/x/photos/y/thumb", b"\xff\xd8jpeg", content_type="image/jpeg")
    await store.put("leads/x/page.html", b"<script>alert(1)</script>", content_type="text/html")
    transport = httpx.ASGITransport(app=local_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://yimen.test") as c:
        url = await store.presigned_get_url(
            "leads/x/photos/y/thumb", expires=dt.timedelta(minutes=5)
        )
        response = await c.get(url)
        assert response.status_code == 200 and response.content == b"\xff\xd8jpeg"
        assert response.headers["content-type"] == "image/jpeg"
        assert (await c.get(url.replace("signature=", "signature=0"))).status_code == 403
        assert (await c.get(url.replace("thumb?", "original?"))).status_code == 403
        old = await store.presigned_get_url(
            "leads/x/photos/y/thumb",
            expires=dt.timedelta(minutes=5),
            now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        )
        expired = await c.get(old)
        assert expired.status_code == 403 and "已过期" in expired.json()["detail"]
        # Anything but an image is a download, never a page of ours.
        html = await c.get(
            await store.presigned_get_url("leads/x/page.html", expires=dt.timedelta(minutes=5))
        )
        assert html.headers["content-type"] == "application/octet-stream"
        assert html.headers["content-disposition"] == "attachment"


async def test_files_is_not_there_with_s3(client: httpx.AsyncClient) -> None:
    response = await client.get("/files/leads/x?expires=1&signature=x")
    assert response.status_code == 404


# --- the queue and the lead page -------------------------------------------------------------


async def report(
    client: httpx.AsyncClient, headers: dict[str, str], location: Any = None, **changes: Any
) -> dict[str, Any]:
    """File a report through the mobile API; returns the phone's view of it."""
    body = report_body(location, **changes)
    response = await client.post("/mobile/v1/reports/", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def dipu_leads(
    console: httpx.AsyncClient, worker: dict[str, str], points: Points, clerk: None
) -> list[dict[str, Any]]:
    """Three leads at the 递铺街道 window (the second urgent), as their grid worker sees them."""
    first = await report(console, worker, gcj(points.dipu))
    second = await report(
        console,
        worker,
        gcj(points.dipu),
        subject={"name": "李大伯", "phone": "13900001111", "address": "坞后村5组"},
        hardship=["disaster"],
        description="房屋被洪水冲毁",
    )
    third = await report(
        console,
        worker,
        None,
        subject={
            "name": "王小妹",
            "village_code": "330523001200",
            "id_number": "33052320100101106X",
        },
        hardship=["left_behind_child"],
        description="父母外出务工",
    )
    return [first, second, third]


async def test_queue_lists_my_window_urgent_first_with_counts(
    console: httpx.AsyncClient, dipu_leads: list[dict[str, Any]]
) -> None:
    await signed_in(console, "dipu_clerk")
    page = assert_page(await console.get("/console/leads"), 200, "线索队列", "待受理")
    numbers = [lead["number"] for lead in dipu_leads]
    positions = [page.index(n) for n in numbers]
    assert positions[1] == min(positions), "the urgent lead comes first"
    assert 'hx-trigger="every 30s"' in page
    # Only the fragment when htmx polls.
    fragment = await console.get("/console/leads", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert all(n in fragment.text for n in numbers)
    only = await console.get("/console/leads?hardship=disaster")
    assert numbers[1] in only.text and numbers[0] not in only.text
    village = await console.get("/console/leads?village=330523001200")
    assert numbers[2] in village.text and numbers[0] not in village.text
    assert_page(await console.get("/console/leads?status=nonsense"), 422, "未知状态")
    assert_page(await console.get("/console/leads?overdue=maybe"), 422, "应为“是”或“否”")


async def test_overdue_leads_stand_out(
    console: httpx.AsyncClient, dipu_leads: list[dict[str, Any]]
) -> None:
    late = dipu_leads[0]
    await Lead.filter(id=late["id"]).update(
        ack_due_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    )
    await signed_in(console, "dipu_clerk")
    page = (await console.get("/console/leads")).text
    row = page[page.index(f'data-lead="{late["number"]}"') - 40 :]
    assert row.lstrip().startswith('<tr class="overdue"') or 'class="overdue"' in row[:60]
    assert "已超期 3 小时" in page or "已超期 2 小时" in page
    only = await console.get("/console/leads?overdue=1")
    assert late["number"] in only.text and dipu_leads[1]["number"] not in only.text
    home = assert_page(await console.get("/console/"), 200, "今日概况", "递铺街道")
    assert 'class="overdue"' in home


async def test_queue_pages_by_keyset(
    console: httpx.AsyncClient, worker: dict[str, str], points: Points, clerk: None
) -> None:
    for n in range(QUEUE_PAGE_SIZE + 2):
        await report(console, worker, gcj(points.dipu), description=f"第 {n} 户")
    await signed_in(console, "dipu_clerk")
    first = (await console.get("/console/leads")).text
    assert first.count("data-lead=") == QUEUE_PAGE_SIZE
    link = re.search(r'href="(/console/leads\?after=[^"]+)" rel="next"', first)
    assert link, "a next-page link"
    second = (await console.get(html.unescape(link.group(1)))).text
    assert second.count("data-lead=") == 2
    assert 'rel="next"' not in second and "回到第一页" in second
    seen = set(re.findall(r'data-lead="([^"]+)"', first + second))
    assert len(seen) == QUEUE_PAGE_SIZE + 2


async def test_lead_page_masks_and_reveal_is_audited(
    console: httpx.AsyncClient, dipu_leads: list[dict[str, Any]]
) -> None:
    lead = dipu_leads[2]
    csrf = await signed_in(console, "dipu_clerk")
    page = assert_page(
        await console.get(f"/console/leads/{lead['id']}"), 200, "王小妹", "330523********106X"
    )
    assert "33052320100101106X" not in page
    assert "<svg" in page and 'class="township"' in page
    assert "按所选村（社区）" in page
    url = f"/console/leads/{lead['id']}/reveal"
    # No token, a forged one: refused, and nothing written to the audit trail.
    assert (await console.post(url, data={"field": "id_number"})).status_code == 403
    forged = await console.post(
        url, data={"field": "id_number"}, headers={"HX-Request": "true", "X-CSRF-Token": "x"}
    )
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith(PROBLEM_CONTENT_TYPE)
    assert not await AuditEvent.filter(action="lead.reveal").exists()
    shown = await console.post(
        url, data={"field": "id_number"}, headers={"HX-Request": "true", "X-CSRF-Token": csrf}
    )
    assert shown.status_code == 200 and "33052320100101106X" in shown.text
    event = await AuditEvent.get(action="lead.reveal")
    assert event.entity_id == lead["id"] and event.after == {"field": "id_number"}
    assert "33052320100101106X" not in str(event.after)
    # Without htmx the whole page comes back with the number shown.
    full = await console.post(url, data={"field": "id_number", "csrf_token": csrf})
    assert_page(full, 200, "33052320100101106X", "办理记录")


async def test_html_in_a_description_is_shown_as_text(
    console: httpx.AsyncClient, worker: dict[str, str], points: Points, clerk: None
) -> None:
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    lead = await report(
        console,
        worker,
        gcj(points.dipu),
        description=evil,
        subject={"name": "<b>赵</b>", "address": '"><svg onload=alert(2)>'},
    )
    await signed_in(console, "dipu_clerk")
    page = (await console.get(f"/console/leads/{lead['id']}")).text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;b&gt;赵&lt;/b&gt;" in page and "<svg onload" not in page
    queue = (await console.get("/console/leads")).text
    assert "<b>赵</b>" not in queue and "&lt;b&gt;赵&lt;/b&gt;" in queue


async def test_a_lead_of_another_township_does_not_exist_for_me(
    console: httpx.AsyncClient, dipu_leads: list[dict[str, Any]]
) -> None:
    await make_user("changshuo_clerk", "window_clerk", CHANGSHUO)
    csrf = await signed_in(console, "changshuo_clerk")
    lead = dipu_leads[0]
    assert_page(await console.get(f"/console/leads/{lead['id']}"), 404, "不在您的管辖范围内")
    queue = (await console.get("/console/leads")).text
    assert all(item["number"] not in queue for item in dipu_leads)
    for action, extra in (("acknowledge", {}), ("close", {"reason": "duplicate"})):
        response = await console.post(
            f"/console/leads/{lead['id']}/{action}",
            data={"csrf_token": csrf, "version": "1", **extra},
        )
        assert_page(response, 404)
    reveal = await console.post(
        f"/console/leads/{lead['id']}/reveal", data={"csrf_token": csrf, "field": "phone"}
    )
    assert reveal.status_code == 404
    assert (await Lead.get(id=lead["id"])).version == 1
    assert_page(await console.get("/console/leads/not-a-uuid"), 404)


async def test_actions_need_the_csrf_token(
    console: httpx.AsyncClient, dipu_leads: list[dict[str, Any]]
) -> None:
    await signed_in(console, "dipu_clerk")
    lead = dipu_leads[0]
    url = f"/console/leads/{lead['id']}/acknowledge"
    assert_page(await console.post(url, data={"version": "1"}), 403, "安全校验未通过")
    assert_page(await console.post(url, data={"version": "1", "csrf_token": "forged"}), 403)
    hx = await console.post(
        url, data={"version": "1"}, headers={"HX-Request": "true", "X-CSRF-Token": "forged"}
    )
    assert hx.status_code == 403 and hx.json()["type"].endswith("csrf-failed")
    row = await Lead.get(id=lead["id"])
    assert row.status == LeadStatus.RECEIVED and row.version == 1


async def test_stale_forms_and_bad_input_change_nothing(
    console: httpx.AsyncClient, dipu_leads: list[dict[str, Any]]
) -> None:
    csrf = await signed_in(console, "dipu_clerk")
    lead = dipu_leads[0]
    base = f"/console/leads/{lead['id']}"
    ok = await console.post(f"{base}/acknowledge", data={"csrf_token": csrf, "version": "1"})
    assert ok.status_code == 303 and ok.headers["location"] == f"{base}?done=acknowledge"
    assert_page(await console.get(ok.headers["location"]), 200, "已受理，受理时限已停止计时")
    # A second clerk's form was read at version 1.
    stale = await console.post(
        f"{base}/close", data={"csrf_token": csrf, "version": "1", "reason": "duplicate"}
    )
    assert_page(stale, 409, "该线索已被他人更新，请刷新后重试")
    again = await console.post(f"{base}/acknowledge", data={"csrf_token": csrf, "version": "2"})
    assert_page(again, 409, "不能受理")
    no_reason = await console.post(f"{base}/close", data={"csrf_token": csrf, "version": "2"})
    assert_page(no_reason, 422, "请选择办结原因")
    other = await console.post(
        f"{base}/close", data={"csrf_token": csrf, "version": "2", "reason": "other"}
    )
    assert_page(other, 422, "请填写办结说明")
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    past = await console.post(
        f"{base}/refer",
        data={
            "csrf_token": csrf,
            "version": "2",
            "department": "yibao",
            "due_date": yesterday,
            "note": "请核实医疗费用",
        },
    )
    assert_page(past, 422, "办理期限不能早于今天")
    assert "请核实医疗费用" in past.text  # what was typed stays in the form
    unknown = await console.post(
        f"{base}/merge", data={"csrf_token": csrf, "version": "2", "into": "330523001-2000-99999"}
    )
    assert_page(unknown, 404, "找不到编号为")
    # A superscript two is a digit to str.isdigit() but not to int(); a NUL cannot be stored.
    odd_version = await console.post(
        f"{base}/close", data={"csrf_token": csrf, "version": "2²", "reason": "duplicate"}
    )
    assert_page(odd_version, 422, "表单缺少版本号")
    nul = await console.post(
        f"{base}/close",
        data={"csrf_token": csrf, "version": "2", "reason": "other", "note": "已核实\x00"},
    )
    assert_page(nul, 422, "不可见的控制字符")
    row = await Lead.get(id=lead["id"])
    assert row.status == LeadStatus.ACKNOWLEDGED and row.version == 2
    assert not await Referral.filter(lead_id=lead["id"]).exists()
    # htmx and JSON callers read the refusal as problem+json.
    hx = await console.post(
        f"{base}/close",
        data={"version": "2"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert hx.status_code == 422 and hx.json()["detail"] == "请选择办结原因"


async def test_merge_convert_refer_reach_the_sender(
    console: httpx.AsyncClient, worker: dict[str, str], dipu_leads: list[dict[str, Any]]
) -> None:
    csrf = await signed_in(console, "dipu_clerk")
    a, b, c = dipu_leads
    merged = await console.post(
        f"/console/leads/{a['id']}/merge",
        data={"csrf_token": csrf, "version": "1", "into": b["number"]},
    )
    assert merged.status_code == 303, merged.text
    page = (await console.get(f"/console/leads/{a['id']}")).text
    assert "已合并到线索" in page and b["number"] in page
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    version = (await Lead.get(id=b["id"])).version
    referred = await console.post(
        f"/console/leads/{b['id']}/refer",
        data={
            "csrf_token": csrf,
            "version": str(version),
            "department": "yibao",
            "due_date": due,
            "note": "重病，医疗费用负担重",
        },
    )
    assert referred.status_code == 303, referred.text
    page = (await console.get(f"/console/leads/{b['id']}")).text
    assert "医疗保障" in page and 'data-referral="yibao"' in page
    offered = (await console.get(f"/console/leads/{c['id']}")).text
    convert_form = offered[offered.index('action="/console/leads/' + c["id"] + '/convert"') :]
    convert_form = convert_form[: convert_form.index("</form>")]
    assert 'value="linshi"' in convert_form and 'value="shehui"' not in convert_form
    converted = await console.post(
        f"/console/leads/{c['id']}/convert",
        data={"csrf_token": csrf, "version": "1", "category": "linshi"},
    )
    assert converted.status_code == 303, converted.text
    page = (await console.get(f"/console/leads/{c['id']}")).text
    assert "已转为临时救助申请" in page
    seen = {
        lead["id"]: (await console.get(f"/mobile/v1/reports/{lead['id']}", headers=worker)).json()
        for lead in dipu_leads
    }
    assert seen[a["id"]]["status"] == "merged"
    assert seen[b["id"]]["status"] == "referred"
    assert seen[c["id"]]["status"] == "converted"
    # The sender learns what became of her report, never another record's number or category.
    assert any("已合并办理" in e["message"] for e in seen[a["id"]]["timeline"])
    assert not any(b["number"] in e["message"] for e in seen[a["id"]]["timeline"])
    assert any("医疗保障" in e["message"] for e in seen[b["id"]]["timeline"])
    timeline_c = " ".join(e["message"] for e in seen[c["id"]]["timeline"])
    assert "转为救助申请" in timeline_c
    assert "临时救助" not in timeline_c and "-SQ-" not in timeline_c


async def test_a_county_user_sees_every_window_but_does_not_act(
    console: httpx.AsyncClient, dipu_leads: list[dict[str, Any]]
) -> None:
    await make_user("anji_approver", "county_approver", "330523")
    csrf = await signed_in(console, "anji_approver")
    queue = (await console.get("/console/leads")).text
    assert all(lead["number"] in queue for lead in dipu_leads)
    lead = dipu_leads[0]
    page = assert_page(await console.get(f"/console/leads/{lead['id']}"), 200)
    assert "/acknowledge" not in page
    response = await console.post(
        f"/console/leads/{lead['id']}/acknowledge", data={"csrf_token": csrf, "version": "1"}
    )
    assert_page(response, 403, "您的岗位没有此操作的权限")
    assert (await Lead.get(id=lead["id"])).version == 1


async def test_photos_show_as_short_lived_thumbnails_with_their_evidence(
    app: Any,
    console: httpx.AsyncClient,
    worker: dict[str, str],
    points: Points,
    clerk: None,
) -> None:
    if not photos_dir().exists():
        pytest.skip("../shared/data/photos is not present")
    lead = await report(console, worker, gcj(points.dipu))
    data = (photos_dir() / "gps_DSCN0010.jpg").read_bytes()
    put = await console.put(
        f"/mobile/v1/reports/{lead['id']}/photos/{uuid.uuid4()}", content=data, headers=worker
    )
    assert put.status_code == 201, put.text
    await process_lead_photo(photo_id=uuid.UUID(put.json()["photo_id"]), store=app.ctx.store)
    await signed_in(console, "dipu_clerk")
    page = (await console.get(f"/console/leads/{lead['id']}")).text
    thumb = re.search(r'<img src="([^"]+)"', page)
    assert thumb, page
    url = html.unescape(thumb.group(1))
    assert "thumb" in url and "X-Amz-Expires=300" in url
    assert "照片定位距上报位置" in page and "拍摄于" in page
    async with httpx.AsyncClient() as s3:
        image = await s3.get(url)
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"


async def test_assign_home_visit_and_transfer(
    console: httpx.AsyncClient, dipu_leads: list[dict[str, Any]]
) -> None:
    investigator = await make_user("dipu_inv", "investigator", DIPU)
    await make_user("changshuo_clerk", "window_clerk", CHANGSHUO)
    csrf = await signed_in(console, "dipu_clerk")
    a, b, _c = dipu_leads
    page = (await console.get(f"/console/leads/{a['id']}")).text
    assert f'value="{investigator.id}"' in page and "dipu_inv" in page
    assigned = await console.post(
        f"/console/leads/{a['id']}/assign",
        data={"csrf_token": csrf, "version": "1", "investigator_id": str(investigator.id)},
    )
    assert assigned.status_code == 303, assigned.text
    visit = await console.post(
        f"/console/leads/{a['id']}/home-visit",
        data={"csrf_token": csrf, "version": "2", "note": "请核实是否独居"},
    )
    assert visit.status_code == 303, visit.text
    page = (await console.get(f"/console/leads/{a['id']}")).text
    assert "窗口已安排调查员跟进核实" in page and "窗口请求入户走访：请核实是否独居" in page
    row = await Lead.get(id=a["id"])
    assert row.assigned_to_id == investigator.id and row.home_visit_requested_at is not None
    bad = await console.post(
        f"/console/leads/{b['id']}/transfer",
        data={"csrf_token": csrf, "version": "1", "to_township": CHANGSHUO, "reason": ""},
    )
    assert_page(bad, 422, "请填写转交理由")
    moved = await console.post(
        f"/console/leads/{b['id']}/transfer",
        data={"csrf_token": csrf, "version": "1", "to_township": CHANGSHUO, "reason": "户籍在长硕"},
    )
    # The lead left this window: the clerk is back at the queue, where it is no longer.
    assert moved.status_code == 303 and moved.headers["location"] == "/console/leads?done=transfer"
    queue = assert_page(await console.get(moved.headers["location"]), 200, "已转交其他乡镇")
    assert b["number"] not in queue
    assert (await console.get(f"/console/leads/{b['id']}")).status_code == 404
    await console.post("/console/logout", data={"csrf_token": csrf})
    await signed_in(console, "changshuo_clerk")
    assert b["number"] in (await console.get("/console/leads")).text
    page = assert_page(
        await console.get(f"/console/leads/{b['id']}"), 200, "由其他乡镇（街道）转交"
    )
    assert "户籍在长硕" in page


# --- what must not cross windows -------------------------------------------------------------

OTHER_TOWNSHIP = "330522001"  # 长兴县雉城街道: another county


async def test_after_a_transfer_neither_window_sees_the_others_duplicate(
    console: httpx.AsyncClient, worker: dict[str, str], points: Points, clerk: None
) -> None:
    await make_user("changshuo_clerk", "window_clerk", CHANGSHUO)
    stays = await report(console, worker, gcj(points.dipu), description="独居，卧床两个月")
    moves = await report(
        console,
        worker,
        gcj(points.dipu),
        subject={"name": "张阿婆婆", "phone": "13900002222", "address": "坞后村8组"},
        description="子女在杭州务工，老人独自生活",
    )
    csrf = await signed_in(console, "dipu_clerk")
    page = assert_page(await console.get(f"/console/leads/{stays['id']}"), 200)
    assert f'data-duplicate="{moves["number"]}"' in page  # the pair, while both are here
    moved = await console.post(
        f"/console/leads/{moves['id']}/transfer",
        data={"csrf_token": csrf, "version": "1", "to_township": CHANGSHUO, "reason": "住在昌硕"},
    )
    assert moved.status_code == 303, moved.text
    page = assert_page(await console.get(f"/console/leads/{stays['id']}"), 200)
    for leaked in (moves["number"], "张阿婆婆", "坞后村8组", "子女在杭州务工"):
        assert leaked not in page
    await console.post("/console/logout", data={"csrf_token": csrf})
    await signed_in(console, "changshuo_clerk")
    page = assert_page(await console.get(f"/console/leads/{moves['id']}"), 200)
    for leaked in (stays["number"], "独居，卧床两个月"):
        assert leaked not in page


async def test_transfer_across_counties_is_the_county_approvers(
    console: httpx.AsyncClient, dipu_leads: list[dict[str, Any]]
) -> None:
    await make_user("anji_approver", "county_approver", "330523")
    await make_user("changxing_approver", "county_approver", "330522")
    lead = dipu_leads[0]
    url = f"/console/leads/{lead['id']}"
    csrf = await signed_in(console, "dipu_clerk")
    page = assert_page(await console.get(url), 200, "转交其他乡镇（街道）")
    assert f'value="{CHANGSHUO}"' in page and OTHER_TOWNSHIP not in page
    data = {
        "csrf_token": csrf,
        "version": "1",
        "to_township": OTHER_TOWNSHIP,
        "reason": "户籍在长兴",
    }
    refused = await console.post(f"{url}/transfer", data=data)
    assert_page(refused, 403, "县级")
    assert (await Lead.get(id=lead["id"])).version == 1
    await console.post("/console/logout", data={"csrf_token": csrf})

    csrf = await signed_in(console, "anji_approver")
    page = assert_page(await console.get(url), 200, "转交其他乡镇（街道）")
    assert "/acknowledge" not in page  # the approver transfers; the window does the rest
    moved = await console.post(f"{url}/transfer", data=data | {"csrf_token": csrf})
    assert moved.status_code == 303, moved.text
    await console.post("/console/logout", data={"csrf_token": csrf})

    await signed_in(console, "changxing_approver")
    assert lead["number"] in (await console.get("/console/leads")).text
    assert_page(await console.get(url), 200, "户籍在长兴")


async def test_merge_into_another_windows_number_reads_as_no_such_number(
    console: httpx.AsyncClient, worker: dict[str, str], points: Points, clerk: None
) -> None:
    mine = await report(console, worker, gcj(points.dipu))
    theirs = await report(console, worker, gcj(points.changshuo), subject={"name": "李大伯"})
    csrf = await signed_in(console, "dipu_clerk")
    url = f"/console/leads/{mine['id']}/merge"

    async def refusal(number: str, accept: str) -> tuple[int, str]:
        response = await console.post(
            url,
            data={"csrf_token": csrf, "version": "1", "into": number},
            headers={"Accept": accept},
        )
        # Each answer carries its own request id; everything else must be the same.
        text = re.sub(r"[0-9a-f]{32}", "<request-id>", response.text)
        return response.status_code, text.replace(number, "<number>")

    for accept in ("application/json", "text/html"):
        assert await refusal(theirs["number"], accept) == await refusal(
            "330523002-2099-99999", accept
        )
    status, body = await refusal(theirs["number"], "application/json")
    assert status == 404 and "<number>" in body
    assert (await Lead.get(id=mine["id"])).version == 1
