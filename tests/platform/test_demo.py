"""The demo data `make run` loads: the whole packaged NBS list, once."""

from __future__ import annotations

from backend.accounts.models import GridAssignment, User
from backend.cases.models import Application
from backend.config import Settings
from backend.demo import DEMO_ACCOUNTS, load_demo
from backend.geo.models import Division, Level, TownshipBoundary
from backend.intake.models import Lead
from backend.windows.models import Window


async def test_demo_loads_everything_once(db: None, settings: Settings) -> None:
    done = await load_demo(settings=settings)
    assert any("区划代码" in line for line in done)
    assert await Division.filter(level=Level.TOWNSHIP).count() == 41352
    assert await Division.filter(level=Level.PROVINCE).count() == 31
    assert await Division.filter(level=Level.VILLAGE, county_code="330523").count() > 0
    assert await Window.all().count() == 41352
    assert await TownshipBoundary.all().count() == 18
    dipu = await Window.get(township_code="330523001")
    assert dipu.address and dipu.phone and dipu.policies and dipu.duties
    staff = await User.filter(username__isnull=False)
    assert {u.username for u in staff} == {a.username for a in DEMO_ACCOUNTS}
    assert await User.filter(openid="dev-resident").exists()
    clerk = await User.get(username="dipu_clerk")
    assert (clerk.role, clerk.jurisdiction) == ("window_clerk", "330523001")
    grid = await GridAssignment.filter(user__username="dipu_grid").values_list(
        "village_code", flat=True
    )
    assert sorted(grid) == ["330523001001", "330523001002", "330523001200", "330523001201"]
    # A second `make run` reuses what the first made.
    leads = await Lead.filter(township_code="330523001", source="grid_worker").order_by("number")
    assert [lead.subject_name for lead in leads] == ["张阿婆", "李大伯", "王秀英"]
    assert all(lead.routed_by == "polygon" for lead in leads)
    assert [lead.urgent for lead in leads] == [False, True, False]
    # The resident the development WeChat login signs in already has something to follow.
    help_lead = await Lead.get(source="resident")
    assert (help_lead.township_code, help_lead.routed_by) == ("330523001", "village_code")
    application = await Application.get(source="resident")
    assert (application.township_code, application.category) == ("330523001", "dibao")
    assert application.resident_id == help_lead.reporter_id
    assert await load_demo(settings=settings) == []
