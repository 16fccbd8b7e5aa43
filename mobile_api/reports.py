"""Grid workers' reports: file, list, read, and upload photos."""

from __future__ import annotations

import uuid
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from backend.accounts.authz import Principal
from backend.accounts.models import UserKind
from backend.context import app_context
from backend.crypto import mask_id_number, mask_phone
from backend.guard import protected
from backend.intake import service
from backend.intake.catalog import HARDSHIP_TAGS, MAX_PHOTOS_PER_LEAD
from backend.intake.labels import PHOTO_STATUS_LABELS, SENDER_STATUS_LABELS, hardship_labels
from backend.intake.models import Lead, LeadPhoto
from backend.intake.schemas import ReportIn, ReportListQuery
from backend.intake.triage import worker_message
from backend.web.http import body, decode_cursor, encode_cursor, ok, path_uuid, query
from backend.web.uploads import accept_photo, multipart_photo, original_putter
from backend.windows.service import get_window_of_township
from storage.photos import MAX_BYTES

bp = Blueprint("mobile_reports", url_prefix="/reports")

ROUTED_BY_LABELS = {
    "polygon": "按定位所在乡镇（街道）",
    "village_code": "按所选村（社区）",
    "household": "按户籍所在村（社区）",
    "nearest_window": "按最近的受理窗口（待窗口确认）",
    "county_unrouted": "未能确定乡镇，转县级统一分派",
    "transferred": "由原窗口转交本窗口",
}


def _photo_out(photo: LeadPhoto) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "exif_gps": photo.exif_lat is not None,
        "distance_m": photo.exif_distance_m,
        "minutes_from_observed": photo.exif_minutes_off,
    }
    return {
        "photo_id": str(photo.id),
        "client_photo_id": str(photo.client_photo_id),
        "status": photo.status.value,
        "status_label": PHOTO_STATUS_LABELS[photo.status],
        "width": photo.width,
        "height": photo.height,
        "evidence": evidence,
    }


async def lead_out(request: Request, lead: Lead) -> dict[str, Any]:
    """A report as its grid worker sees it (personal data masked)."""
    cipher = app_context(request).cipher
    township, window = await get_window_of_township(township_code=lead.township_code)
    phone = cipher.decrypt_optional(lead.subject_phone_enc, purpose=service.PHONE_PURPOSE)
    id_number = cipher.decrypt_optional(lead.subject_id_enc, purpose=service.ID_PURPOSE)
    # Only a flag: another lead's number or reasons would tell a worker that the person has an
    # open hardship lead, which is the window's business, not the phone's.
    possible_duplicate = await service.has_suspected_duplicate(lead=lead)
    photos = await service.list_photos(lead=lead)
    events = await service.list_events(lead=lead)
    return {
        "id": str(lead.id),
        "client_id": str(lead.client_id),
        "number": lead.number,
        "status": lead.status.value,
        "status_label": SENDER_STATUS_LABELS.get(lead.status, lead.status.value),
        "township": {"code": township.code, "name": township.name} if township else None,
        "window": (
            {"name": window.name, "address": window.address, "phone": window.phone}
            if window
            else None
        ),
        "routed_by": lead.routed_by,
        "routed_by_label": ROUTED_BY_LABELS.get(lead.routed_by, lead.routed_by),
        "ambiguous": lead.ambiguous,
        "outside_grid": lead.outside_grid,
        "urgent": lead.urgent,
        "ack_due_at": lead.ack_due_at.isoformat(),
        "observed_at": lead.observed_at.isoformat(),
        "created_at": lead.created_at.isoformat(),
        "subject": {
            "name": lead.subject_name,
            "phone": mask_phone(phone),
            "id_number": mask_id_number(id_number),
            "address": lead.subject_address,
            "village_code": lead.subject_village_code,
            "household_size": lead.household_size,
        },
        "hardship": lead.hardship,
        "hardship_labels": hardship_labels(lead.hardship),
        "description": lead.description,
        "location": (
            {
                "lat": lead.lat,
                "lng": lead.lng,
                "coord_type": "wgs84",
                "accuracy_m": lead.accuracy_m,
                "sent": lead.sent_location,
            }
            if lead.lat is not None
            else None
        ),
        "photos": [_photo_out(p) for p in photos],
        "possible_duplicate": possible_duplicate,
        "timeline": [
            {"at": e.at.isoformat(), "kind": e.kind, "message": worker_message(e)} for e in events
        ],
    }


