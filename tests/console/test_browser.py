"""The console in a real browser: headless Chromium against a real `yimen serve`.

The server is a subprocess on a free port sharing this test's PostgreSQL database, Redis prefix
and S3 bucket; the users are made here, the leads arrive through its mobile API, and a clerk
triages them in Chromium. Every page the browser shows is screenshotted; the shots are kept in
test-artifacts/ when the test fails (and one of the queue and one of a lead page when it passes).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from backend.config import Settings
from backend.intake.labels import SENDER_STATUS_LABELS
from tests.factories import PASSWORD, make_user
from tests.harness.processes import yimen_env
from tests.intake.conftest import DIPU_VILLAGES, Points, gcj, report_body

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALLED = CHROMIUM.exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DIPU = "330523001"
CHANGSHUO = "330523002"

pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `yimen serve`."""

    base: str
    log: Path


@pytest.fixture
async def server(
    app: object, boundaries: None, settings: Settings, tmp_path: Path
) -> AsyncIterator[Server]:
    """`yimen serve` on a free port over this test's database (migrated, boundaries loaded)."""
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backend.cli",
            "serve",
            "--port",
            str(port),
            cwd=ROOT,
            env=yimen_env(settings),
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=base, timeout=5) as c:
            while True:
                try:
                    if (await c.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.returncode is not None or time.monotonic() > deadline:
                    pytest.fail("yimen serve did not become ready:\n" + log.read_text())
                await asyncio.sleep(0.3)
        yield Server(base=base, log=log)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), timeout=30)
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()


