"""WGS-84 / GCJ-02 / BD-09 conversion: known vectors, round trips, the size of the offset."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.geo import coords
from backend.geo.coords import (
    from_wgs84,
    haversine_m,
    metres_per_degree,
    out_of_china,
    to_wgs84,
)

# Well inside the box the vendors shift, away from its edges (where a shifted point may leave it).
china_lng = st.floats(min_value=74.0, max_value=134.0)
china_lat = st.floats(min_value=18.0, max_value=53.0)
# Where people live densely: the Qaidam basin (~97E 37N) has the smallest offsets, below 100 m.
east_lng = st.floats(min_value=100.0, max_value=122.0)
east_lat = st.floats(min_value=22.0, max_value=42.0)
abroad = st.one_of(
    st.tuples(st.floats(-180.0, 70.0), st.floats(-89.0, 89.0)),
    st.tuples(st.floats(139.0, 180.0), st.floats(-89.0, 89.0)),
    st.tuples(st.floats(-180.0, 180.0), st.floats(56.5, 89.0)),
    st.tuples(st.floats(-180.0, 180.0), st.floats(-89.0, 0.5)),
)
quick = settings(max_examples=300, deadline=None, database=None)

# Tiananmen: the vector most implementations of the public formula are checked against.
TIANANMEN_WGS = (116.397428, 39.90923)
TIANANMEN_GCJ = (116.40367162595768, 39.91063350638631)
TIANANMEN_BD = (116.41004410170474, 39.916972856075134)


def test_known_vectors() -> None:
    assert coords.wgs84_to_gcj02(*TIANANMEN_WGS) == pytest.approx(TIANANMEN_GCJ, abs=1e-9)
    assert coords.wgs84_to_bd09(*TIANANMEN_WGS) == pytest.approx(TIANANMEN_BD, abs=1e-9)
    # The inverses are iterative, so they undo the forward formulas to far below a millimetre.
    assert coords.gcj02_to_wgs84(*TIANANMEN_GCJ) == pytest.approx(TIANANMEN_WGS, abs=1e-9)
    assert coords.bd09_to_wgs84(*TIANANMEN_BD) == pytest.approx(TIANANMEN_WGS, abs=1e-9)
    # A point in 安吉县: the offset here is ~540 m, mostly eastward.
    lng, lat = coords.wgs84_to_gcj02(119.68, 30.64)
    assert 500 < haversine_m(119.68, 30.64, lng, lat) < 580
    assert lng > 119.68


def test_to_and_from_dispatch() -> None:
    assert to_wgs84(*TIANANMEN_GCJ, "gcj02") == pytest.approx(TIANANMEN_WGS, abs=1e-9)
    assert to_wgs84(*TIANANMEN_BD, "bd09") == pytest.approx(TIANANMEN_WGS, abs=1e-9)
    assert to_wgs84(*TIANANMEN_WGS, "wgs84") == TIANANMEN_WGS
    assert from_wgs84(*TIANANMEN_WGS, "gcj02") == pytest.approx(TIANANMEN_GCJ, abs=1e-9)
    assert from_wgs84(*TIANANMEN_WGS, "bd09") == pytest.approx(TIANANMEN_BD, abs=1e-9)
    assert from_wgs84(*TIANANMEN_WGS, "wgs84") == TIANANMEN_WGS
    with pytest.raises(ValueError):
        to_wgs84(1.0, 2.0, "epsg3857")  # type: ignore[arg-type]


def test_out_of_china_box() -> None:
    assert not out_of_china(116.4, 39.9)
    assert not out_of_china(87.6, 43.8)  # Urumqi
    assert out_of_china(2.35, 48.85)  # Paris
    assert out_of_china(-74.0, 40.7)
    assert out_of_china(150.0, 30.0)


@quick
@given(china_lng, china_lat)
def test_gcj02_round_trip_within_5_cm(lng: float, lat: float) -> None:
    back = to_wgs84(*from_wgs84(lng, lat, "gcj02"), "gcj02")
    assert haversine_m(lng, lat, *back) < 0.05


@quick
@given(china_lng, china_lat)
def test_bd09_round_trip_within_5_cm(lng: float, lat: float) -> None:
    back = to_wgs84(*from_wgs84(lng, lat, "bd09"), "bd09")
    assert haversine_m(lng, lat, *back) < 0.05


@quick
@given(china_lng, china_lat)
def test_gcj02_offset_size_in_china(lng: float, lat: float) -> None:
    shifted = from_wgs84(lng, lat, "gcj02")
    assert 10 < haversine_m(lng, lat, *shifted) < 800


@quick
@given(east_lng, east_lat)
def test_gcj02_offset_between_100_and_800_m_in_the_east(lng: float, lat: float) -> None:
    shifted = from_wgs84(lng, lat, "gcj02")
    assert 100 < haversine_m(lng, lat, *shifted) < 800


@quick
@given(abroad)
def test_identity_outside_china(point: tuple[float, float]) -> None:
    for kind in ("gcj02", "bd09"):
        assert from_wgs84(*point, kind) == point  # type: ignore[arg-type]
        assert to_wgs84(*point, kind) == point  # type: ignore[arg-type]


def test_arrays_match_scalars() -> None:
    rng = np.random.default_rng(5)
    points = np.column_stack([rng.uniform(74, 134, 500), rng.uniform(18, 53, 500)])
    points[:5] = [[2.35, 48.85], [-74.0, 40.7], [150.0, 30.0], [10.0, 60.0], [116.4, 39.9]]
    for forward, backward, one_forward, one_backward in (
        (
            coords.wgs84_to_gcj02_array,
            coords.gcj02_to_wgs84_array,
            coords.wgs84_to_gcj02,
            coords.gcj02_to_wgs84,
        ),
        (
            coords.wgs84_to_bd09_array,
            coords.bd09_to_wgs84_array,
            coords.wgs84_to_bd09,
            coords.bd09_to_wgs84,
        ),
    ):
        shifted = forward(points)
        assert np.allclose(shifted, [one_forward(x, y) for x, y in points], rtol=0, atol=1e-10)
        back = backward(shifted)
        assert np.allclose(back, points, rtol=0, atol=1e-8)
        # Each stops once its own step is below 1e-7 deg: they agree to well under a millimetre.
        assert np.allclose(back, [one_backward(x, y) for x, y in shifted], rtol=0, atol=1e-8)
    assert coords.gcj02_to_wgs84_array(np.zeros((0, 2))).shape == (0, 2)


def test_haversine_and_metres_per_degree() -> None:
    # One degree of latitude is ~110.6 km at the equator and ~111.7 km at the poles.
    assert metres_per_degree(0.0)[1] == pytest.approx(110574, abs=2)
    assert metres_per_degree(90.0)[1] == pytest.approx(111694, abs=2)
    assert metres_per_degree(0.0)[0] == pytest.approx(111320, abs=2)
    per_lng, per_lat = metres_per_degree(30.7)
    assert haversine_m(119.5, 30.7, 119.501, 30.7) == pytest.approx(per_lng / 1000, rel=3e-3)
    assert haversine_m(119.5, 30.7, 119.5, 30.701) == pytest.approx(per_lat / 1000, rel=3e-3)
    assert haversine_m(116.4, 39.9, 116.4, 39.9) == 0.0
    # Beijing to Shanghai, ~1,067 km.
    assert haversine_m(116.4074, 39.9042, 121.4737, 31.2304) == pytest.approx(1_067_000, rel=0.01)
