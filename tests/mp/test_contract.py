"""The mini-program's own page logic builds the bodies; the real API must accept each one.

Runs miniprogram/scripts/contract-samples.js with Node (installed by `make test` for the jest
suite), so a change on either side that breaks the contract fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.factories import make_user
from tests.intake.conftest import Points, gcj, mobile_login
from tests.mp.conftest import DIPU_VILLAGE, ID_A, ID_B

ROOT = Path(__file__).resolve().parents[2]


def _bodies(points: Points) -> dict[str, dict]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for the mini-program contract test (make test installs it)")
    here = gcj(points.dipu)
    spec = {
        "location": {"lat": here["lat"], "lng": here["lng"], "accuracy_m": 12},
        "village": DIPU_VILLAGE,
        "villages": [{"code": DIPU_VILLAGE, "name": "村"}],
        "applicant_id": ID_A,
        "member_id_15": ID_B[:6] + ID_B[8:17],  # the first-generation form, as typed
        "now": "2026-12-01T10:00:00+08:00",
    }
    out = subprocess.run(
        [node, str(ROOT / "miniprogram/scripts/contract-samples.js"), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


async def test_every_body_the_pages_build_is_accepted(
    client: httpx.AsyncClient, resident: dict, points: Points
) -> None:
    bodies = _bodies(points)
    for name in ("quick_location", "quick_village", "help_self", "help_other_by_village"):
        response = await client.post("/mp/v1/help-requests", json=bodies[name], headers=resident)
        assert response.status_code == 201, (name, response.text)
        assert response.json()["township"]["code"] == "330523001", name
    application = await client.post(
        "/mp/v1/applications", json=bodies["application"], headers=resident
    )
    assert application.status_code == 201, application.text
    shown = application.json()
    assert [m["id_number"][-4:] for m in shown["members"]] == [ID_B[-4:]]  # 15 -> 18 on the phone
    assert shown["income_monthly_yuan"] == 860.5
    await make_user("grid_contract", "grid_worker", "330523001", villages=[DIPU_VILLAGE])
    worker = await mobile_login(client, "grid_contract")
    report = await client.post("/mobile/v1/reports", json=bodies["report"], headers=worker)
    assert report.status_code == 201, report.text
