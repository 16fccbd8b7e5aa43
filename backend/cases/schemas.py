"""Application payloads: what a resident sends from the mini-program."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.people.identity import normalise_id_number
from backend.people.phones import normalise_phone
from backend.validation import FieldProblem

# What may be applied for, by a resident or by the window for a household (社会力量参与 is how
# charities and volunteers take part, not a category of assistance anyone applies for).
APPLICATION_CATEGORIES = (
    "dibao",
    "tekun",
    "linshi",
    "yiliao",
    "jiaoyu",
    "zhufang",
    "jiuye",
    "shouzai",
)

RELATIONS: dict[str, str] = {
    "self": "本人",
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "grandparent": "祖父母/外祖父母",
    "grandchild": "孙子女/外孙子女",
    "sibling": "兄弟姐妹",
    "other": "其他",
}
MAX_MEMBERS = 20


def _yuan(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if value < 0:
        raise ValueError("金额不能为负数")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("金额最多保留两位小数")
    if value > Decimal("100000000"):
        raise ValueError("金额太大，请核对")
    return value


class PersonIn(BaseModel):
    """The applicant: name, ID number (checked by its check digit) and phone."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=15, max_length=32)
    phone: str | None = Field(default=None, max_length=20)

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str) -> str:
        return normalise_id_number(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value)


class MemberIn(BaseModel):
    """A household member (共同生活的家庭成员)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=15, max_length=32)
    relation: Literal["spouse", "child", "parent", "grandparent", "grandchild", "sibling", "other"]

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str) -> str:
        return normalise_id_number(value)


class AssetsIn(BaseModel):
    """Assets as declared (the economic check verifies them against data)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    house_count: int = Field(default=0, ge=0, le=50)
    car_count: int = Field(default=0, ge=0, le=50)
    savings_yuan: Decimal | None = None
    note: str = Field(default="", max_length=500)

    @field_validator("savings_yuan")
    @classmethod
    def _savings(cls, value: Decimal | None) -> Decimal | None:
        return _yuan(value)


class ConsentIn(BaseModel):
    """授权: the applicant agrees to the household economic check."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    economic_check: bool = False
    signed_name: str = Field(default="", max_length=64)


class ApplicationIn(BaseModel):
    """An application for assistance from the mini-program."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    client_id: uuid.UUID
    device_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    category: Literal["dibao", "tekun", "linshi", "yiliao", "jiaoyu", "zhufang", "jiuye", "shouzai"]
    on_behalf: bool = False
    applicant: PersonIn
    members: list[MemberIn] = Field(default_factory=list, max_length=MAX_MEMBERS)
    income_monthly_yuan: Decimal | None = None
    assets: AssetsIn = Field(default_factory=AssetsIn)
    hukou_village_code: str = Field(pattern=r"^[0-9]{12}$")
    reason: str = Field(default="", max_length=1000)
    consent: ConsentIn = Field(default_factory=ConsentIn)

    @field_validator("income_monthly_yuan")
    @classmethod
    def _income(cls, value: Decimal | None) -> Decimal | None:
        return _yuan(value)

    @model_validator(mode="after")
    def _distinct_people(self) -> ApplicationIn:
        seen = {self.applicant.id_number}
        for n, member in enumerate(self.members):
            if member.id_number in seen:
                raise FieldProblem(
                    f"members.{n}.id_number",
                    f"家庭成员 {member.name} 的身份证号码与他人重复，请核对",
                )
            seen.add(member.id_number)
        return self

    def free_text(self) -> list[str]:
        """Everything typed as prose, for WeChat's content check."""
        return [t for t in (self.reason, self.assets.note) if t]


def to_fen(value: Decimal | None) -> int | None:
    """Yuan to integer fen."""
    return None if value is None else int((value * 100).to_integral_value())
