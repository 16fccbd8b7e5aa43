"""Cases: the only writer of applications, their supporting photos and timelines."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from backend import kicks
from backend.accounts.authz import Principal, ensure_jurisdiction
from backend.cases.labels import category_label, relation_label
from backend.cases.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationSource,
    ApplicationStatus,
)
from backend.cases.policy import ApplicationAction, ensure_application_action, ensure_may
from backend.cases.schemas import ApplicationIn, to_fen
from backend.crypto import PiiCipher
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.geo.models import Division, Level
from backend.integrity.service import record_event
from backend.notify.service import queue_notice
from backend.numbering import fingerprint, next_number
from backend.people.identity import person_index
from backend.uploads import CappedUpload
from backend.workdays import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
ID_PURPOSE = "application.person.id"
PHONE_PURPOSE = "application.person.phone"
MAX_DOCUMENTS = 10
STALE_MESSAGE = "该申请已被他人更新，请刷新后重试"

# The at most 5 characters a subscribe message allows, per state.
STATUS_PHRASES: dict[str, str] = {
    ApplicationStatus.RECEIVED: "已提交",
    ApplicationStatus.ACCEPTED: "已受理",
    ApplicationStatus.MATERIALS_REQUESTED: "待补材料",
    ApplicationStatus.REFUSED: "不予受理",
}


def ensure_consent(application_in: ApplicationIn) -> None:
    """422 unless the applicant agreed to the economic check and signed with their name."""
    consent = application_in.consent
    errors = []
    if not consent.economic_check:
        errors.append({"field": "consent.economic_check", "message": "请勾选同意"})
    if consent.signed_name != application_in.applicant.name:
        errors.append({"field": "consent.signed_name", "message": "请填写与申请人一致的姓名"})
    if errors:
        raise ValidationFailed(
            "提交申请前，需要申请人同意授权核对家庭经济状况，并签上与申请人一致的姓名",
            type_slug="consent-required",
            title="需要授权",
            errors=errors,
        )


async def _ensure_hukou_village(code: str) -> Division:
    village = await Division.filter(code=code, abolished=False).first()
    if village is None or village.level != Level.VILLAGE:
        raise ValidationFailed(
            f"户籍所在村（社区）代码 {code} 不存在或已撤销，请重新选择",
            errors=[{"field": "hukou_village_code", "message": "不存在或已撤销"}],
        )
    return village


def _replayed(existing: Application, fingerprint: str) -> Application:
    if existing.request_hash != fingerprint:
        raise Conflict(
            "这个编号（client_id）已用于另一份内容不同的申请；新申请请使用新的 client_id",
            type_slug="client-id-reused",
        )
    return existing


async def submit_application(
    *,
    application_in: ApplicationIn,
    resident: Principal,
    cipher: PiiCipher,
    before_create: Callable[[], Awaitable[bool]],
) -> tuple[Application, bool]:
    """File a resident's application at its 户籍 township; a replay returns the first."""
    ensure_consent(application_in)
    digest = fingerprint(application_in, cipher)
    existing = await Application.filter(
        resident_id=resident.user_id, client_id=application_in.client_id
    ).first()
    if existing is not None:
        return _replayed(existing, digest), False
    village = await _ensure_hukou_village(application_in.hukou_village_code)
    township_code = village.code[:9]
    review = await before_create()
    now = datetime.now(UTC)
    number = await next_number(f"{township_code}-SQ", now.astimezone(SHANGHAI).year)
    applicant = application_in.applicant
    members = [
        {
            "name": m.name,
            "relation": m.relation,
            "id_enc": cipher.encrypt(m.id_number, purpose=ID_PURPOSE),
            "id_index": person_index(cipher=cipher, id_number=m.id_number),
        }
        for m in application_in.members
    ]
    assets = application_in.assets
    try:
        async with in_transaction() as conn:
            application = await Application.create(
                id=uuid.uuid4(),
                number=number,
                category=application_in.category,
                township_code=township_code,
                county_code=township_code[:6],
                source=ApplicationSource.RESIDENT,
                applicant_name=applicant.name,
                applicant_id_enc=cipher.encrypt(applicant.id_number, purpose=ID_PURPOSE),
                applicant_id_index=person_index(cipher=cipher, id_number=applicant.id_number),
                applicant_phone_enc=cipher.encrypt_optional(applicant.phone, purpose=PHONE_PURPOSE),
                members=members,
                income_monthly_fen=to_fen(application_in.income_monthly_yuan),
                assets={
                    "house_count": assets.house_count,
                    "car_count": assets.car_count,
                    "savings_fen": to_fen(assets.savings_yuan),
                    "note": assets.note,
                },
                hukou_village_code=village.code,
                reason=application_in.reason,
                on_behalf=application_in.on_behalf,
                consent_at=now,
                consent_signed_name=application_in.consent.signed_name,
                content_review=review,
                resident_id=resident.user_id,
                client_id=application_in.client_id,
                request_hash=digest,
                created_by_id=resident.user_id,
                using_db=conn,
            )
            await ApplicationEvent.create(
                application=application,
                kind="received",
                message=f"{category_label(application.category)}申请已提交到户籍所在乡镇（街道）受理窗口",
                using_db=conn,
            )
            await record_event(
                actor_id=resident.user_id,
                actor_label=resident.label,
                action="application.create",
                entity="application",
                entity_id=str(application.id),
                jurisdiction=township_code,
                after={
                    "number": number,
                    "category": application.category,
                    "source": application.source.value,
                    "members": len(members),
                    "consent": True,
                    "status": application.status.value,
                },
                using_db=conn,
            )
    except IntegrityError:
        existing = await Application.filter(
            resident_id=resident.user_id, client_id=application_in.client_id
        ).first()
        if existing is None:
            raise
        return _replayed(existing, digest), False
    return application, True


