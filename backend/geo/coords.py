"""Coordinates at the edges: WGS-84 (GPS), GCJ-02 (Tencent, AMap, WeChat), BD-09 (Baidu)."""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

CoordType: TypeAlias = Literal["wgs84", "gcj02", "bd09"]
COORD_TYPES: tuple[CoordType, ...] = ("wgs84", "gcj02", "bd09")

# The public GCJ-02 formula works on the Krasovsky 1940 ellipsoid.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
# The box inside which map vendors apply the offset; outside it they serve WGS-84.
_CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)
# Fixed-point inversion: the offset changes ~1e-4 deg per deg, so each step gains ~4 digits.
_INVERSE_TOLERANCE_DEG = 1e-7
_INVERSE_MAX_STEPS = 30
EARTH_RADIUS_M = 6371008.8  # the mean radius (IUGG)

Array: TypeAlias = NDArray[np.float64]


def out_of_china(lng: float, lat: float) -> bool:
    """Whether a point lies outside the box where GCJ-02 differs from WGS-84."""
    min_lng, min_lat, max_lng, max_lat = _CHINA_BOX
    return not (min_lng <= lng <= max_lng and min_lat <= lat <= max_lat)


def _in_china(lng: Array, lat: Array) -> NDArray[np.bool_]:
    min_lng, min_lat, max_lng, max_lat = _CHINA_BOX
    return (lng >= min_lng) & (lng <= max_lng) & (lat >= min_lat) & (lat <= max_lat)


