"""Coordinates: refused when not numbers or out of range, swapped pairs spotted, far points flagged."""
import math

import pytest
from sqlalchemy import select

from campaign.water import services
from campaign.water.models import WaterPoint
from tests.water.conftest import HOME


@pytest.mark.parametrize("latitude, longitude, code", [
    ("nan", "119.7", "latitude_not_number"),
    ("30.2", "NaN", "longitude_not_number"),
    ("inf", "119.7", "latitude_not_number"),
    ("91", "119.7", "latitude_out_of_range"),
    ("-90.5", "119.7", "latitude_out_of_range"),
    ("30.2", "180.01", "longitude_out_of_range"),
    ("北纬30度", "119.7", "latitude_not_number"),
    ("30.2", "abc", "longitude_not_number"),
    ("", "119.7", "latitude_required"),
    ("30.2", None, "longitude_required"),
])
def test_bad_coordinates_are_refused_with_their_reason(latitude, longitude, code):
    with pytest.raises(services.WaterError) as caught:
        services.check_position(latitude, longitude)
    assert caught.value.code == code


def test_swapped_latitude_and_longitude_are_spotted_in_china():
    with pytest.raises(services.WaterError) as caught:
        services.check_position("119.7249", "30.2336")  # the latitude is out of range only because of the swap
    assert caught.value.code == "swapped"
    assert caught.value.details == {"latitude": "119.7249", "longitude": "30.2336"}


def test_a_swapped_pair_within_range_is_spotted_too():
    with pytest.raises(services.WaterError) as caught:
        services.check_position("80", "30")  # (80, 30) is in the Arctic; (30, 80) is in Tibet
    assert caught.value.code == "swapped"


def test_a_valid_pair_outside_china_is_accepted_when_swapping_does_not_help():
    assert services.check_position("48.85", "2.35") == (48.85, 2.35)
    assert services.check_position(" 30.2336 ", "119.7249") == HOME


def test_the_distance_to_a_bounding_box_is_zero_inside_and_grows_outside():
    box = services.BoundingBox(30.0, 119.0, 30.5, 120.0)
    assert box.distance_km(30.2, 119.5) == 0
    assert box.distance_km(30.0, 120.0 + 0.5) == pytest.approx(48.2, abs=0.5)
    assert math.isclose(services.haversine_km(30, 120, 31, 120), 111.2, abs_tol=0.2)


def test_a_point_far_outside_the_county_is_saved_and_flagged(positioned_tree, users, db):
    far = services.create_water_point(actor=users.village_reporter, unit=positioned_tree.village_a1, name="远处水塘",
                                      kind="pond", latitude="31.2", longitude="121.5")  # Shanghai, ~170 km away
    near = services.create_water_point(actor=users.village_reporter, unit=positioned_tree.village_a1,
                                       name="近处水塘", kind="pond", latitude="30.30", longitude="119.90")
    db.session.commit()
    assert far.needs_position_check is True
    assert near.needs_position_check is False  # outside the box, but by less than 50 km


def test_the_far_check_is_skipped_when_no_unit_position_is_known(tree, users, db):
    point = services.create_water_point(actor=users.village_reporter, unit=tree.village_a1, name="远处水塘",
                                        kind="pond", latitude="45.0", longitude="126.0")
    assert point.needs_position_check is False


def test_moving_a_flagged_point_back_clears_the_flag(positioned_tree, users, db):
    point = services.create_water_point(actor=users.county_officer, unit=positioned_tree.village_a1, name="水塘",
                                        kind="pond", latitude="31.2", longitude="121.5")
    services.update_water_point(point, actor=users.county_officer, unit=positioned_tree.village_a1, name="水塘",
                                kind="pond", latitude="30.24", longitude="119.71")
    assert point.needs_position_check is False


@pytest.mark.parametrize("latitude, longitude, message", [
    ("nan", "119.7", "不是数字"),
    ("91", "119.7", "超出范围"),
    ("三十", "119.7", "不是数字"),
    ("119.7249", "30.2336", "纬度 30.2336，经度 119.7249"),
])
def test_the_form_explains_bad_coordinates_and_keeps_what_was_typed(as_village_reporter, tree, db, latitude,
                                                                  longitude, message):
    response = as_village_reporter.post_form("/water/new", {
        "unit_id": tree.village_a1.id, "name": "村口池塘", "kind": "pond", "danger_level": "high",
        "latitude": latitude, "longitude": longitude, "responsible_name": "李四",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'value="李四"' in page and f'value="{latitude}"' in page
    assert db.session.scalar(select(WaterPoint)) is None


def test_the_form_warns_about_a_far_position_after_saving(as_village_reporter, positioned_tree, db):
    response = as_village_reporter.post_form("/water/new", {
        "unit_id": positioned_tree.village_a1.id, "name": "村口池塘", "kind": "pond", "danger_level": "high",
        "latitude": "39.9", "longitude": "116.4",
    }, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "远离本县" in page
    point = db.session.scalar(select(WaterPoint))
    assert point.needs_position_check
