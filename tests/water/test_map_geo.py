"""WGS-84 ↔ GCJ-02: the shift AMap tiles need, checked against published figures and itself."""
from math import cos, radians, sqrt

import pytest

from campaign.water.geo import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02


def metres_between(a, b):
    lat = radians((a[0] + b[0]) / 2)
    return sqrt(((a[0] - b[0]) * 111_320) ** 2 + ((a[1] - b[1]) * 111_320 * cos(lat)) ** 2)


def test_tiananmen_moves_to_its_well_known_gcj02_position():
    lat, lon = wgs84_to_gcj02(39.908722, 116.397499)
    assert lat == pytest.approx(39.910125, abs=2e-6)
    assert lon == pytest.approx(116.403741, abs=2e-6)


def test_the_forward_shift_matches_the_published_coordtransform_example():
    # wandergis/coordTransform_py README: wgs84togcj02(128.543, 37.065) → [128.54820547949757, 37.065651049489816]
    lat, lon = wgs84_to_gcj02(37.065, 128.543)
    assert lat == pytest.approx(37.065651049489816, abs=1e-12)
    assert lon == pytest.approx(128.54820547949757, abs=1e-12)


# Derived from the published algorithm (a = 6378245.0, ee = 0.00669342162296594323), rounded to 1e-9°.
REFERENCE_PAIRS = [
    ((28.228, 112.939), (28.224492744, 112.944450192)),  # Changsha
    ((22.5431, 114.0579), (22.540382814, 114.063013999)),  # Shenzhen
    ((31.2304, 121.4737), (31.228457738, 121.478223059)),  # Shanghai
    ((43.8256, 87.6168), (43.826805393, 87.619649949)),  # Urumqi
    ((18.2528, 109.5119), (18.251094792, 109.515984295)),  # Sanya
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE_PAIRS)
def test_reference_pairs(wgs, gcj):
    lat, lon = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9)
    assert lon == pytest.approx(gcj[1], abs=1e-9)


def test_the_shift_is_several_hundred_metres_in_changsha():
    assert 400 < metres_between((28.228, 112.939), wgs84_to_gcj02(28.228, 112.939)) < 800


def test_the_iterative_inverse_round_trips_to_well_under_a_millimetre_all_over_china():
    worst = 0.0
    for lat in [x / 2 for x in range(2 * 19, 2 * 53)]:
        for lon in range(74, 135, 3):
            back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
            worst = max(worst, abs(back[0] - lat), abs(back[1] - lon))
    assert worst < 1e-6
    assert worst < 1e-9  # ≈ 0.1 mm


def test_the_iterative_inverse_beats_the_one_step_inverse_published_alongside_it():
    # The same README's one-step gcj02towgs84(128.543, 37.065) gives [128.53779452050245, 37.06434895051018],
    # which maps forward to a point metres away from where it started.
    one_step = (37.06434895051018, 128.53779452050245)
    assert metres_between(wgs84_to_gcj02(*one_step), (37.065, 128.543)) > 0.5
    iterated = gcj02_to_wgs84(37.065, 128.543)
    assert metres_between(wgs84_to_gcj02(*iterated), (37.065, 128.543)) < 0.001


@pytest.mark.parametrize("place", [(51.5074, -0.1278), (35.6762, 139.6503), (-33.8688, 151.2093), (0.0, 0.0)])
def test_positions_outside_china_are_left_unchanged(place):
    assert out_of_china(*place)
    assert wgs84_to_gcj02(*place) == place
    assert gcj02_to_wgs84(*place) == place


def test_positions_in_china_are_in_china():
    assert not out_of_china(30.2336, 119.7249)
    assert not out_of_china(39.908722, 116.397499)
