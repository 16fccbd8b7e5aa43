"""Intake fixtures: the demo boundaries loaded, grid workers signed in, points to report from."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from shapely.geometry import shape

from backend.demo import DATA_DIR
from backend.geo.coords import from_wgs84
from backend.geo.routing import process_index
from tests.factories import make_user
from tests.geo.helpers import border_point

BOUNDARIES = DATA_DIR / "boundaries"
DIPU_VILLAGES = ("330523001001", "330523001200")
XIAOFENG_VILLAGE = "330523105203"  # 坞上村 of 孝丰镇, the township north of 递铺街道


@dataclass(frozen=True)
class Points:
    """WGS-84 points inside the demo townships."""

    dipu: tuple[float, float]
    exclave: tuple[float, float]
    changshuo: tuple[float, float]
    # In 递铺街道, 150 m from 孝丰镇 and more than 1.5 km from every other township.
    dipu_by_xiaofeng: tuple[float, float]


def _points() -> Points:
    data = json.loads((BOUNDARIES / "demo-townships-wgs84.geojson").read_text(encoding="utf-8"))
    shapes = {f["properties"]["code"]: shape(f["geometry"]) for f in data["features"]}
    changshuo = shapes["330523002"]
    parts = sorted(changshuo.geoms, key=lambda g: g.area)
    dipu = shapes["330523001"].representative_point()
    exclave, main = parts[0].representative_point(), parts[-1].representative_point()
    by_xiaofeng = border_point(shapes, "330523001", "330523105", 150.0)
    return Points((dipu.x, dipu.y), (exclave.x, exclave.y), (main.x, main.y), by_xiaofeng)


@pytest.fixture(scope="session")
def points() -> Points:
    """Points to report from."""
    return _points()


@pytest.fixture
async def boundaries(geo: None) -> None:
    """The demo township polygons, imported from the GCJ-02 file as a vendor would send it."""
    from backend.geo.boundaries import import_boundaries

    report = await import_boundaries(
        path=BOUNDARIES / "demo-townships-gcj02.geojson", crs="gcj02", code_field="code"
    )
    assert len(report.imported) == 18, report
    await process_index().reload()


@pytest.fixture
async def worker(client: httpx.AsyncClient, boundaries: None) -> dict[str, str]:
    """A grid worker of 递铺街道, logged in through the mobile API."""
    await make_user("grid_a", "grid_worker", "330523001", villages=DIPU_VILLAGES)
    return await mobile_login(client, "grid_a")


async def mobile_login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Authorization headers from /mobile/v1/auth/login."""
    from tests.factories import PASSWORD

    response = await client.post(
        "/mobile/v1/auth/login",
        json={"username": username, "password": PASSWORD, "device_id": f"phone-{username}"},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def gcj(point: tuple[float, float]) -> dict[str, Any]:
    """A location as a phone on a Chinese map would send it."""
    lng, lat = from_wgs84(point[0], point[1], "gcj02")
    return {"lat": lat, "lng": lng, "coord_type": "gcj02", "accuracy_m": 10}


def wgs(point: tuple[float, float], accuracy_m: float | None) -> dict[str, Any]:
    """A location as the phone's GPS reports it (WGS-84), with its accuracy."""
    return {"lat": point[1], "lng": point[0], "coord_type": "wgs84", "accuracy_m": accuracy_m}


def report_body(location: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """A valid report; keyword arguments replace top-level fields."""
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "subject": {"name": "张阿婆", "phone": "13812345678", "address": "递铺街道长竹社区3号"},
        "hardship": ["elderly_alone", "serious_illness"],
        "description": "独居，卧床两个月，无人照料",
        "observed_at": datetime.now(UTC).isoformat(),
    }
    if location is not None:
        body["location"] = location
    body.update(changes)
    return body


def photos_dir() -> Path:
    """The shared sample photos."""
    return Path(__file__).resolve().parents[1] / "data" / "photos"
