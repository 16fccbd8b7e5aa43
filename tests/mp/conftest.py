"""Resident API fixtures: the app pointed at the WeChat stand-in, residents signed in by code."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from backend.config import Settings
from tests.factories import make_user
from tests.harness.wechat_standin import WeChatStandIn
from tests.intake.conftest import DIPU_VILLAGES, Points, boundaries, gcj, points  # noqa: F401

STATUS_TEMPLATE = "tmpl-status-0001"
DIPU_VILLAGE = DIPU_VILLAGES[0]  # 330523001001, in 递铺街道
# Valid ID numbers (check digits computed), of 安吉县 people born in the 1950s-1990s.
ID_A = "330523195003070014"
ID_B = "330523198807120025"
ID_C = "330523201201010010"


@pytest.fixture
def settings(settings: Settings, wechat: WeChatStandIn) -> Settings:
    """The test's settings, with WeChat calls going to the stand-in."""
    return settings.with_overrides(
        **wechat.settings_overrides(),
        wechat_status_template=STATUS_TEMPLATE,
        help_rate_limit="5/hour",
        help_device_rate_limit="8/hour",
    )


async def mp_login(client: httpx.AsyncClient, wechat: WeChatStandIn, openid: str) -> dict[str, str]:
    """Sign a resident in as the mini-program does: a fresh wx.login code each time."""
    code = f"code-{uuid.uuid4().hex[:12]}"
    wechat.add_login_code(code, openid)
    response = await client.post("/mp/v1/auth/login", json={"code": code})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def resident(
    client: httpx.AsyncClient,
    wechat: WeChatStandIn,
    boundaries: None,  # noqa: F811
) -> dict[str, str]:
    """A resident signed in through WeChat, with the demo boundaries loaded."""
    return await mp_login(client, wechat, "o-resident-a")


@pytest.fixture
async def other_resident(client: httpx.AsyncClient, wechat: WeChatStandIn) -> dict[str, str]:
    """A second resident."""
    return await mp_login(client, wechat, "o-resident-b")


@pytest.fixture
async def clerk(client: httpx.AsyncClient) -> Any:
    """The 递铺街道 window clerk (a principal for the domain layer)."""
    return await make_user("dipu_clerk_t", "window_clerk", "330523001")


def help_body(location: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """A help request as the mini-program's 求助 page sends it."""
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "device_id": "mp-install-0001",
        "for_self": True,
        "subject": {"name": "王秀英", "address": "递铺街道某小区3幢"},
        "hardship": ["serious_illness", "medical_expense"],
        "description": "老伴住院，医药费负担很重，想问问能申请什么救助",
        "contact_phone": "13905720001",
    }
    if location is not None:
        body["location"] = location
    body.update(changes)
    return body


def application_body(**changes: Any) -> dict[str, Any]:
    """An application as the mini-program's 申请救助 page sends it."""
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "device_id": "mp-install-0001",
        "category": "dibao",
        "applicant": {"name": "李建国", "id_number": ID_A, "phone": "13905720002"},
        "members": [
            {"name": "张桂兰", "id_number": ID_B, "relation": "spouse"},
            {"name": "李小明", "id_number": ID_C, "relation": "grandchild"},
        ],
        "income_monthly_yuan": 860.5,
        "assets": {"house_count": 1, "car_count": 0, "savings_yuan": 2000, "note": "自建房一处"},
        "hukou_village_code": DIPU_VILLAGE,
        "reason": "本人年老多病，配偶无劳动能力，孙子上学",
        "consent": {"economic_check": True, "signed_name": "李建国"},
    }
    body.update(changes)
    return body
