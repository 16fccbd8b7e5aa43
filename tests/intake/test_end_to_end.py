"""The issue's acceptance run: a grid worker files a report with three photos, a real worker
process handles them, and the phone sees them processed with their metadata gone."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path

import httpx
from PIL import Image

from backend.config import Settings
from backend.intake.models import LeadPhoto
from tests.harness.processes import task_worker
from tests.intake.conftest import Points, gcj, photos_dir, report_body

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ("gps_DSCN0010.jpg", "orientation_portrait_6.jpg", "heic_mobile_iphone_13_pro_max.HEIC")


async def test_report_with_three_photos_processed_by_a_worker(
    app: object, client: httpx.AsyncClient, worker: dict, points: Points, settings: Settings
) -> None:
    async with task_worker(settings):
        body = report_body(gcj(points.dipu))
        created = await client.post("/mobile/v1/reports/", json=body, headers=worker)
        assert created.status_code == 201, created.text
        lead = created.json()
        assert lead["township"]["code"] == "330523001"
        for name in PHOTOS:
            data = (photos_dir() / name).read_bytes()
            response = await client.put(
                f"/mobile/v1/reports/{lead['id']}/photos/{uuid.uuid4()}",
                content=data,
                headers=worker,
            )
            assert response.status_code == 201, response.text
        # The phone lost the first answer and sends the report again: same report.
        again = await client.post("/mobile/v1/reports/", json=body, headers=worker)
        assert again.status_code == 200 and again.json()["id"] == lead["id"]
        for _ in range(120):
            shown = (await client.get(f"/mobile/v1/reports/{lead['id']}", headers=worker)).json()
            if all(p["status"] == "processed" for p in shown["photos"]):
                break
            await asyncio.sleep(0.5)
        assert [p["status"] for p in shown["photos"]] == ["processed"] * 3, shown["photos"]
        store = app.ctx.store  # type: ignore[attr-defined]
        for photo in await LeadPhoto.filter(lead_id=lead["id"]):
            display = await store.get(photo.display_key)
            image = Image.open(io.BytesIO(display))
            assert not image.getexif() and "exif" not in image.info
