"""Resident API payloads that are not a domain's own."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CodeIn(BaseModel):
    """A one-time code from the mini-program (wx.login or the getPhoneNumber button)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=128)


class ConsentIn(BaseModel):
    """What wx.requestSubscribeMessage answered for one template."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    template_id: str = Field(min_length=1, max_length=128)
    accepted: bool


class ItemsQuery(BaseModel):
    """Cursor pagination of my items."""

    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=50)


class WindowQuery(BaseModel):
    """Find my window by where I am, or by the township I chose."""

    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    coord_type: Literal["wgs84", "gcj02", "bd09"] = "gcj02"
    township_code: str | None = Field(default=None, pattern=r"^[0-9]{9}$")


class DivisionQuery(BaseModel):
    """The picker's level: no parent means the provinces."""

    model_config = ConfigDict(extra="forbid")

    parent: str | None = Field(default=None, pattern=r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9})$")
