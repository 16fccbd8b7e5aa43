"""PUT /mobile/v1/reports/{id}/photos/{client_photo_id} and the photo task."""

from __future__ import annotations

import io
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from backend.accounts.service import load_principal
from backend.intake import triage
from backend.intake.models import Lead, LeadPhoto, PhotoStatus, SuspectedDuplicate
from backend.intake.photos import photos_to_retry, process_lead_photo
from tests.factories import make_user
from tests.intake.conftest import Points, gcj, photos_dir, report_body

PHOTOS = photos_dir()


async def _report(client: httpx.AsyncClient, worker: dict, points: Points) -> dict:
    response = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _put(
    client: httpx.AsyncClient, worker: dict, lead_id: str, data: bytes, photo_id: str | None = None
) -> httpx.Response:
    return await client.put(
        f"/mobile/v1/reports/{lead_id}/photos/{photo_id or uuid.uuid4()}",
        content=data,
        headers=worker | {"content-type": "application/octet-stream"},
    )


async def test_upload_retry_and_processing(
    app: object, client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    lead = await _report(client, worker, points)
    data = (PHOTOS / "gps_DSCN0010.jpg").read_bytes()
    photo_id = str(uuid.uuid4())
    first = await _put(client, worker, lead["id"], data, photo_id)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "received"
    retry = await _put(client, worker, lead["id"], data, photo_id)
    assert retry.status_code == 201 and retry.json() == first.json()
    assert await LeadPhoto.all().count() == 1
    other = (PHOTOS / "orientation_landscape_6.jpg").read_bytes()
    conflict = await _put(client, worker, lead["id"], other, photo_id)
    assert conflict.status_code == 409

    store = app.ctx.store  # type: ignore[attr-defined]
    photo = await LeadPhoto.get(id=first.json()["photo_id"])
    assert await store.get(photo.original_key) == data  # the original, kept private
    done = await process_lead_photo(photo_id=photo.id, store=store)
    assert done is not None and done.status == PhotoStatus.PROCESSED
    display = await store.get(done.display_key)
    thumb = await store.get(done.thumb_key)
    for copy, limit in ((display, 1600), (thumb, 320)):
        image = Image.open(io.BytesIO(copy))
        assert max(image.size) <= limit
        assert not image.getexif() and b"Exif\x00\x00" not in copy
    # The photo's GPS is evidence, not a location: it lies far from the report (a Paris photo?).
    assert done.exif_lat is not None and done.exif_distance_m is not None
    again = await process_lead_photo(photo_id=photo.id, store=store)
    assert again is not None and again.processed_at == done.processed_at  # idempotent
    shown = (await client.get(f"/mobile/v1/reports/{lead['id']}", headers=worker)).json()
    assert shown["photos"][0]["status"] == "processed"
    assert shown["photos"][0]["evidence"]["exif_gps"] is True
    assert "photo_processed" in [e["kind"] for e in shown["timeline"]]


@pytest.mark.parametrize(
    ("make", "status", "slug"),
    [
        (lambda: b"hello, this is not a photo", 422, "photo-not-an-image"),
        (lambda: b"", 422, "photo-not-an-image"),
        (lambda: (PHOTOS / "gps_DSCN0012.jpg").read_bytes()[:120_000], 422, "photo-truncated"),
        (lambda: b"\xff\xd8\xff" + b"\0" * (15 * 1024 * 1024 + 10), 413, "photo-too-large"),
    ],
)
async def test_bad_photos_are_refused_and_the_report_stays_intact(
    app: object, client: httpx.AsyncClient, worker: dict, points: Points, make, status, slug
) -> None:
    lead = await _report(client, worker, points)
    response = await _put(client, worker, lead["id"], make())
    assert response.status_code == status, response.text
    assert response.json()["type"].endswith("/" + slug)
    assert await LeadPhoto.all().count() == 0
    assert (await Lead.get(id=lead["id"])).number == lead["number"]


async def test_gif_is_not_accepted(client: httpx.AsyncClient, worker: dict, points: Points) -> None:
    lead = await _report(client, worker, points)
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "GIF")
    response = await _put(client, worker, lead["id"], buffer.getvalue())
    assert response.status_code == 422
    assert await LeadPhoto.all().count() == 0


