"""After-commit kicks (backend.kicks): the service queues its task, no face has to."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta

import httpx

from backend import kicks
from backend.accounts.service import load_principal
from backend.app import TaskKicker
from backend.config import Settings
from backend.intake import service as intake
from backend.intake.models import Lead, PhotoStatus
from backend.intake.photos import photos_to_retry
from backend.jobs.broker import make_broker
from backend.jobs.tasks import SWEEP_AFTER
from tests.harness.processes import task_worker
from tests.intake.conftest import Points, gcj, photos_dir, report_body

JPEG = (photos_dir() / "gps_DSCN0010.jpg").read_bytes()


async def test_a_stored_photo_is_queued_by_the_service_well_before_the_sweep(
    app: object, client: httpx.AsyncClient, worker: dict, points: Points, settings: Settings
) -> None:
    # The sweep only re-queues photos older than SWEEP_AFTER: processed sooner means kicked.
    assert timedelta(seconds=60) < SWEEP_AFTER
    assert isinstance(app.ctx.kicker, TaskKicker)  # type: ignore[attr-defined]
    async with task_worker(settings):
        created = await client.post(
            "/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker
        )
        assert created.status_code == 201, created.text
        lead = created.json()
        put = await client.put(
            f"/mobile/v1/reports/{lead['id']}/photos/{uuid.uuid4()}", content=JPEG, headers=worker
        )
        assert put.status_code == 201, put.text
        status = None
        for _ in range(120):
            shown = (await client.get(f"/mobile/v1/reports/{lead['id']}", headers=worker)).json()
            status = shown["photos"][0]["status"]
            if status == "processed":
                break
            await asyncio.sleep(0.5)
        assert status == "processed"


async def test_without_a_kicker_a_service_still_works_and_the_sweep_finds_the_photo(
    client: httpx.AsyncClient, worker: dict, points: Points
) -> None:
    created = await client.post(
        "/mobile/v1/reports/", json=report_body(gcj(points.dipu)), headers=worker
    )
    assert created.status_code == 201, created.text
    # The request's kicker was its own: the caller's context has none afterwards.
    assert kicks.current_kicker() is None
    lead = await Lead.get(id=created.json()["id"])
    reporter = await load_principal(user_id=lead.reporter_id, token_id="t", family="f")
    stored: list[str] = []

    async def put_original(key: str, data: bytes, mime: str) -> None:
        stored.append(key)

    photo, was_created = await intake.add_photo(
        lead=lead,
        client_photo_id=uuid.uuid4(),
        data=JPEG,
        mime="image/jpeg",
        reporter=reporter,
        put_original=put_original,
    )
    assert was_created and photo.status == PhotoStatus.RECEIVED and stored == [photo.original_key]
    assert photo.id in await photos_to_retry(older_than=timedelta(seconds=-1))
    await kicks.notices_queued()  # nothing to kick through: nothing happens


async def test_a_kick_that_cannot_reach_the_queue_does_not_raise(settings: Settings) -> None:
    unreachable = dataclasses.replace(settings, redis_url="redis://127.0.0.1:9/0")
    broker = make_broker(unreachable)
    token = kicks.use_kicker(TaskKicker(broker))
    try:
        await asyncio.wait_for(kicks.photo_stored(uuid.uuid4()), timeout=60)
    finally:
        kicks.reset_kicker(token)
    assert kicks.current_kicker() is None
