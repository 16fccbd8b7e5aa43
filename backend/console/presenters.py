"""How the console shows a lead or an application: labels, masked people, photo links.

Display only; the rooms read through the services and show what these helpers make of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Request

from backend.accounts.models import ROLE_LABELS
from backend.cases.models import Application, ApplicationDocument, ApplicationSource
from backend.cases.service import DecisionClock
from backend.console.pages import PHOTO_LINK_TTL
from backend.context import app_context
from backend.crypto import PiiCipher, mask_id_number, mask_phone
from backend.intake import labels as lead_labels
from backend.intake import service as intake_service
from backend.intake.models import (
    OPEN_STATUSES,
    Lead,
    LeadPhoto,
    LeadSource,
    LeadStatus,
    PhotoStatus,
)
from storage import StorageError

SOURCE_LABELS = {"grid_worker": "网格员上报", "resident": "居民求助"}
ROUTED_BY_LABELS = {
    "polygon": "按定位所在乡镇（街道）",
    "village_code": "按所选村（社区）",
    "household": "按户籍所在村（社区）",
    "nearest_window": "按最近的受理窗口（请核实）",
    "county_unrouted": "未能确定乡镇，县级待分派",
    "transferred": "由其他乡镇（街道）转交",
}
DUPLICATE_REASONS = {
    "same_person": "身份证号码相同",
    "nearby_similar": "位置相近（150 米内），姓名或地址相似",
    "photo_hash": "照片几乎相同",
}
APPLICATION_SOURCE_LABELS = {
    ApplicationSource.RESIDENT: "居民小程序",
    ApplicationSource.WINDOW: "窗口代为申请",
}


SHANGHAI = ZoneInfo("Asia/Shanghai")


def is_overdue(lead: Lead, now: datetime) -> bool:
    """Received and past its acknowledgement deadline."""
    return lead.status == LeadStatus.RECEIVED and lead.ack_due_at < now


def queue_row(lead: Lead, now: datetime, villages: dict[str, str]) -> dict[str, Any]:
    """One line of the queue."""
    return {
        "lead": lead,
        "overdue": is_overdue(lead, now),
        "open": lead.status in OPEN_STATUSES,
        "status_label": lead_labels.STATUS_LABELS.get(lead.status, lead.status),
        "source_label": SOURCE_LABELS.get(lead.source, lead.source),
        "hardship": lead_labels.hardship_labels(lead.hardship),
        "village": villages.get(lead.subject_village_code or "", lead.subject_village_code or ""),
    }


def masked_subject(lead: Lead, cipher: PiiCipher) -> dict[str, str | None]:
    """The subject's phone and ID number, masked."""
    phone = cipher.decrypt_optional(lead.subject_phone_enc, purpose=intake_service.PHONE_PURPOSE)
    id_number = cipher.decrypt_optional(lead.subject_id_enc, purpose=intake_service.ID_PURPOSE)
    return {"phone": mask_phone(phone), "id_number": mask_id_number(id_number)}


def requester(lead: Lead, cipher: PiiCipher) -> dict[str, Any] | None:
    """Who sent a resident's help request: for herself or someone else, her phone masked."""
    if lead.source != LeadSource.RESIDENT:
        return None
    phone = cipher.decrypt_optional(lead.contact_phone_enc, purpose=intake_service.PHONE_PURPOSE)
    return {
        "for_self": lead.for_self,
        "for_self_label": "为本人求助" if lead.for_self else "为他人求助",
        "relation": lead.subject_relation,
        "phone": mask_phone(phone),
    }


async def photo_view(request: Request, photo: LeadPhoto) -> dict[str, Any]:
    """A lead's photo with five-minute links to its thumbnail and display size."""
    store = app_context(request).store
    thumb = display = None
    if photo.status == PhotoStatus.PROCESSED and photo.thumb_key and photo.display_key:
        try:
            # Five minutes: long enough to look, too short to pass around.
            thumb = await store.presigned_get_url(photo.thumb_key, expires=PHOTO_LINK_TTL)
            display = await store.presigned_get_url(photo.display_key, expires=PHOTO_LINK_TTL)
        except StorageError:
            thumb = display = None
    return {
        "photo": photo,
        "thumb_url": thumb,
        "display_url": display,
        "status_label": lead_labels.PHOTO_STATUS_LABELS[photo.status],
        "has_gps": photo.exif_lat is not None and photo.exif_lng is not None,
    }


async def document_view(request: Request, document: ApplicationDocument) -> dict[str, Any]:
    """An application's supporting photo with a five-minute link to the original."""
    store = app_context(request).store
    try:
        # The original is private: a five-minute link, like a lead's photos.
        url = await store.presigned_get_url(document.original_key, expires=PHOTO_LINK_TTL)
    except StorageError:
        url = None
    return {"document": document, "url": url, "size_kb": max(1, round(document.size / 1024))}


def yuan(fen: int | None) -> str | None:
    """Fen as yuan with two decimals, without going through floats."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def actor(label: str) -> str:
    """An audit-style actor label ("window_clerk:张三") as a clerk reads it."""
    if not label:
        return ""
    role, sep, name = label.partition(":")
    if not sep:
        return label
    if role == "resident":
        return f"申请人（{name}）" if name else "申请人"
    known = {r.value: text for r, text in ROLE_LABELS.items()}.get(role)
    return f"{known} {name}" if known else label


def decision_clock(
    application: Application, clock: DecisionClock, now: datetime
) -> dict[str, Any] | None:
    """The decision's deadline in words: due date, working days left, overdue, extension."""
    if application.decision_due_at is None:
        return None
    left = clock.left(application, now) or 0
    overdue = now > application.decision_due_at
    if overdue:
        text = f"已超期 {max(-left, 0)} 个工作日" if left < 0 else "今天到期，已超时"
    elif left == 0:
        text = "今天到期"
    else:
        text = f"剩余 {left} 个工作日"
    return {
        "due": application.decision_due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d"),
        "left": left,
        "overdue": overdue,
        "text": text,
        "extended": application.extended_at is not None,
        "reason": application.extension_reason,
    }
