"""Report payloads of the mobile API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.intake.catalog import HARDSHIP_TAGS
from backend.people.identity import normalise_id_number
from backend.people.phones import normalise_phone
from backend.validation import FieldProblem


def check_tags(tags: list[str]) -> list[str]:
    """Known hardship tags, each once, or ValueError naming the unknown ones."""
    unknown = [t for t in tags if t not in HARDSHIP_TAGS]
    if unknown:
        raise ValueError(f"未知困难类型 {', '.join(unknown)}，可选：{', '.join(HARDSHIP_TAGS)}")
    return list(dict.fromkeys(tags))


class SubjectIn(BaseModel):
    """The person or household the report is about."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    id_number: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=255)
    village_code: str | None = Field(default=None, pattern=r"^[0-9]{12}$")
    household_size: int | None = Field(default=None, ge=1, le=30)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value)

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        return normalise_id_number(value) if value else None


class PointIn(BaseModel):
    """A point in the coordinate system the phone used."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    coord_type: Literal["wgs84", "gcj02", "bd09"]
    accuracy_m: float | None = None
    captured_at: datetime | None = None


class LocationIn(PointIn):
    """Where a grid worker's phone was: its GPS accuracy is required."""

    accuracy_m: float = Field(ge=0, le=100_000)


class PickedLocationIn(PointIn):
    """A resident's location: from GPS with its accuracy, or a point picked on a map."""

    # None: a point picked on a map (wx.chooseLocation), exact as far as routing can tell.
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class ReportIn(BaseModel):
    """A grid worker's report of a household in hardship."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    client_id: uuid.UUID
    subject: SubjectIn
    hardship: list[str] = Field(min_length=1, max_length=len(HARDSHIP_TAGS))
    description: str = Field(min_length=1, max_length=2000)
    urgent: bool = False
    location: LocationIn | None = None
    observed_at: datetime

    @field_validator("hardship")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return check_tags(tags)

    @field_validator("observed_at")
    @classmethod
    def _observed(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("时间需带时区（例如 2026-12-01T09:30:00+08:00）")
        if value > datetime.now(UTC) + timedelta(minutes=10):
            raise ValueError("发现时间不能晚于现在")
        return value

    @model_validator(mode="after")
    def _where(self) -> ReportIn:
        if self.location is None and not self.subject.village_code:
            raise ValueError("请提供定位，或选择所在村（社区）")
        if self.location and self.location.captured_at and self.location.captured_at.tzinfo is None:
            raise ValueError("定位时间需带时区")
        return self


class ReportListQuery(BaseModel):
    """Cursor pagination of my reports."""

    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=100)


class HelpSubjectIn(BaseModel):
    """Who needs help: the resident herself, or someone she asks for."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=255)
    village_code: str | None = Field(default=None, pattern=r"^[0-9]{12}$")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value)


class HelpRequestIn(BaseModel):
    """A resident's request for help from the mini-program (一键求助 when quick)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    client_id: uuid.UUID
    device_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    for_self: bool = True
    quick: bool = False
    subject: HelpSubjectIn = Field(default_factory=HelpSubjectIn)
    relation: str | None = Field(default=None, max_length=32)
    hardship: list[str] = Field(default_factory=list, max_length=len(HARDSHIP_TAGS))
    description: str = Field(default="", max_length=2000)
    urgent: bool = False
    contact_phone: str | None = Field(default=None, max_length=20)
    location: PickedLocationIn | None = None

    @field_validator("contact_phone")
    @classmethod
    def _contact(cls, value: str | None) -> str | None:
        return normalise_phone(value)

    @field_validator("hardship")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return check_tags(tags)

    @model_validator(mode="after")
    def _complete(self) -> HelpRequestIn:
        if self.location is None and not self.subject.village_code:
            raise FieldProblem("subject.village_code", "请允许定位，或选择所在村（社区）")
        # Tags and description may be left out: many residents cannot type much, and the
        # window phones them (the lead says so). Who needs help must be known, though.
        if not self.quick and not self.for_self and not self.subject.name:
            raise FieldProblem("subject.name", "为他人求助时，请填写对方的姓名或称呼")
        return self

    def free_text(self) -> list[str]:
        """Everything the resident typed, for WeChat's content check."""
        parts = [
            self.description,
            self.subject.name or "",
            self.subject.address or "",
            self.relation or "",
        ]
        return [p for p in parts if p]
