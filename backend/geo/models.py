"""Division codes (统计用区划代码), versioned: a code that disappears is marked abolished."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Level(StrEnum):
    """The level of a division code, by its length."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


CODE_LENGTHS = {
    2: Level.PROVINCE,
    4: Level.CITY,
    6: Level.COUNTY,
    9: Level.TOWNSHIP,
    12: Level.VILLAGE,
}
PARENT_LENGTH = {4: 2, 6: 4, 9: 6, 12: 9}


class Division(Model):
    """A province, city, county, township or village/community, by its code."""

    code = fields.CharField(max_length=12, primary_key=True)
    name = fields.CharField(max_length=64)
    level = fields.CharEnumField(Level, max_length=16)
    parent_code = fields.CharField(max_length=12, null=True, db_index=True)
    county_code = fields.CharField(max_length=6, null=True, db_index=True)
    # 街道/镇/乡/类似乡级单位 for townships, 居委会/村委会/类似居委会/类似村委会 for villages,
    # from the code's digits.
    kind = fields.CharField(max_length=8, null=True)
    # The edition of the NBS list (e.g. "2023") that last contained this code.
    version = fields.CharField(max_length=16)
    abolished = fields.BooleanField(default=False)
    # Villages carry a representative point from their source file (WGS-84).
    lng = fields.FloatField(null=True)
    lat = fields.FloatField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "geo_division"


class TownshipBoundary(Model):
    """The polygon of a township in WGS-84, as imported (the routing index is built from these)."""

    township_code = fields.CharField(max_length=9, primary_key=True)
    county_code = fields.CharField(max_length=6, db_index=True)
    # Well-known binary of a Polygon or MultiPolygon in WGS-84 (lng, lat).
    geometry_wkb = fields.BinaryField()
    min_lng = fields.FloatField()
    min_lat = fields.FloatField()
    max_lng = fields.FloatField()
    max_lat = fields.FloatField()
    # What the source file was in ("wgs84" or "gcj02"), and where it came from.
    source_crs = fields.CharField(max_length=8)
    source_name = fields.CharField(max_length=255, default="")
    # Set to the import's generation, so processes know when to reload their index.
    generation = fields.IntField(default=1)
    imported_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "geo_township_boundary"