async def test_at_most_ten_photos(client: httpx.AsyncClient, worker: dict, points: Points) -> None:
    lead = await _report(client, worker, points)
    files = sorted(PHOTOS.glob("orientation_*.jpg"))
    data = [*[p.read_bytes() for p in files][:9], (PHOTOS / "gps_DSCN0021.jpg").read_bytes()]
    for payload in data:
        assert (await _put(client, worker, lead["id"], payload)).status_code == 201
    extra = await _put(client, worker, lead["id"], (PHOTOS / "gps_DSCN0025.jpg").read_bytes())
    assert extra.status_code == 409 and extra.json()["type"].endswith("/too-many-photos")
    assert await LeadPhoto.all().count() == 10


async def test_photos_of_other_workers_reports_are_refused(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    from tests.factories import make_user
    from tests.intake.conftest import DIPU_VILLAGES, mobile_login

    lead = await _report(client, worker, points)
    await make_user("grid_x", "grid_worker", "330523001", villages=DIPU_VILLAGES)
    other = await mobile_login(client, "grid_x")
    data = (PHOTOS / "gps_DSCN0010.jpg").read_bytes()
    assert (await _put(client, other, lead["id"], data)).status_code == 404
    assert await LeadPhoto.all().count() == 0


async def test_the_same_photo_on_two_reports_is_flagged(
    app: object, client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    data = (PHOTOS / "mobile_jolla.jpg").read_bytes()
    store = app.ctx.store  # type: ignore[attr-defined]
    leads = []
    for name in ("孙一", "周二"):
        body = report_body(gcj(points.dipu), subject={"name": name})
        lead = (await client.post("/mobile/v1/reports/", json=body, headers=worker)).json()
        photo = (await _put(client, worker, lead["id"], data)).json()
        await process_lead_photo(photo_id=uuid.UUID(photo["photo_id"]), store=store)
        leads.append(lead)
    row = await SuspectedDuplicate.get().prefetch_related("lead", "other")
    assert {str(row.lead.id), str(row.other.id)} == {leads[0]["id"], leads[1]["id"]}
    assert row.reasons == ["photo_hash"]


async def test_unprocessed_photos_are_found_by_the_sweep(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    from datetime import timedelta

    lead = await _report(client, worker, points)
    response = await _put(client, worker, lead["id"], (PHOTOS / "gps_DSCN0010.jpg").read_bytes())
    photo_id = uuid.UUID(response.json()["photo_id"])
    assert photo_id in await photos_to_retry(older_than=timedelta(seconds=-1))
    assert photo_id not in await photos_to_retry(older_than=timedelta(minutes=5))


class _TransferDuringProcessing:
    """The real store, with a transfer committed while the photo is being read and processed."""

    def __init__(self, store: Any, transfer: Callable[[], Awaitable[object]]) -> None:
        self._store, self._transfer = store, transfer

    async def get(self, key: str) -> bytes:
        data = await self._store.get(key)
        await self._transfer()
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def test_a_photo_processed_while_its_lead_moves_pairs_only_in_the_new_window(
    app: object, client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    data = (PHOTOS / "mobile_jolla.jpg").read_bytes()
    store = app.ctx.store  # type: ignore[attr-defined]
    clerk_user = await make_user("clerk_dipu_p", "window_clerk", "330523001")
    clerk = await load_principal(user_id=clerk_user.id, token_id="t", family="f")
    leads = []
    for name in ("孙一", "周二"):
        body = report_body(gcj(points.dipu), subject={"name": name})
        leads.append((await client.post("/mobile/v1/reports/", json=body, headers=worker)).json())
    b, a = leads
    b_photo = (await _put(client, worker, b["id"], data)).json()
    await process_lead_photo(photo_id=uuid.UUID(b_photo["photo_id"]), store=store)
    a_photo = (await _put(client, worker, a["id"], data)).json()

    def transfer() -> Awaitable[object]:
        return triage.transfer_lead(
            principal=clerk,
            lead_id=uuid.UUID(a["id"]),
            expected_version=1,
            to_township="330523002",
            reason="实际居住在昌硕街道",
        )

    processed = await process_lead_photo(
        photo_id=uuid.UUID(a_photo["photo_id"]),
        store=_TransferDuringProcessing(store, transfer),  # type: ignore[arg-type]
    )
    assert processed is not None and processed.status == PhotoStatus.PROCESSED
    assert (await Lead.get(id=a["id"])).township_code == "330523002"
    for pair in await SuspectedDuplicate.all().prefetch_related("lead", "other"):
        assert pair.lead.township_code == pair.other.township_code, (
            pair.lead.number,
            pair.other.number,
        )
    assert await SuspectedDuplicate.all().count() == 0