async def create_from_lead(
    *,
    conn: BaseDBAsyncClient,
    principal: Principal,
    lead_id: uuid.UUID,
    township_code: str,
    applicant_name: str,
    number: str,
    category: str,
    resident_id: uuid.UUID | None = None,
) -> Application:
    """A received application the window files for a lead's household (代为申请).

    resident_id: the resident who asked for help for herself, so she follows the application
    in the mini-program as her own.
    """
    application = await Application.create(
        id=uuid.uuid4(),
        number=number,
        category=category,
        township_code=township_code,
        county_code=township_code[:6],
        source=ApplicationSource.WINDOW,
        lead_id=lead_id,
        applicant_name=applicant_name,
        on_behalf=True,
        resident_id=resident_id,
        created_by_id=principal.user_id,
        using_db=conn,
    )
    await ApplicationEvent.create(
        application=application,
        kind="received",
        message=f"窗口已代为提出{category_label(category)}申请",
        actor_label=principal.label,
        using_db=conn,
    )
    await record_event(
        actor_id=principal.user_id,
        actor_label=principal.label,
        action="application.create",
        entity="application",
        entity_id=str(application.id),
        jurisdiction=township_code,
        after={
            "number": number,
            "category": category,
            "lead": str(lead_id),
            "status": application.status.value,
        },
        using_db=conn,
    )
    return application


async def get_application_for_resident(
    *, application_id: uuid.UUID, resident: Principal
) -> Application:
    """One of the caller's own applications, or 404 (others' do not exist for them)."""
    application = await Application.filter(id=application_id, resident_id=resident.user_id).first()
    if application is None:
        raise NotFound("找不到这份申请")
    return application


async def list_events(*, application: Application) -> list[ApplicationEvent]:
    """The application's timeline, oldest first."""
    return await ApplicationEvent.filter(application=application).order_by("id")


async def list_documents(*, application: Application) -> list[ApplicationDocument]:
    """The supporting photos in upload order."""
    return await ApplicationDocument.filter(application=application).order_by("created_at", "id")


DOCUMENT_UPLOADS = CappedUpload(
    model=ApplicationDocument,
    record_field="application",
    cap=MAX_DOCUMENTS,
    cap_message=f"每份申请最多 {MAX_DOCUMENTS} 张材料照片",
)


def document_key(application: Application, document_id: uuid.UUID) -> str:
    """Where a supporting photo lives in the object store (private)."""
    return f"applications/{application.id}/documents/{document_id}/original"


