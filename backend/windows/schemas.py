"""Window and department payloads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.windows.catalog import CATEGORIES, DEPARTMENTS

_PHONE_CHARS = set("0123456789-+ ()转")


def _check_phone(value: str) -> str:
    value = value.strip()
    if value and (not set(value) <= _PHONE_CHARS or sum(c.isdigit() for c in value) < 5):
        raise ValueError("电话号码格式不正确")
    return value


class WindowIn(BaseModel):
    """An edit of a window's posted information; `version` is the one the editor read."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: int = Field(ge=1)
    name: str = Field(min_length=2, max_length=128)
    address: str = Field(max_length=255)
    opening_hours: str = Field(max_length=255)
    phone: str = Field(max_length=32)
    complaint_phone: str = Field(max_length=32)
    policies: list[str] = Field(default_factory=list, max_length=50)
    duties: list[str] = Field(default_factory=list, max_length=50)

    _phones = field_validator("phone", "complaint_phone")(_check_phone)

    @field_validator("policies", "duties")
    @classmethod
    def _items(cls, items: list[str]) -> list[str]:
        cleaned = [i.strip() for i in items if i.strip()]
        if any(len(i) > 500 for i in cleaned):
            raise ValueError("每条不超过 500 字")
        return cleaned


class WindowOut(BaseModel):
    """A window as the public and the console see it."""

    township_code: str
    township_name: str
    name: str
    address: str
    opening_hours: str
    phone: str
    complaint_phone: str
    policies: list[str]
    duties: list[str]
    version: int


class CategoryRouteIn(BaseModel):
    """Point a category at a department kind for one county."""

    model_config = ConfigDict(extra="forbid")

    department: str

    @field_validator("department")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in DEPARTMENTS:
            raise ValueError("未知部门，可选：" + "、".join(DEPARTMENTS))
        return value


def category_label(key: str) -> str:
    """The Chinese name of a category."""
    return CATEGORIES[key][0]
