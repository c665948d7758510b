"""Helpers for the water tests: water points, patrols and hazards made directly, and a real photo."""
import io
from datetime import timedelta

import pytest
from PIL import Image

from campaign.database import utcnow
from campaign.extensions import db
from campaign.water.models import Hazard, Patrol, WaterPoint
from tests.factories import a_date

XSS_NAME = "<img src=x onerror=alert(1)>"
TEMPLATE_NAME = "${alert(1)}"
FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'

# 临安 (Lin'an, Zhejiang): the tree's units sit around here once ``positioned_tree`` has run.
HOME = (30.2336, 119.7249)


def make_point(unit, name="村口池塘", latitude=HOME[0], longitude=HOME[1], **fields) -> WaterPoint:
    point = WaterPoint(unit_id=unit.id, name=name, kind=fields.pop("kind", "pond"), latitude=latitude,
                       longitude=longitude, **fields)
    db.session.add(point)
    db.session.flush()
    return point


def make_patrol(point, patrolled_at=None, **fields) -> Patrol:
    patrol = Patrol(water_point_id=point.id, patrolled_at=patrolled_at or utcnow(),
                    patroller_name=fields.pop("patroller_name", "张三"), **fields)
    db.session.add(patrol)
    db.session.flush()
    return patrol


def make_hazard(point, rectify_by=None, **fields) -> Hazard:
    hazard = Hazard(water_point_id=point.id, found_on=fields.pop("found_on", a_date(-10)),
                    description=fields.pop("description", "护栏破损"), rectify_by=rectify_by or a_date(5),
                    owner_name=fields.pop("owner_name", "村委会"), **fields)
    db.session.add(hazard)
    db.session.flush()
    return hazard


def photo_bytes(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def photo_file(name="现场.jpg", colour=(200, 30, 30)):
    return (io.BytesIO(photo_bytes(colour)), name)


@pytest.fixture
def positioned_tree(tree, db):
    """The tree with known positions around Lin'an (about 20 km across)."""
    positions = {
        "county": (30.233, 119.725), "township_a": (30.25, 119.70), "township_b": (30.36, 119.60),
        "village_a1": (30.24, 119.71), "village_a2": (30.20, 119.76), "village_b1": (30.38, 119.58),
    }
    for name, (latitude, longitude) in positions.items():
        unit = getattr(tree, name)
        unit.latitude, unit.longitude = latitude, longitude
    db.session.commit()
    return tree


def ago(**delta):
    return utcnow() - timedelta(**delta)
