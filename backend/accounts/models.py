"""Users of three kinds, their grids, and staff roles."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class UserKind(StrEnum):
    """Who a user is."""

    RESIDENT = "resident"
    GRID_WORKER = "grid_worker"
    STAFF = "staff"


class Role(StrEnum):
    """Staff roles."""

    WINDOW_CLERK = "window_clerk"
    INVESTIGATOR = "investigator"
    TOWNSHIP_HEAD = "township_head"
    COUNTY_APPROVER = "county_approver"
    DEPARTMENT_OFFICER = "department_officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.WINDOW_CLERK: "窗口受理员",
    Role.INVESTIGATOR: "调查员",
    Role.TOWNSHIP_HEAD: "乡镇（街道）负责人",
    Role.COUNTY_APPROVER: "县级审批人",
    Role.DEPARTMENT_OFFICER: "部门经办人",
    Role.SUPERVISOR: "监督人员",
    Role.ADMIN: "系统管理员",
}


class User(Model):
    """A person who signs in: a resident (WeChat openid), a grid worker or a staff member."""

    id = fields.UUIDField(primary_key=True)
    kind = fields.CharEnumField(UserKind, max_length=16)
    username = fields.CharField(max_length=64, unique=True, null=True)
    password_hash = fields.CharField(max_length=255, null=True)
    openid = fields.CharField(max_length=64, unique=True, null=True)
    display_name = fields.CharField(max_length=64, default="")
    role: Role | None = fields.CharEnumField(Role, max_length=32, null=True)  # type: ignore[assignment]
    # A division-code prefix: 2 (province), 4 (city), 6 (county) or 9 (township) digits.
    jurisdiction = fields.CharField(max_length=12, null=True, db_index=True)
    phone_enc = fields.TextField(null=True)
    phone_index = fields.CharField(max_length=64, null=True, db_index=True)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    grid: fields.ReverseRelation[GridAssignment]

    class Meta:
        table = "accounts_user"


class GridAssignment(Model):
    """One village or community in a grid worker's grid."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="grid", on_delete=fields.CASCADE
    )
    village_code = fields.CharField(max_length=12, db_index=True)

    class Meta:
        table = "accounts_grid_assignment"
        unique_together = (("user", "village_code"),)