async def add_document(
    *,
    application: Application,
    client_photo_id: uuid.UUID,
    data: bytes,
    mime: str,
    actor: Principal,
    put_original: Callable[[str, bytes, str], Awaitable[None]],
) -> tuple[ApplicationDocument, bool]:
    """Keep a supporting photo; a retry of the same photo answers the first (created False)."""

    async def audit(document_id: uuid.UUID, conn: BaseDBAsyncClient) -> None:
        await record_event(
            actor_id=actor.user_id,
            actor_label=actor.label,
            action="application.document_add",
            entity="application",
            entity_id=str(application.id),
            jurisdiction=application.township_code,
            after={"document_id": str(document_id), "size": len(data), "mime": mime},
            using_db=conn,
        )

    return await DOCUMENT_UPLOADS.add(
        record=application,
        client_photo_id=client_photo_id,
        data=data,
        mime=mime,
        key_for=lambda document_id: document_key(application, document_id),
        put_original=put_original,
        audit=audit,
    )


_HEX_INDEX = re.compile(r"[0-9a-f]{64}")


def _scope(principal: Principal) -> Q:
    jurisdiction = principal.jurisdiction or "\x00"
    return Q(township_code__startswith=jurisdiction)


# Accepted and not yet decided: the cases whose decision clock runs.
AWAITING_DECISION = (ApplicationStatus.ACCEPTED,)


async def list_applications_for_staff(
    *,
    principal: Principal,
    status: str | None = None,
    overdue_at: datetime | None = None,
    limit: int = 100,
) -> list[Application]:
    """Applications of the caller's jurisdiction, newest first.

    With overdue_at, only those awaiting a decision whose limit passed before it, the longest
    overdue first.
    """
    if not principal.jurisdiction:
        return []
    query = Application.filter(_scope(principal))
    if status:
        query = query.filter(status=status)
    if overdue_at is not None:
        query = query.filter(status__in=AWAITING_DECISION, decision_due_at__lt=overdue_at)
        return await query.order_by("decision_due_at", "id").limit(limit)
    return await query.order_by("-created_at", "-id").limit(limit)


@dataclass(frozen=True)
class DecisionsDue:
    """One township's accepted cases by their decision limit."""

    township_code: str
    overdue: int
    due_soon: int


async def list_decisions_due(
    *, principal: Principal, now: datetime, soon: datetime
) -> list[DecisionsDue]:
    """Per township of the caller's jurisdiction: cases past their limit, and due by `soon`.

    The township head sees their township's; the county's approvers and supervisors see every
    township of the county, so an overdue case reaches them too.
    """
    if not principal.jurisdiction:
        return []
    rows = (
        await Application.filter(
            _scope(principal), status__in=AWAITING_DECISION, decision_due_at__isnull=False
        )
        .annotate(
            overdue=Count("id", _filter=Q(decision_due_at__lt=now)),
            due_soon=Count("id", _filter=Q(decision_due_at__gte=now, decision_due_at__lte=soon)),
        )
        .group_by("township_code")
        .order_by("township_code")
        .values("township_code", "overdue", "due_soon")
    )
    return [
        DecisionsDue(str(r["township_code"]), int(r["overdue"]), int(r["due_soon"]))
        for r in rows
        if r["overdue"] or r["due_soon"]
    ]


async def list_applications_of_person(
    *, principal: Principal, id_index: str, limit: int = 20
) -> list[Application]:
    """Applications in the caller's jurisdiction whose applicant or a member is this person."""
    if not principal.jurisdiction or not _HEX_INDEX.fullmatch(id_index):
        return []
    # Members carry their index inside the JSON list; containment finds them among the
    # jurisdiction's applications. The index is hex (checked above), so it is safe inline.
    member = RawSQL(f"members @> '{json.dumps([{'id_index': id_index}])}'::jsonb")
    rows = (
        await Application.filter(_scope(principal))
        .annotate(has_member=member)
        .filter(Q(applicant_id_index=id_index) | Q(has_member=True))
        .order_by("-created_at", "-id")
        .limit(limit)
    )
    return list(rows)


