"""Account payloads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    """A password login."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    device_id: str | None = Field(default=None, max_length=128)


class RefreshIn(BaseModel):
    """Trade a refresh token for a new pair."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=10, max_length=2048)


class TokenOut(BaseModel):
    """A token pair."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int


class MeOut(BaseModel):
    """The signed-in user, as they see themselves."""

    id: str
    kind: str
    username: str | None
    display_name: str
    role: str | None
    role_label: str | None
    jurisdiction: str | None
    villages: list[str]
