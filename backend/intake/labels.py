"""How people read a lead: the Chinese labels of its states, close reasons, photos and tags.

Display only: the faces (console, resident mini-program, grid-worker phone) show them, and the
triage service words its timeline lines and refusals with them. Nothing here decides anything.
"""

from __future__ import annotations

from datetime import date, datetime

from backend.intake.catalog import HARDSHIP_TAGS
from backend.intake.models import CloseReason, LeadStatus, PhotoStatus, Referral, ReferralStatus
from backend.workdays import SHANGHAI

# How a clerk reads a status.
STATUS_LABELS: dict[str, str] = {
    LeadStatus.RECEIVED: "待受理",
    LeadStatus.ACKNOWLEDGED: "已受理",
    LeadStatus.REFERRED: "已转办",
    LeadStatus.CONVERTED: "已转为申请",
    LeadStatus.MERGED: "已合并",
    LeadStatus.CLOSED: "已办结",
}
# How the grid worker or resident who sent the lead reads it (for the mobile API's status_label).
SENDER_STATUS_LABELS: dict[str, str] = {
    LeadStatus.RECEIVED: "已收到，待窗口受理",
    LeadStatus.ACKNOWLEDGED: "窗口已受理",
    LeadStatus.REFERRED: "已转相关部门办理",
    LeadStatus.CONVERTED: "窗口已代为提出救助申请",
    LeadStatus.MERGED: "已与同一户的其他报告合并办理",
    LeadStatus.CLOSED: "已办结",
}
CLOSE_REASON_LABELS: dict[str, str] = {
    CloseReason.NOT_IN_HARDSHIP: "不属于困难",
    CloseReason.ALREADY_ASSISTED: "已在保/已救助",
    CloseReason.UNREACHABLE: "无法联系",
    CloseReason.MOVED_AWAY: "已迁出",
    CloseReason.DUPLICATE: "重复",
    CloseReason.OTHER: "其他",
}
PHOTO_STATUS_LABELS = {
    PhotoStatus.RECEIVED: "处理中",
    PhotoStatus.PROCESSED: "已处理",
    PhotoStatus.FAILED: "处理失败",
}


def hardship_labels(tags: list[str]) -> list[str]:
    """Chinese labels of hardship tags."""
    return [HARDSHIP_TAGS.get(t, t) for t in tags]


def referral_state(referral: Referral, *, today: date | None = None) -> str:
    """pending, done, or overdue (pending past its due date, in Asia/Shanghai)."""
    today = today or datetime.now(SHANGHAI).date()
    if referral.status == ReferralStatus.PENDING and referral.due_date < today:
        return "overdue"
    return referral.status.value
