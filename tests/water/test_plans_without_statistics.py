"""The heaviest water queries right after a bulk load, before any ANALYZE (PostgreSQL only): the plan must
not join the points to an aggregate of hazards (a nested loop over the whole aggregate without statistics)."""
import json

import pytest
from sqlalchemy import insert, text

from campaign.database import utcnow
from campaign.extensions import db as _db
from campaign.timeutil import local_today
from campaign.water import services
from campaign.water.models import Hazard, WaterPoint
from tests import factories
from tests.factories import a_date

POINTS = 2000


@pytest.fixture
def loaded(tree, users, db):
    """Points and hazards inserted in bulk, as an import or a launch does; no ANALYZE afterwards."""
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are a PostgreSQL matter")
    villages = [tree.village_a1, tree.village_a2, tree.village_b1]
    now = utcnow()
    _db.session.execute(insert(WaterPoint), [
        {"unit_id": villages[i % 3].id, "name": f"池塘{i}", "kind": "pond", "latitude": 30.2, "longitude": 119.7,
         "created_at": now, "updated_at": now} for i in range(POINTS)
    ])
    ids = _db.session.scalars(text("SELECT id FROM water_point")).all()
    _db.session.execute(insert(Hazard), [
        {"water_point_id": point_id, "found_on": a_date(-10), "description": "护栏破损", "rectify_by": a_date(-1),
         "owner_name": "村委会", "status": "open", "created_at": now, "updated_at": now} for point_id in ids[::2]
    ])
    _db.session.commit()
    return users


def plan_of(statement):
    compiled = statement.compile(_db.engine, compile_kwargs={"literal_binds": True})
    explained = _db.session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}")).scalar()
    return (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]


def nested_loops_over_aggregates(node, inside_loop=False) -> list:
    """Aggregates (outside SubPlans) that sit under a Nested Loop: the shape that explodes without statistics."""
    found = []
    if node.get("Parent Relationship") == "SubPlan":
        return found
    if inside_loop and node["Node Type"] == "Aggregate":
        found.append(node)
    loop = inside_loop or node["Node Type"] == "Nested Loop"
    for child in node.get("Plans", []):
        found.extend(nested_loops_over_aggregates(child, loop))
    return found


@pytest.mark.parametrize("sort, hazards_only", [(sort, False) for sort in services.SORTS] + [("hazards", True)])
def test_the_water_list_query_joins_no_aggregate_before_analyze(loaded, sort, hazards_only):
    county = loaded.county_officer
    filters = services.PointFilters(sort=sort, open_hazards=hazards_only)
    query = services._point_query(county, filters, utcnow(), local_today())

    assert nested_loops_over_aggregates(plan_of(query)) == []


def test_the_list_shows_the_hazard_counts_of_the_bulk_load(loaded):
    page = services.list_water_points(loaded.county_officer, services.PointFilters(sort="hazards"), per_page=5)

    assert page.total == POINTS
    assert [(row.open_hazards, row.overdue_hazards) for row in page.items] == [(1, 1)] * 5


def test_the_plan_check_finds_an_aggregate_under_a_nested_loop():
    """The shape measured before statistics (docs/stack-traps.md): points joined to grouped hazards by a nested loop."""
    old_shape = {"Node Type": "Nested Loop", "Plans": [
        {"Node Type": "Seq Scan", "Parent Relationship": "Outer"},
        {"Node Type": "Aggregate", "Parent Relationship": "Inner", "Plans": [{"Node Type": "Seq Scan"}]},
    ]}
    correlated = {"Node Type": "Nested Loop", "Plans": [
        {"Node Type": "Seq Scan", "Parent Relationship": "Outer"},
        {"Node Type": "Aggregate", "Parent Relationship": "SubPlan"},
    ]}

    assert nested_loops_over_aggregates(old_shape) != []
    assert nested_loops_over_aggregates(correlated) == []