def _gcj_offset(lng: Any, lat: Any, m: ModuleType) -> tuple[Any, Any]:
    """The GCJ-02 shift (degrees) at WGS-84 points; `m` is math for floats, numpy for arrays."""
    x, y = lng - 105.0, lat - 35.0
    pi = m.pi
    shared = (20.0 * m.sin(6.0 * x * pi) + 20.0 * m.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * m.sqrt(m.fabs(x))
    dlat = dlat + shared
    dlat = dlat + (20.0 * m.sin(y * pi) + 40.0 * m.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * m.sin(y / 12.0 * pi) + 320.0 * m.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * m.sqrt(m.fabs(x))
    dlng = dlng + shared
    dlng = dlng + (20.0 * m.sin(x * pi) + 40.0 * m.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlng = dlng + (150.0 * m.sin(x / 12.0 * pi) + 300.0 * m.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * m.sin(radlat) ** 2
    sqrt_magic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * m.cos(radlat) * pi)
    return dlng, dlat


def _gcj_to_bd(lng: Any, lat: Any, m: ModuleType) -> tuple[Any, Any]:
    z = m.sqrt(lng * lng + lat * lat) + 0.00002 * m.sin(lat * _X_PI)
    theta = m.atan2(lat, lng) + 0.000003 * m.cos(lng * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def wgs84_to_gcj02_array(coords: Array) -> Array:
    """WGS-84 -> GCJ-02 for an (n, 2) array of (lng, lat); suits shapely.transform."""
    lng, lat = coords[:, 0], coords[:, 1]
    dlng, dlat = _gcj_offset(lng, lat, np)
    inside = _in_china(lng, lat)
    return np.column_stack((np.where(inside, lng + dlng, lng), np.where(inside, lat + dlat, lat)))


def gcj02_to_wgs84_array(coords: Array) -> Array:
    """GCJ-02 -> WGS-84 for an (n, 2) array, by fixed-point iteration (error well under 1 cm)."""
    target = np.asarray(coords, dtype=np.float64)
    inside = _in_china(target[:, 0], target[:, 1])
    guess = target.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        # Solve guess + offset(guess) = target: subtract what the forward map overshoots.
        error = wgs84_to_gcj02_array(guess) - target
        guess = guess - error
        if not error.size or float(np.max(np.abs(error))) < _INVERSE_TOLERANCE_DEG:
            break
    guess[~inside] = target[~inside]
    return guess


def _gcj02_to_bd09_array(coords: Array) -> Array:
    return np.column_stack(_gcj_to_bd(coords[:, 0], coords[:, 1], np))


def wgs84_to_bd09_array(coords: Array) -> Array:
    """WGS-84 -> BD-09 for an (n, 2) array; identity outside China (Baidu serves WGS-84 there)."""
    target = np.asarray(coords, dtype=np.float64)
    inside = _in_china(target[:, 0], target[:, 1])
    out = _gcj02_to_bd09_array(wgs84_to_gcj02_array(target))
    out[~inside] = target[~inside]
    return out


def bd09_to_wgs84_array(coords: Array) -> Array:
    """BD-09 -> WGS-84 for an (n, 2) array, by iteration (the usual closed form is off ~1 m)."""
    target = np.asarray(coords, dtype=np.float64)
    inside = _in_china(target[:, 0], target[:, 1])
    # Start near the answer: BD-09 sits ~0.012 deg east and ~0.0075 deg north of WGS-84.
    guess = target - np.array([0.012, 0.0075], dtype=np.float64)
    for _ in range(_INVERSE_MAX_STEPS):
        error = wgs84_to_bd09_array(guess) - target
        guess = guess - error
        if not error.size or float(np.max(np.abs(error))) < _INVERSE_TOLERANCE_DEG:
            break
    guess[~inside] = target[~inside]
    return guess


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """One WGS-84 point in GCJ-02."""
    if out_of_china(lng, lat):
        return float(lng), float(lat)
    dlng, dlat = _gcj_offset(lng, lat, math)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """One GCJ-02 point in WGS-84, by fixed-point iteration (error well under 1 cm)."""
    if out_of_china(lng, lat):
        return float(lng), float(lat)
    x, y = lng, lat
    for _ in range(_INVERSE_MAX_STEPS):
        dlng, dlat = _gcj_offset(x, y, math)
        ex, ey = x + dlng - lng, y + dlat - lat
        x, y = x - ex, y - ey
        if abs(ex) < _INVERSE_TOLERANCE_DEG and abs(ey) < _INVERSE_TOLERANCE_DEG:
            break
    return x, y


def wgs84_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    """One WGS-84 point in BD-09; identity outside China (Baidu serves WGS-84 there)."""
    if out_of_china(lng, lat):
        return float(lng), float(lat)
    gx, gy = wgs84_to_gcj02(lng, lat)
    bx, by = _gcj_to_bd(gx, gy, math)
    return float(bx), float(by)


def bd09_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """One BD-09 point in WGS-84, by iteration (the usual closed form is off by ~1 m)."""
    if out_of_china(lng, lat):
        return float(lng), float(lat)
    x, y = lng - 0.012, lat - 0.0075
    for _ in range(_INVERSE_MAX_STEPS):
        bx, by = wgs84_to_bd09(x, y)
        ex, ey = bx - lng, by - lat
        x, y = x - ex, y - ey
        if abs(ex) < _INVERSE_TOLERANCE_DEG and abs(ey) < _INVERSE_TOLERANCE_DEG:
            break
    return x, y


def to_wgs84(lng: float, lat: float, coord_type: CoordType) -> tuple[float, float]:
    """A point given in coord_type, in WGS-84 (what we store)."""
    if coord_type == "wgs84":
        return float(lng), float(lat)
    if coord_type == "gcj02":
        return gcj02_to_wgs84(lng, lat)
    if coord_type == "bd09":
        return bd09_to_wgs84(lng, lat)
    raise ValueError(f"unknown coordinate type {coord_type!r}")


def from_wgs84(lng: float, lat: float, coord_type: CoordType) -> tuple[float, float]:
    """A WGS-84 point in coord_type (for maps that draw in GCJ-02 or BD-09)."""
    if coord_type == "wgs84":
        return float(lng), float(lat)
    if coord_type == "gcj02":
        return wgs84_to_gcj02(lng, lat)
    if coord_type == "bd09":
        return wgs84_to_bd09(lng, lat)
    raise ValueError(f"unknown coordinate type {coord_type!r}")


def haversine_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lng2 - lng1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at a latitude (WGS-84 ellipsoid)."""
    phi = math.radians(lat)
    per_lng = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    per_lat = 111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    return per_lng, per_lat
