"""The one authorization helper: who is asking, and may they touch this division's records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from backend.accounts.models import Role, UserKind
from backend.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    user_id: uuid.UUID
    kind: UserKind
    display_name: str
    role: Role | None = None
    jurisdiction: str | None = None
    villages: frozenset[str] = field(default_factory=frozenset)
    # A resident's WeChat openid (WeChat's content check is asked on her behalf).
    openid: str | None = None
    token_id: str = ""
    token_family: str = ""

    @property
    def label(self) -> str:
        """How the audit trail names this caller."""
        role = self.role.value if self.role else self.kind.value
        return f"{role}:{self.display_name}"[:96]


def covers(principal: Principal, division_code: str) -> bool:
    """Whether a division code lies within what this caller may see."""
    if principal.kind == UserKind.STAFF:
        return bool(principal.jurisdiction) and division_code.startswith(
            principal.jurisdiction or "\x00"
        )
    if principal.kind == UserKind.GRID_WORKER:
        # A grid worker's reach is their villages; a township code is covered when the grid
        # holds a village in it (they report into that township's window). Nothing above it:
        # a county, province or empty code is not "in" a grid just because it is a prefix.
        return any(
            division_code.startswith(village)
            or (len(division_code) == 9 and village.startswith(division_code))
            for village in principal.villages
        )
    return False


def ensure_kind(principal: Principal, *kinds: UserKind) -> None:
    """403 unless the caller is one of these kinds of user."""
    if principal.kind not in kinds:
        raise Forbidden("您的账号类型不能进行此操作")


def ensure_role(principal: Principal, roles: Iterable[Role]) -> None:
    """403 unless the caller is staff holding one of these roles (admin always may)."""
    allowed = set(roles)
    if principal.kind != UserKind.STAFF or principal.role is None:
        raise Forbidden("此操作仅限工作人员")
    if principal.role not in allowed and principal.role != Role.ADMIN:
        raise Forbidden("您的岗位没有此操作的权限")


def ensure_jurisdiction(principal: Principal, division_code: str, *, hide: bool = False) -> None:
    """403 (or 404 when hide, so existence is not revealed) outside the caller's jurisdiction."""
    if not covers(principal, division_code):
        if hide:
            raise NotFound("找不到该记录，或不在您的管辖范围内")
        raise Forbidden("该记录不在您的管辖范围内")


def ensure_owner(principal: Principal, owner_id: uuid.UUID | None) -> None:
    """404 unless the caller owns the record (residents and grid workers see only their own)."""
    if owner_id is None or owner_id != principal.user_id:
        raise NotFound("找不到该记录")
