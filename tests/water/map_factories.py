"""Water points for the map tests, and reading back the data a map carries."""
import json
import re

from campaign.extensions import db
from campaign.water.models import WaterPoint

PAYLOAD = re.compile(r"CampaignWaterMap\.prepare\(map_water, (\{.*\})\);$", re.M)


def make_point(unit, name="村口山塘", latitude=30.2336, longitude=119.7249, **fields) -> WaterPoint:
    fields.setdefault("kind", "pond")
    fields.setdefault("danger_level", "medium")
    fields.setdefault("has_permanent_sign", True)
    point = WaterPoint(unit_id=unit.id, name=name, latitude=latitude, longitude=longitude, **fields)
    db.session.add(point)
    db.session.flush()
    return point


def make_points(unit, count, prefix="水域", **fields) -> list[WaterPoint]:
    """``count`` points spread over about 20 km × 20 km, added in one flush."""
    points = [
        WaterPoint(unit_id=unit.id, name=f"{prefix}{number}", kind="pond",
                   latitude=30.15 + (number % 97) * 0.002, longitude=119.65 + (number // 97) * 0.002,
                   danger_level=("high", "medium", "low")[number % 3], has_permanent_sign=number % 4 != 0,
                   **fields)
        for number in range(count)
    ]
    db.session.add_all(points)
    db.session.flush()
    return points


def map_payload(script: str) -> dict:
    """The JSON data inside a map's script (what /water/map.js returns)."""
    match = PAYLOAD.search(script)
    assert match, "no point data in the map script"
    return json.loads(match.group(1))


def rows_by_name(script: str) -> dict:
    return {row[3]: row for row in map_payload(script)["rows"]}