@bp.post("/")
@openapi.summary("上报困难家庭（主动发现）")
@openapi.description(
    "client_id 由手机生成（UUID）。同一 client_id 重发相同内容返回 200 与首次相同的报告；"
    "内容不同返回 409。困难类型可选："
    + "、".join(f"{k}（{v}）" for k, v in HARDSHIP_TAGS.items())
    + "。定位 coord_type 可为 wgs84、gcj02、bd09；无定位时须提供 subject.village_code。"
)
@openapi.secured("bearer")
@openapi.body({"application/json": ReportIn.model_json_schema()})
@protected(kinds=[UserKind.GRID_WORKER])
async def create_report(request: Request, principal: Principal) -> HTTPResponse:
    """File a report; a replay of the same client_id answers the first."""
    report_in = body(request, ReportIn)
    lead, created = await service.submit_report(
        report_in=report_in,
        reporter=principal,
        cipher=app_context(request).cipher,
        policy=app_context(request).intake_policy,
        router=app_context(request).route_lead,
    )
    return ok(await lead_out(request, lead), status=201 if created else 200)


@bp.get("/")
@openapi.summary("我的上报（分页）")
@openapi.secured("bearer")
@openapi.parameter("cursor", str)
@openapi.parameter("limit", int)
@protected(kinds=[UserKind.GRID_WORKER])
async def list_reports(request: Request, principal: Principal) -> HTTPResponse:
    """The worker's own reports, newest first."""
    params = query(request, ReportListQuery)
    leads = await service.list_leads_for_reporter(
        reporter=principal, before=decode_cursor(params.cursor), limit=params.limit + 1
    )
    page, more = leads[: params.limit], len(leads) > params.limit
    items = [await lead_out(request, lead) for lead in page]
    return ok(
        {
            "items": items,
            "next_cursor": encode_cursor(page[-1].created_at, page[-1].id) if more else None,
        }
    )


@bp.get("/<lead_id:str>")
@openapi.summary("一份上报的详情与窗口反馈")
@openapi.secured("bearer")
@protected(kinds=[UserKind.GRID_WORKER])
async def get_report(request: Request, lead_id: str, principal: Principal) -> HTTPResponse:
    """One of the worker's reports."""
    lead = await service.get_lead_for_reporter(
        lead_id=path_uuid(lead_id, "报告编号"), reporter=principal
    )
    return ok(await lead_out(request, lead))


@bp.put("/<lead_id:str>/photos/<client_photo_id:str>")
@openapi.summary("上传一张照片")
@openapi.description(
    f"请求体为图片原始字节（JPEG、PNG、WebP、HEIC）。每份报告最多 {MAX_PHOTOS_PER_LEAD} 张，"
    f"每张不超过 {MAX_BYTES // (1024 * 1024)} MB。同一照片编号重传相同内容不重复保存。"
)
@openapi.secured("bearer")
@protected(kinds=[UserKind.GRID_WORKER])
async def put_photo(
    request: Request, lead_id: str, client_photo_id: str, principal: Principal
) -> HTTPResponse:
    """Upload one photo; its processing happens in the background."""
    lead = await service.get_lead_for_reporter(
        lead_id=path_uuid(lead_id, "报告编号"), reporter=principal
    )
    return await _store_photo(
        request, lead, path_uuid(client_photo_id, "照片编号"), request.body or b"", principal
    )


@bp.post("/<lead_id:str>/photos")
@openapi.summary("上传一张照片（multipart，供小程序 wx.uploadFile 使用）")
@openapi.description(
    "multipart/form-data：文件字段 file，另附字段 client_photo_id（UUID）。其余规则同 PUT。"
)
@openapi.secured("bearer")
@protected(kinds=[UserKind.GRID_WORKER])
async def post_photo(request: Request, lead_id: str, principal: Principal) -> HTTPResponse:
    """Upload one photo as multipart form data (wx.uploadFile)."""
    lead = await service.get_lead_for_reporter(
        lead_id=path_uuid(lead_id, "报告编号"), reporter=principal
    )
    client_photo_id, data = multipart_photo(request)
    return await _store_photo(request, lead, client_photo_id, data, principal)


async def _store_photo(
    request: Request, lead: Lead, client_photo_id: uuid.UUID, data: bytes, principal: Principal
) -> HTTPResponse:
    info = accept_photo(data)
    photo, _created = await service.add_photo(
        lead=lead,
        client_photo_id=client_photo_id,
        data=data,
        mime=info.mime,
        reporter=principal,
        put_original=original_putter(request),
    )
    return ok({"photo_id": str(photo.id), "status": photo.status.value}, status=201)