async def get_application_for_staff(
    *, principal: Principal, application_id: uuid.UUID
) -> Application:
    """An application in the caller's jurisdiction, or 404."""
    application = await Application.filter(id=application_id).first()
    if application is None:
        raise NotFound("找不到该申请，或不在您的管辖范围内")
    ensure_jurisdiction(principal, application.township_code, hide=True)
    return application


async def _act(
    *,
    principal: Principal,
    application_id: uuid.UUID,
    expected_version: int,
    act: ApplicationAction,
    to: ApplicationStatus,
    action: str,
    message: str,
    extra: dict[str, Any],
    changes: Callable[[Application, datetime], dict[str, Any]] | None = None,
    event_kind: str | None = None,
    phrase: str | None = None,
    notice_message: Callable[[Application], str] | None = None,
) -> Application:
    """Move an application on one version, with its timeline line, audit row and notice.

    `changes` sets further fields on the locked row and returns them (and whatever else the
    audit row should hold, such as a value before the change) for the audit row.
    """
    ensure_may(principal, act)
    async with in_transaction() as conn:
        application = (
            await Application.filter(id=application_id).select_for_update().using_db(conn).first()
        )
        if application is None:
            raise NotFound("找不到该申请，或不在您的管辖范围内")
        ensure_jurisdiction(principal, application.township_code, hide=True)
        if application.version != expected_version:
            raise Conflict(STALE_MESSAGE, type_slug="stale-version")
        ensure_application_action(principal, application, act)
        before = {"status": application.status.value, "version": application.version}
        application.status = to
        application.version += 1
        changed = changes(application, datetime.now(UTC)) if changes else {}
        extra = extra | {k: _audit_value(v) for k, v in changed.items()}
        await application.save(
            using_db=conn,
            update_fields=[
                "status",
                "version",
                "updated_at",
                *(k for k in changed if k in Application._meta.fields_map),
            ],
        )
        event = await ApplicationEvent.create(
            application=application,
            kind=event_kind or to.value,
            message=message[:255],
            actor_label=principal.label,
            using_db=conn,
        )
        await record_event(
            actor_id=principal.user_id,
            actor_label=principal.label,
            action=action,
            entity="application",
            entity_id=str(application.id),
            jurisdiction=application.township_code,
            before=before,
            after={"status": to.value, "version": application.version} | extra,
            using_db=conn,
        )
        if application.resident_id is not None:
            await queue_notice(
                conn=conn,
                user_id=application.resident_id,
                item_kind="application",
                item_id=application.id,
                number=application.number,
                phrase=phrase or STATUS_PHRASES[to],
                message=notice_message(application) if notice_message else message,
                at=event.at,
            )
    await kicks.notices_queued()  # committed: the resident hears now
    return application


