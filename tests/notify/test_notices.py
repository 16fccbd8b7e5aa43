"""Status messages: consent counted, sent once through WeChat's subscribe API, skipped without."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from backend.accounts.models import User
from backend.accounts.service import load_principal
from backend.config import Settings
from backend.intake import triage
from backend.jobs.tasks import _state, send_notice_task
from backend.notify.models import Notice, NoticeStatus, SubscribeConsent
from backend.notify.service import pending_notices
from backend.wechat import create_wechat
from tests.console.conftest import console, signed_in  # noqa: F401
from tests.harness.processes import task_worker
from tests.harness.wechat_standin import WeChatStandIn
from tests.intake.conftest import Points, gcj
from tests.mp.conftest import (  # noqa: F401
    STATUS_TEMPLATE,
    boundaries,
    clerk,
    help_body,
    points,
    resident,
    settings,
)

OPENID = "o-resident-a"


async def _help(client: httpx.AsyncClient, resident: dict, points: Points) -> dict:  # noqa: F811
    response = await client.post(
        "/mp/v1/help-requests", json=help_body(gcj(points.dipu)), headers=resident
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _consent(client: httpx.AsyncClient, resident: dict, accepted: bool = True) -> int:  # noqa: F811
    response = await client.post(
        "/mp/v1/subscriptions",
        json={"template_id": STATUS_TEMPLATE, "accepted": accepted},
        headers=resident,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["remaining"])


async def _acknowledge(clerk_user: User, lead_id: str) -> None:
    principal = await load_principal(user_id=clerk_user.id, token_id="t", family="f")
    await triage.acknowledge_lead(
        principal=principal, lead_id=uuid.UUID(lead_id), expected_version=1
    )


async def _acknowledged_with_consent(
    client: httpx.AsyncClient,
    resident: dict,  # noqa: F811
    points: Points,  # noqa: F811
    clerk_user: User,
    wechat: WeChatStandIn,
) -> tuple[dict, Notice]:
    """A help request whose sender consented (here and at WeChat), acknowledged by the clerk."""
    item = await _help(client, resident, points)
    await _consent(client, resident)
    wechat.grant_consent(OPENID, STATUS_TEMPLATE)
    await _acknowledge(clerk_user, item["id"])
    return item, await Notice.get(item_id=item["id"])


async def _run_task(settings: Settings, notice: Notice) -> str:  # noqa: F811
    # The task body as the worker runs it, with the worker's state set up in this process.
    _state["settings"], _state["wechat"] = settings, create_wechat(settings)
    try:
        return await send_notice_task.original_func(str(notice.id))
    finally:
        _state.pop("wechat").close()


async def test_consents_are_counted_and_unknown_templates_refused(
    client: httpx.AsyncClient,
    resident: dict,  # noqa: F811
) -> None:
    assert await _consent(client, resident) == 1
    assert await _consent(client, resident) == 2
    assert await _consent(client, resident, accepted=False) == 2
    wrong = await client.post(
        "/mp/v1/subscriptions", json={"template_id": "tmpl-x", "accepted": True}, headers=resident
    )
    assert wrong.status_code == 422
    assert (await SubscribeConsent.get(template_id=STATUS_TEMPLATE)).remaining == 2


async def test_a_clerks_action_sends_one_message_when_she_consented(
    client: httpx.AsyncClient,
    resident: dict,  # noqa: F811
    points: Points,  # noqa: F811
    clerk: User,  # noqa: F811
    wechat: WeChatStandIn,
    settings: Settings,  # noqa: F811
) -> None:
    item, notice = await _acknowledged_with_consent(client, resident, points, clerk, wechat)
    assert notice.status == NoticeStatus.PENDING and notice.data["phrase2"] == "已受理"
    assert await _run_task(settings, notice) == "sent"
    assert await _run_task(settings, notice) == "sent"  # a second delivery sends nothing more
    assert len(wechat.sent) == 1
    message = wechat.sent[0]
    assert message["touser"] == OPENID and message["template_id"] == STATUS_TEMPLATE
    assert message["page"] == f"resident/item/index?kind=help&id={item['id']}"
    assert message["data"]["character_string1"]["value"] == item["number"]
    assert len(message["data"]["thing4"]["value"]) <= 20
    assert (await SubscribeConsent.get(template_id=STATUS_TEMPLATE)).remaining == 0


async def test_no_consent_means_skipped_silently(
    client: httpx.AsyncClient,
    resident: dict,  # noqa: F811
    points: Points,  # noqa: F811
    clerk: User,  # noqa: F811
    wechat: WeChatStandIn,
    settings: Settings,  # noqa: F811
) -> None:
    item = await _help(client, resident, points)
    await _acknowledge(clerk, item["id"])
    notice = await Notice.get(item_id=item["id"])
    assert await _run_task(settings, notice) == "skipped"
    assert wechat.sent == []
    # Our count says yes, WeChat says the consent is gone (43101): skipped, not retried.
    await _consent(client, resident)
    principal = await load_principal(user_id=clerk.id, token_id="t", family="f")
    await triage.close_lead(
        principal=principal,
        lead_id=uuid.UUID(item["id"]),
        expected_version=2,
        reason="already_assisted",
    )
    closing = await Notice.filter(item_id=item["id"], status=NoticeStatus.PENDING).get()
    assert await _run_task(settings, closing) == "skipped"
    assert wechat.sent == []
    assert (await SubscribeConsent.get(template_id=STATUS_TEMPLATE)).remaining == 0


async def test_wechat_failing_leaves_it_pending_for_the_sweep(
    client: httpx.AsyncClient,
    resident: dict,  # noqa: F811
    points: Points,  # noqa: F811
    clerk: User,  # noqa: F811
    wechat: WeChatStandIn,
    settings: Settings,  # noqa: F811
) -> None:
    _item, notice = await _acknowledged_with_consent(client, resident, points, clerk, wechat)
    wechat.reject_next(47003)  # WeChat refuses this once: counted, retried after a backoff
    assert await _run_task(settings, notice) == "pending"
    failed = await Notice.get(id=notice.id)
    assert (failed.attempts, failed.error) == (1, "wechat 47003")
    assert failed.next_attempt_at is not None and failed.next_attempt_at > failed.created_at
    # The reserved consent was given back.
    assert (await SubscribeConsent.get(template_id=STATUS_TEMPLATE)).remaining == 1
    assert await _run_task(settings, notice) == "pending"  # not due yet: nothing is tried
    assert wechat.sent == [] and notice.id not in await pending_notices()
    await Notice.filter(id=notice.id).update(next_attempt_at=datetime.now(UTC))
    assert notice.id in await pending_notices()
    assert await _run_task(settings, notice) == "sent"
    assert len(wechat.sent) == 1
    assert (await SubscribeConsent.get(template_id=STATUS_TEMPLATE)).remaining == 0


async def test_a_task_that_died_mid_send_is_picked_up_after_its_lease(
    client: httpx.AsyncClient,
    resident: dict,  # noqa: F811
    points: Points,  # noqa: F811
    clerk: User,  # noqa: F811
    wechat: WeChatStandIn,
    settings: Settings,  # noqa: F811
) -> None:
    _item, notice = await _acknowledged_with_consent(client, resident, points, clerk, wechat)
    # Claimed by a worker that was then killed: its lease still runs, so nobody else sends.
    await Notice.filter(id=notice.id).update(
        status=NoticeStatus.SENDING, lease_until=datetime.now(UTC) + timedelta(minutes=1)
    )
    assert notice.id not in await pending_notices()
    assert await _run_task(settings, notice) == "sending" and wechat.sent == []
    await Notice.filter(id=notice.id).update(lease_until=datetime.now(UTC) - timedelta(seconds=1))
    assert notice.id in await pending_notices()
    assert await _run_task(settings, notice) == "sent" and len(wechat.sent) == 1


async def test_consent_taps_at_once_count_each(
    client: httpx.AsyncClient,
    resident: dict,  # noqa: F811
) -> None:
    results = await asyncio.gather(*(_consent(client, resident) for _ in range(4)))
    assert sorted(results) == [1, 2, 3, 4]


async def test_done_when_help_request_to_queue_to_timeline_and_message(
    client: httpx.AsyncClient,
    console: httpx.AsyncClient,  # noqa: F811
    resident: dict,  # noqa: F811
    points: Points,  # noqa: F811
    wechat: WeChatStandIn,
    settings: Settings,  # noqa: F811
) -> None:
    """The issue's acceptance path, with a real `yimen worker` process sending the message."""
    from tests.factories import make_user

    await make_user("dipu_clerk_e2e", "window_clerk", "330523001")
    async with task_worker(settings):
        # The mini-program: consent from the submit tap, then the request itself.
        await _consent(client, resident)
        wechat.grant_consent(OPENID, STATUS_TEMPLATE)
        item = await _help(client, resident, points)
        csrf = await signed_in(console, "dipu_clerk_e2e")
        queue = await console.get("/console/leads")
        assert item["number"] in queue.text
        acted = await console.post(
            f"/console/leads/{item['id']}/acknowledge", data={"csrf_token": csrf, "version": "1"}
        )
        assert acted.status_code == 303, acted.text
        for _ in range(60):
            if wechat.sent:
                break
            await asyncio.sleep(0.5)
    assert [m["touser"] for m in wechat.sent] == [OPENID]
    assert wechat.sent[0]["data"]["phrase2"]["value"] == "已受理"
    shown = (await client.get(f"/mp/v1/help-requests/{item['id']}", headers=resident)).json()
    assert shown["status"] == "acknowledged" and shown["status_label"] == "窗口已受理"
    assert shown["timeline"][-1]["kind"] == "acknowledged"
    assert (await Notice.get(item_id=item["id"])).status == NoticeStatus.SENT


async def test_referral_and_its_result_each_tell_the_resident(
    client: httpx.AsyncClient,
    resident: dict,  # noqa: F811
    points: Points,  # noqa: F811
    clerk: User,  # noqa: F811
) -> None:
    from datetime import date, timedelta

    from backend.intake.models import Referral

    item = await _help(client, resident, points)
    principal = await load_principal(user_id=clerk.id, token_id="t", family="f")
    await triage.refer_lead(
        principal=principal,
        lead_id=uuid.UUID(item["id"]),
        expected_version=1,
        department="yibao",
        due_date=date.today() + timedelta(days=10),
        note="住院费用较高，请医保核实大病救助",
    )
    referral = await Referral.get(lead_id=item["id"])
    await triage.record_referral_result(
        principal=principal, referral_id=referral.id, result="已纳入医疗救助，报销比例提高"
    )
    phrases = [
        n.data["phrase2"] for n in await Notice.filter(item_id=item["id"]).order_by("created_at")
    ]
    assert phrases == ["已转办", "已反馈"]
    shown = (await client.get(f"/mp/v1/help-requests/{item['id']}", headers=resident)).json()
    assert shown["timeline"][-1]["message"] == "医疗保障部门已反馈办理结果"
