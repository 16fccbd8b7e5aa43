"""Township windows (一门受理窗口), departments and the category -> department matrix."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Window(Model):
    """A township's one-door window and what it posts (一明显三上墙)."""

    id = fields.IntField(primary_key=True)
    township_code = fields.CharField(max_length=9, unique=True)
    name = fields.CharField(max_length=128)
    address = fields.CharField(max_length=255, default="")
    opening_hours = fields.CharField(max_length=255, default="")
    phone = fields.CharField(max_length=32, default="")
    complaint_phone = fields.CharField(max_length=32, default="")
    policies: fields.JSONField[list[str]] = fields.JSONField(default=list)
    duties: fields.JSONField[list[str]] = fields.JSONField(default=list)
    # Where the window is (WGS-84): the nearest-window fallback of routing, and the map.
    lng = fields.FloatField(null=True)
    lat = fields.FloatField(null=True)
    # Optimistic concurrency: an edit names the version it read.
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "windows_window"


class Department(Model):
    """A county department that receives referrals (民政, 医疗保障, 教育 ...)."""

    id = fields.IntField(primary_key=True)
    county_code = fields.CharField(max_length=6, db_index=True)
    kind = fields.CharField(max_length=16)
    name = fields.CharField(max_length=128)
    phone = fields.CharField(max_length=32, default="")

    class Meta:
        table = "windows_department"
        unique_together = (("county_code", "kind"),)


class CategoryRoute(Model):
    """A county's override of the national category -> department default."""

    id = fields.IntField(primary_key=True)
    county_code = fields.CharField(max_length=6, db_index=True)
    category = fields.CharField(max_length=16)
    department_kind = fields.CharField(max_length=16)

    class Meta:
        table = "windows_category_route"
        unique_together = (("county_code", "category"),)
