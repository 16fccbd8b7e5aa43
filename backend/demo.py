"""Demo data for `make run`: the divisions, the demo villages, windows and demo accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend.accounts.models import User
from backend.accounts.service import UserIn, get_or_create_resident, load_principal, upsert_user
from backend.cases.models import Application, ApplicationSource
from backend.cases.schemas import ApplicationIn
from backend.cases.service import submit_application
from backend.config import Settings
from backend.crypto import PiiCipher
from backend.geo import service as geo_service
from backend.geo.boundaries import import_boundaries
from backend.geo.models import Division, Level, TownshipBoundary
from backend.geo.routing import process_index
from backend.intake.models import Lead
from backend.intake.routing import route_for_lead
from backend.intake.schemas import HelpRequestIn, ReportIn
from backend.intake.service import IntakePolicy, Routed, submit_help_request, submit_report
from backend.windows import service as windows_service
from backend.windows.models import Window
from backend.workdays import WorkCalendar

DATA_DIR = Path(__file__).parent / "data"
DIVISIONS_DIR = DATA_DIR / "divisions"
DIVISIONS_VERSION = "2023"
DEMO_VILLAGES = DATA_DIR / "boundaries" / "demo-villages.csv"
DEMO_BOUNDARIES = DATA_DIR / "boundaries" / "demo-townships-wgs84.geojson"
DEMO_PASSWORD = "yimen-demo-2026"  # noqa: S105 - demo accounts, never in production
DEMO_COUNTIES = ("330523", "330522")


@dataclass(frozen=True)
class DemoAccount:
    """One account `make run` creates."""

    username: str
    role: str
    jurisdiction: str
    display_name: str
    villages: tuple[str, ...] = ()


DEMO_ACCOUNTS = (
    DemoAccount("dipu_clerk", "window_clerk", "330523001", "递铺街道窗口受理员"),
    DemoAccount("dipu_head", "township_head", "330523001", "递铺街道负责人"),
    DemoAccount("anji_approver", "county_approver", "330523", "安吉县民政局审批人"),
    DemoAccount("anji_supervisor", "supervisor", "330523", "安吉县纪检监督员"),
    DemoAccount(
        "dipu_grid",
        "grid_worker",
        "330523001",
        "递铺街道网格员",
        ("330523001001", "330523001002", "330523001200", "330523001201"),
    ),
)


async def load_demo(*, settings: Settings) -> list[str]:
    """Load what is missing; returns lines describing what was done."""
    done: list[str] = []
    if not await Division.filter(level=Level.TOWNSHIP).exists():
        report = await geo_service.import_divisions(
            directory=DIVISIONS_DIR, version=DIVISIONS_VERSION
        )
        done.append(f"区划代码：新增 {report.created} 条")
    if not await Division.filter(level=Level.VILLAGE, county_code__in=DEMO_COUNTIES).exists():
        report = await geo_service.import_villages(path=DEMO_VILLAGES, version="demo")
        if report.problems:
            raise RuntimeError("; ".join(str(p) for p in report.problems))
        done.append(f"演示村（社区）：新增 {report.created} 个")
    if not await TownshipBoundary.exists():
        boundary_report = await import_boundaries(
            path=DEMO_BOUNDARIES, crs="wgs84", code_field="code"
        )
        if not boundary_report.written:
            raise RuntimeError(boundary_report.summary())
        await process_index().reload_if_loaded()
        done.append(f"演示乡镇边界：{len(boundary_report.imported)} 个")
    townships = await geo_service.list_townships()
    created = await windows_service.create_missing_windows(townships=townships)
    if created:
        done.append(f"受理窗口：新增 {created} 个")
    counties = await Division.filter(level=Level.COUNTY, abolished=False)
    created = await windows_service.create_missing_departments(counties=counties)
    if created:
        done.append(f"县级部门：新增 {created} 个")
    await _post_demo_windows()
    for account in DEMO_ACCOUNTS:
        if await User.filter(username=account.username).exists():
            continue
        await upsert_user(
            user_in=UserIn(
                username=account.username,
                role=account.role,
                jurisdiction=account.jurisdiction,
                password=DEMO_PASSWORD,
                display_name=account.display_name,
                villages=account.villages,
            )
        )
        done.append(f"演示账号：{account.username}")
    created = await _load_demo_leads(settings)
    if created:
        done.append(f"演示线索：网格员 dipu_grid 上报 {created} 条")
    if await _load_demo_resident(settings):
        done.append("演示居民：小程序开发登录的居民，已有一条求助和一份低保申请")
    return done


async def _post_demo_windows() -> None:
    # Posted information for the demo townships that never had any (synthetic addresses).
    for township in await geo_service.list_townships(prefix="330523"):
        window = await Window.get(township_code=township.code)
        if window.version > 1 or window.address:
            continue
        window.address = f"浙江省湖州市安吉县{township.name}便民服务中心一楼社会救助窗口"
        window.opening_hours = "周一至周五 8:30-12:00，13:30-17:00（法定节假日除外）"
        window.phone = f"0572-5{township.code[-3:]}000"
        window.complaint_phone = "0572-5123456"
        window.policies = [
            "《社会救助暂行办法》",
            "《最低生活保障审核确认办法》（民发〔2021〕57号）",
            "《特困人员认定办法》（民发〔2021〕43号）",
            "临时救助：急难型先行救助，24 小时内响应",
        ]
        window.duties = [
            "一门受理：受理低保、特困、临时救助等各类救助申请",
            "协同办理：不属本窗口的事项，转办相关部门并跟踪结果",
            "主动发现：接收网格员、村（社区）报告的困难家庭线索",
        ]
        await window.save()


# Households the demo grid worker has reported (synthetic people, points in their villages).
DEMO_LEADS = (
    (
        "张阿婆",
        "330523001001",
        ["elderly_alone", "serious_illness"],
        False,
        "独居老人，卧床两个月，子女在外地，无人照料",
    ),
    (
        "李大伯",
        "330523001200",
        ["disaster", "no_housing"],
        True,
        "昨夜暴雨房屋部分倒塌，一家三口暂住邻居家",
    ),
    (
        "王秀英",
        "330523001201",
        ["medical_expense", "no_income"],
        False,
        "丈夫患尿毒症长期透析，家中无固定收入",
    ),
)


# The resident the development WeChat stand-in signs in for any wx.login code.
DEMO_RESIDENT_OPENID = "dev-resident"


async def _load_demo_resident(settings: Settings) -> bool:
    """A help request and an application of the development resident, through the services."""
    if await Application.filter(source=ApplicationSource.RESIDENT).exists():
        return False
    user, _ = await get_or_create_resident(openid=DEMO_RESIDENT_OPENID, display_name="演示居民")
    resident = await load_principal(user_id=user.id, token_id="", family="")
    cipher = PiiCipher(settings.pii_key_bytes)
    index = process_index()
    await index.reload()

    async def router(**kwargs: Any) -> Routed:
        return await route_for_lead(index=index, settings=settings, **kwargs)

    async def no_check() -> bool:
        return False

    await submit_help_request(
        help_in=HelpRequestIn.model_validate(
            {
                "client_id": str(uuid.UUID(int=101)),
                "device_id": "demo-device",
                "for_self": False,
                "relation": "邻居",
                "subject": {"name": "赵大爷", "village_code": "330523001001"},
                "hardship": ["elderly_alone", "disability"],
                "description": "隔壁赵大爷独居，腿脚不便，最近几天没见他出门",
                "contact_phone": "13900000001",
            }
        ),
        resident=resident,
        cipher=cipher,
        policy=_policy(settings),
        router=router,
        before_create=no_check,
    )
    await submit_application(
        application_in=ApplicationIn.model_validate(
            {
                "client_id": str(uuid.UUID(int=102)),
                "device_id": "demo-device",
                "category": "dibao",
                "applicant": {"name": "陈美华", "id_number": "330523196505050026"},
                "members": [
                    {"name": "周建平", "id_number": "330523196303030019", "relation": "spouse"}
                ],
                "income_monthly_yuan": "900",
                "assets": {"house_count": 1, "car_count": 0, "savings_yuan": "3000"},
                "hukou_village_code": "330523001001",
                "reason": "丈夫脑梗后失去劳动能力，本人打零工收入不稳定",
                "consent": {"economic_check": True, "signed_name": "陈美华"},
            }
        ),
        resident=resident,
        cipher=cipher,
        before_create=no_check,
    )
    return True


def _policy(settings: Settings) -> IntakePolicy:
    return IntakePolicy(
        calendar=WorkCalendar.parse(settings.holidays, settings.makeup_workdays),
        urgent_hours=settings.ack_urgent_hours,
        working_days=settings.ack_working_days,
    )


async def _load_demo_leads(settings: Settings) -> int:
    """Three reports from the demo grid worker, filed through the real intake service."""
    if await Lead.exists():
        return 0
    grid = await User.get(username="dipu_grid")
    reporter = await load_principal(user_id=grid.id, token_id="", family="")
    index = process_index()
    await index.reload()
    policy = _policy(settings)

    async def router(**kwargs: Any) -> Routed:
        return await route_for_lead(index=index, settings=settings, **kwargs)

    villages = {d.code: d for d in await Division.filter(code__in=[v for _, v, *_ in DEMO_LEADS])}
    for i, (name, village, tags, urgent, text) in enumerate(DEMO_LEADS):
        spot = villages[village]
        report_in = ReportIn.model_validate(
            {
                "client_id": str(uuid.UUID(int=i + 1)),
                "subject": {
                    "name": name,
                    "phone": f"1380000000{i}",
                    "village_code": village,
                    "address": f"{spot.name}{i + 3}号",
                },
                "hardship": tags,
                "urgent": urgent,
                "description": text,
                "location": {
                    "lat": spot.lat,
                    "lng": spot.lng,
                    "coord_type": "wgs84",
                    "accuracy_m": 15,
                },
                "observed_at": datetime.now(UTC).isoformat(),
            }
        )
        await submit_report(
            report_in=report_in,
            reporter=reporter,
            cipher=PiiCipher(settings.pii_key_bytes),
            policy=policy,
            router=router,
        )
    return len(DEMO_LEADS)