@dataclass
class Shots:
    """A screenshot of every page the browser showed; kept only when wanted."""

    directory: Path
    taken: list[Path] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    async def take(self, page: Page, name: str) -> Path:
        """Screenshot the page as it is now."""
        if page not in self.pages:
            self.pages.append(page)
        path = self.directory / f"{len(self.taken) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path

    async def keep(self, prefix: str) -> list[Path]:
        """Copy every shot into test-artifacts/, with the pages as they were at the end."""
        for page in self.pages:
            if not page.is_closed():
                await self.take(page, "at-failure")
        ARTIFACTS.mkdir(exist_ok=True)
        kept = []
        for path in self.taken:
            target = ARTIFACTS / f"{prefix}-{path.name}"
            shutil.copy(path, target)
            kept.append(target)
        return kept


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, headless, through playwright."""
    if not CHROMIUM_INSTALLED:
        pytest.fail(
            "/usr/bin/chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def shots(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Shots]:
    """Screenshots of this test; copied to test-artifacts/ if the test fails."""
    taken = Shots(tmp_path / "shots")
    taken.directory.mkdir()
    yield taken
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        for path in await taken.keep(f"failed-{request.node.name}"):
            print(f"screenshot: {path}")


async def _seed(base: str, points: Points, count: int = 3) -> list[dict[str, Any]]:
    """Reports of 递铺街道 households (three by default), sent through the server's mobile API."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as phone:
        login = await phone.post(
            "/mobile/v1/auth/login",
            json={"username": "dipu_grid", "password": PASSWORD, "device_id": "phone-browser"},
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        bodies = [
            report_body(gcj(points.dipu)),
            report_body(
                gcj(points.dipu),
                subject={
                    "name": "张阿婆",
                    "phone": "13812345678",
                    "address": "递铺街道长竹社区3号",
                },
                description="张阿婆独居，卧床不起，邻居反映无人照料",
            ),
            report_body(
                None,
                subject={"name": "李大伯", "village_code": "330523001200", "address": "坞后村5组"},
                hardship=["disaster"],
                description="房屋被洪水冲毁，暂住亲戚家",
            ),
        ]
        leads = []
        for body in bodies[:count]:
            response = await phone.post("/mobile/v1/reports/", json=body, headers=headers)
            assert response.status_code == 201, response.text
            leads.append(response.json())
        return leads


async def _phone_view(base: str, lead_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as phone:
        login = await phone.post(
            "/mobile/v1/auth/login",
            json={"username": "dipu_grid", "password": PASSWORD, "device_id": "phone-browser"},
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        response = await phone.get(f"/mobile/v1/reports/{lead_id}", headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json())


async def _log_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/console/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="今日概况")).to_be_visible()


async def _open_lead(page: Page, base: str, number: str) -> None:
    await page.goto(f"{base}/console/leads")
    await page.get_by_role("link", name=number, exact=True).click()
    await expect(page.locator("h1")).to_contain_text(f"线索 {number}")


async def test_clerk_triages_three_leads_in_the_browser(
    server: Server, browser: Browser, shots: Shots, points: Points
) -> None:
    await make_user("dipu_clerk", "window_clerk", DIPU)
    await make_user("changshuo_clerk", "window_clerk", CHANGSHUO)
    await make_user("dipu_grid", "grid_worker", DIPU, villages=DIPU_VILLAGES)
    a, b, c = await _seed(server.base, points)
    base = server.base
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = await context.new_page()
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Script errors and CSP violations; refused requests are checked by URL below.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    # The clerk logs in and sees the three leads, the urgent one (受灾) first.
    await _log_in(page, base, "dipu_clerk")
    await expect(page.locator(".stats li").first).to_contain_text("3")
    await shots.take(page, "home")
    await page.get_by_role("link", name="线索队列", exact=True).click()
    rows = page.locator("table.queue tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_contain_text(c["number"])
    await expect(rows.first).to_contain_text("紧急")
    for lead in (a, b, c):
        await expect(page.get_by_role("link", name=lead["number"], exact=True)).to_be_visible()
    queue_shot = await shots.take(page, "queue")

    # Merge the first into the second (the same household).
    await _open_lead(page, base, a["number"])
    await expect(page.locator("svg.map path.township")).to_have_count(1)
    await expect(page.locator("svg.map circle.point")).to_have_count(1)
    await page.get_by_text("合并到另一条线索", exact=True).click()
    await page.get_by_label("要合并到的线索编号").fill(b["number"])
    await page.locator("[data-action=merge]").click()
    await expect(page.get_by_text("已合并到另一条线索")).to_be_visible()
    await expect(page.locator("[data-status]")).to_have_text("已合并")
    await shots.take(page, "merged")

    # Refer the second to 医疗保障, due in a week.
    await _open_lead(page, base, b["number"])
    await expect(page.locator("[data-event=merged_in]")).to_contain_text(a["number"])
    await page.get_by_text("转办到部门", exact=True).click()
    await page.locator("select[name=department]").select_option("yibao")
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    await page.get_by_label("办理期限").fill(due)
    await page.get_by_label("转办说明").fill("张阿婆卧床两个月，医疗费用负担重，请核实医疗救助")
    await page.locator("[data-action=refer]").click()
    await expect(page.get_by_text("已转办", exact=True).first).to_be_visible()
    await expect(page.locator("[data-referral=yibao]")).to_contain_text("医疗保障")
    lead_shot = await shots.take(page, "referred")

    # Reveal the phone number (a POST with the CSRF header, through htmx).
    await page.locator("[data-reveal=phone]").click()
    await expect(page.locator("#reveal-phone")).to_contain_text("13812345678")

    # Convert the third into a 临时救助 application.
    await _open_lead(page, base, c["number"])
    await page.get_by_text("转为救助申请（代为申请）", exact=True).click()
    await page.locator("select[name=category]").select_option("linshi")
    await page.locator("[data-action=convert]").click()
    await expect(page.get_by_text("已转为临时救助申请")).to_be_visible()
    await expect(page.locator("[data-status]")).to_have_text("已转为申请")
    await shots.take(page, "converted")

    # The grid worker's phone sees what happened to each.
    seen = {lead["id"]: await _phone_view(base, lead["id"]) for lead in (a, b, c)}
    assert seen[a["id"]]["status"] == "merged"
    assert seen[a["id"]]["status_label"] == SENDER_STATUS_LABELS["merged"]
    # Neither side of the merge names the other lead to the grid worker.
    assert any("已合并办理" in e["message"] for e in seen[a["id"]]["timeline"])
    assert not any(b["number"] in e["message"] for e in seen[a["id"]]["timeline"])
    assert seen[b["id"]]["status"] == "referred"
    assert seen[b["id"]]["status_label"] == SENDER_STATUS_LABELS["referred"]
    assert any("医疗保障" in e["message"] for e in seen[b["id"]]["timeline"])
    assert not any(a["number"] in e["message"] for e in seen[b["id"]]["timeline"])
    assert seen[c["id"]]["status"] == "converted"
    assert seen[c["id"]]["status_label"] == SENDER_STATUS_LABELS["converted"]
    assert any("转为救助申请" in e["message"] for e in seen[c["id"]]["timeline"])
    assert not any("临时救助" in e["message"] for e in seen[c["id"]]["timeline"])

    # The queue's default view holds only open leads now: the referred one.
    await page.get_by_role("link", name="线索队列", exact=True).click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(b["number"])
    await page.locator("select[name=status]").select_option("all")
    await page.get_by_role("button", name="筛选").click()
    await expect(rows).to_have_count(3)

    # New leads appear without a reload: the queue polls its fragment every 30 seconds.
    await page.clock.install()
    await page.goto(f"{base}/console/leads")
    await expect(rows).to_have_count(1)
    fresh = (await _seed(base, points, count=1))[0]
    await page.clock.fast_forward("00:31")
    await expect(page.get_by_role("link", name=fresh["number"], exact=True)).to_be_visible()
    await expect(rows).to_have_count(2)

    # Log out; a clerk of another township sees none of them, not even by address.
    await page.get_by_role("button", name="退出登录").click()
    await expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    await _log_in(page, base, "changshuo_clerk")
    await page.get_by_role("link", name="线索队列", exact=True).click()
    await expect(page.get_by_text("没有符合条件的线索。")).to_be_visible()
    await shots.take(page, "other-township-queue")
    response = await page.goto(f"{base}/console/leads/{a['id']}")
    assert response is not None and response.status == 404
    await expect(page.get_by_text("不在您的管辖范围内")).to_be_visible()
    await shots.take(page, "other-township-lead")
    assert not errors, errors
    assert failed == [f"404 {base}/console/leads/{a['id']}"], failed
    await context.close()

    # For the notes: one queue and one lead page of a passing run.
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(queue_shot, ARTIFACTS / "console-queue.png")
    shutil.copy(lead_shot, ARTIFACTS / "console-lead.png")
