"""What the mini-program reads before sending: config, my window, the division picker, docs."""

from __future__ import annotations

import httpx
import pytest

from backend.geo.coords import to_wgs84
from backend.windows.models import Window
from tests.intake.conftest import Points, gcj


async def test_config_lists_tags_categories_and_the_template(client: httpx.AsyncClient) -> None:
    body = (await client.get("/mp/v1/config")).json()
    assert [c["key"] for c in body["categories"]] == [
        "dibao",
        "tekun",
        "linshi",
        "yiliao",
        "jiaoyu",
        "zhufang",
        "jiuye",
        "shouzai",
    ]
    assert {"key": "elderly_alone", "label": "独居老人"} in body["hardship_tags"]
    assert body["subscribe_templates"]["status"] == "tmpl-status-0001"
    assert body["max_photos"]["help"] == 6
    # DESIGN.md's photo limit, 15 MB, stated so the phone can check before it sends.
    assert body["max_photo_mb"] == 15 and body["max_photo_bytes"] == 15 * 1024 * 1024


async def test_my_window_by_location_with_a_point_to_navigate_to(
    app: object, client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    window = await Window.get(township_code="330523001")
    window.phone, window.policies = "0572-5120000", ["最低生活保障申请条件"]
    await window.save()
    here = gcj(points.dipu)
    response = await client.get(
        "/mp/v1/windows/mine",
        params={"lat": here["lat"], "lng": here["lng"], "coord_type": "gcj02"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["township"]["code"] == "330523001" and body["phone"] == "0572-5120000"
    assert body["policies"] == ["最低生活保障申请条件"]
    location = body["location"]
    assert location["coord_type"] == "gcj02"
    # The gcj02 point converts back into 递铺街道 (wx.openLocation shows the right place).
    lng, lat = to_wgs84(location["lng"], location["lat"], "gcj02")
    assert app.ctx.routing.index.locate(lng, lat) == "330523001"  # type: ignore[attr-defined]
    by_code = await client.get("/mp/v1/windows/mine", params={"township_code": "330523002"})
    assert by_code.json()["township"]["code"] == "330523002"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 422),
        ({"lat": "39.9", "lng": "116.39"}, 404),
        ({"township_code": "330523999"}, 404),
        ({"township_code": "33"}, 422),
        ({"lat": "north", "lng": "116"}, 422),
    ],
)
async def test_my_window_refusals(
    client: httpx.AsyncClient, resident: dict, params: dict, status: int
) -> None:
    response = await client.get("/mp/v1/windows/mine", params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_division_picker_walks_down_to_villages(
    client: httpx.AsyncClient, resident: dict
) -> None:
    provinces = (await client.get("/mp/v1/divisions")).json()["items"]
    assert {"code": "33", "name": "浙江省", "level": "province"} in provinces
    level = "33"
    for expected in ("3305", "330523", "330523001", "330523001001"):
        items = (await client.get("/mp/v1/divisions", params={"parent": level})).json()["items"]
        assert expected in [i["code"] for i in items], (level, items[:3])
        level = expected
    assert (await client.get("/mp/v1/divisions", params={"parent": "12345"})).status_code == 422
    assert (await client.get("/mp/v1/divisions", params={"parent": "99"})).status_code == 404


async def test_openapi_documents_the_resident_api(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/docs/openapi.json")).json()["paths"]
    for path in (
        "/mp/v1/auth/login",
        "/mp/v1/help-requests",
        "/mp/v1/applications",
        "/mp/v1/items",
        "/mp/v1/windows/mine",
        "/mp/v1/divisions",
        "/mp/v1/subscriptions",
        "/mobile/v1/reports/{lead_id}/photos",
    ):
        assert path in paths, path