def _audit_value(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class DecisionClock:
    """How long a decision may take: working days from acceptance, and once extended."""

    calendar: WorkCalendar
    working_days: int = 30
    extended_working_days: int = 45

    def due(self, accepted_at: datetime, *, extended: bool = False) -> datetime:
        """The end of the last working day of the decision."""
        days = self.extended_working_days if extended else self.working_days
        return self.calendar.add_working_days(accepted_at, days)

    def left(self, application: Application, now: datetime) -> int | None:
        """Working days left until the decision is due (negative once overdue)."""
        if application.decision_due_at is None:
            return None
        return self.calendar.working_days_left(now, application.decision_due_at)


async def accept_application(
    *,
    principal: Principal,
    application_id: uuid.UUID,
    expected_version: int,
    clock: DecisionClock,
) -> Application:
    """The window accepts an application: the 30-working-day review starts."""

    def start(application: Application, now: datetime) -> dict[str, Any]:
        application.accepted_at = now
        application.decision_due_at = clock.due(now)
        return {"accepted_at": now, "decision_due_at": application.decision_due_at}

    return await _act(
        principal=principal,
        application_id=application_id,
        expected_version=expected_version,
        act=ApplicationAction.ACCEPT,
        to=ApplicationStatus.ACCEPTED,
        action="application.accept",
        message="窗口已受理您的申请，将入户调查并核对家庭经济状况",
        extra={},
        changes=start,
    )


EXTENSION_REASON_MAX = 200


def _written(
    value: str, *, field: str, shortest: int, longest: int, missing: str, too_long: str
) -> str:
    """A form's text, stripped; 422 naming the field when it is too short or too long."""
    text = value.strip()
    if len(text) < shortest:
        raise ValidationFailed(missing, errors=[{"field": field, "message": "必填项"}])
    if len(text) > longest:
        raise ValidationFailed(too_long, errors=[{"field": field, "message": "内容太长"}])
    return text


async def extend_deadline(
    *,
    principal: Principal,
    application_id: uuid.UUID,
    expected_version: int,
    reason: str,
    clock: DecisionClock,
) -> Application:
    """The township head extends the decision once, to 45 working days, with a reason."""
    text = _written(
        reason,
        field="reason",
        shortest=4,
        longest=EXTENSION_REASON_MAX,
        missing="请写明延期的理由（至少 4 个字），申请人会看到",
        too_long=f"延期理由不能超过 {EXTENSION_REASON_MAX} 个字",
    )

    def extend(application: Application, now: datetime) -> dict[str, Any]:
        # Counted from acceptance: the extension lengthens the one limit, it does not restart it.
        # The policy allows it only on an accepted case with a clock, before its limit passed.
        if application.accepted_at is None or application.decision_due_at is None:
            raise Conflict("该申请没有审核期限，不能延长", type_slug="no-deadline")
        before_due = application.decision_due_at
        application.decision_due_at = clock.due(application.accepted_at, extended=True)
        application.extended_at = now
        application.extension_reason = text
        return {
            "decision_due_at": application.decision_due_at,
            "decision_due_at_before": before_due,
            "extended_at": now,
            "extension_reason": text,
        }

    def due_day(application: Application) -> str:
        due = application.decision_due_at
        return due.astimezone(SHANGHAI).strftime("%Y-%m-%d") if due else ""

    # The reason stays with the staff (it may speak of income or illness); the applicant and
    # whoever applied for them read that the limit was lawfully extended, and to when.
    return await _act(
        principal=principal,
        application_id=application_id,
        expected_version=expected_version,
        act=ApplicationAction.EXTEND,
        to=ApplicationStatus.ACCEPTED,
        action="application.extend",
        message=f"审核期限依法延长至 {clock.extended_working_days} 个工作日",
        extra={},
        changes=extend,
        event_kind="extended",
        phrase="审核延期",
        notice_message=lambda application: f"审核期限延长至{due_day(application)}",
    )


async def request_materials(
    *,
    principal: Principal,
    application_id: uuid.UUID,
    expected_version: int,
    materials: str,
) -> Application:
    """Tell the applicant, all at once, what is missing (一次性告知)."""
    text = _written(
        materials,
        field="materials",
        shortest=1,
        longest=200,
        missing="请列出需要补充的全部材料（一次性告知）",
        too_long="补充材料说明不能超过 200 个字",
    )
    return await _act(
        principal=principal,
        application_id=application_id,
        expected_version=expected_version,
        act=ApplicationAction.REQUEST_MATERIALS,
        to=ApplicationStatus.MATERIALS_REQUESTED,
        action="application.request_materials",
        message=f"请补充以下材料：{text}",
        extra={"materials": text},
    )


def members_out(application: Application, cipher: PiiCipher) -> list[dict[str, Any]]:
    """Members with their ID numbers decrypted (callers mask them before showing)."""
    return [
        {
            "name": m["name"],
            "relation": m["relation"],
            "relation_label": relation_label(m["relation"]),
            "id_number": cipher.decrypt_optional(m.get("id_enc"), purpose=ID_PURPOSE),
        }
        for m in application.members
    ]


async def list_applications_for_resident(
    *, resident: Principal, before: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Application]:
    """The caller's applications, newest first, keyset-paginated on (created_at, id)."""
    query = Application.filter(resident_id=resident.user_id)
    if before is not None:
        at, item_id = before
        query = query.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=item_id))
    return await query.order_by("-created_at", "-id").limit(limit)
