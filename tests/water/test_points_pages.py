"""Water point pages: who may see and change what, URL tampering, filters, queries, escaping, Chinese."""
import pytest
from sqlalchemy import select

from campaign.extensions import db as _db
from campaign.water.models import WaterPoint
from tests import factories
from tests.conftest import queries_for_page
from tests.water.conftest import (
    TEMPLATE_NAME,
    XSS_NAME,
    ago,
    make_hazard,
    make_patrol,
    make_point,
)

VIEWERS = ["admin", "county_officer", "township_officer", "village_reporter", "inspector", "viewer",
           "school_reporter", "agency_reporter"]
EDITORS = ["admin", "county_officer", "township_officer", "village_reporter"]


@pytest.fixture
def points(tree, db):
    made = {
        "a1": make_point(tree.village_a1, "夏禹桥村口池塘", is_key=True, danger_level="high"),
        "a2": make_point(tree.village_a2, "前山水库", kind="reservoir", has_permanent_sign=True, sign_count=3),
        "b1": make_point(tree.village_b1, "白沙溪", kind="river", is_key=True),
    }
    db.session.commit()
    return made


def names_on(page):
    return {name for name in ("夏禹桥村口池塘", "前山水库", "白沙溪") if name in page}


@pytest.mark.parametrize("role, expected", [
    ("admin", {"夏禹桥村口池塘", "前山水库", "白沙溪"}),
    ("county_officer", {"夏禹桥村口池塘", "前山水库", "白沙溪"}),
    ("inspector", {"夏禹桥村口池塘", "前山水库", "白沙溪"}),
    ("viewer", {"夏禹桥村口池塘", "前山水库", "白沙溪"}),
    ("township_officer", {"夏禹桥村口池塘", "前山水库"}),
    ("village_reporter", {"夏禹桥村口池塘"}),
    ("school_reporter", set()),
    ("agency_reporter", set()),
])
def test_the_list_shows_only_the_points_within_the_users_area(login, points, role, expected):
    response = login(role).get("/water/")
    assert response.status_code == 200
    assert names_on(response.get_data(as_text=True)) == expected


def test_the_list_needs_a_login(client, points):
    response = client.get("/water/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", VIEWERS)
def test_a_point_outside_the_users_area_is_not_found(login, points, role):
    client = login(role)
    outside = {"township_officer": "b1", "village_reporter": "a2", "school_reporter": "a1",
               "agency_reporter": "a1"}.get(role)
    if outside is None:
        assert client.get(f"/water/{points['b1'].id}").status_code == 200
        return
    point_id = points[outside].id
    for url in (f"/water/{point_id}", f"/water/{point_id}/edit", f"/water/{point_id}/patrols/new",
                f"/water/{point_id}/hazards/new", f"/water/{point_id}/archive"):
        assert client.get(url).status_code in (403, 404), url
    assert client.get(f"/water/{point_id}").status_code == 404


def test_a_village_reporter_cannot_change_another_villages_point_by_posting(as_village_reporter, points, tree, db):
    target = points["a2"]
    response = as_village_reporter.post_form(f"/water/{target.id}/edit", {
        "unit_id": tree.village_a1.id, "name": "改名", "kind": "pond", "latitude": "30.2", "longitude": "119.7",
    })
    assert response.status_code == 404
    response = as_village_reporter.post_form(f"/water/{target.id}/patrols/new", {
        "patrol_date": "2024-07-01", "patrol_time": "09:00", "patroller_name": "王五"})
    assert response.status_code == 404
    db.session.expire_all()
    assert _db.session.get(WaterPoint, target.id).name == "前山水库"


def test_a_village_reporter_cannot_register_a_point_for_another_village(as_village_reporter, tree, db):
    response = as_village_reporter.post_form("/water/new", {
        "unit_id": tree.village_a2.id, "name": "别村池塘", "kind": "pond", "latitude": "30.2", "longitude": "119.7",
    })
    assert response.status_code == 200
    assert "请从列表中选择村（社区）" in response.get_data(as_text=True)
    assert db.session.scalar(select(WaterPoint)) is None


def test_a_township_officer_registers_for_a_village_of_the_township(as_township_officer, tree, db):
    response = as_township_officer.post_form("/water/new", {
        "unit_id": tree.village_a2.id, "name": "前山山塘", "kind": "pond", "danger_level": "high",
        "latitude": "30.2", "longitude": "119.7", "is_key": "y", "sign_count": "2", "has_permanent_sign": "y",
        "life_buoys": "1", "poles": "2", "ropes": "1", "responsible_name": "赵六", "responsible_phone": "13800000000",
    })
    assert response.status_code == 302
    point = db.session.scalar(select(WaterPoint))
    assert (point.unit_id, point.is_key, point.sign_count, point.poles) == (tree.village_a2.id, True, 2, 2)
    assert "water_point.create" in _audit_actions(db)


def test_points_belong_to_villages_not_to_schools(as_township_officer, tree, db):
    response = as_township_officer.post_form("/water/new", {
        "unit_id": tree.school_a.id, "name": "校内水池", "kind": "pond", "latitude": "30.2", "longitude": "119.7",
    })
    assert response.status_code == 200
    assert db.session.scalar(select(WaterPoint)) is None


@pytest.mark.parametrize("role", ["viewer", "school_reporter", "agency_reporter", "inspector"])
def test_roles_without_water_edit_cannot_register_or_edit(login, points, role):
    client = login(role)
    assert client.get("/water/new").status_code == 403
    assert client.post_form("/water/new", {"name": "x"}).status_code == 403


@pytest.mark.parametrize("role", EDITORS)
def test_editors_can_open_the_register_form(login, tree, role):
    response = login(role).get("/water/new")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="latitude"' in page and 'id="longitude"' in page


def test_editing_keeps_the_version_and_refuses_a_stale_form(as_county_officer, points, tree, db):
    point = points["a1"]
    page = as_county_officer.get(f"/water/{point.id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page
    data = {"unit_id": tree.village_a1.id, "name": "夏禹桥大塘", "kind": "pond", "danger_level": "high",
            "latitude": "30.2", "longitude": "119.7", "version": "1"}
    assert as_county_officer.post_form(f"/water/{point.id}/edit", data).status_code == 302
    stale = as_county_officer.post_form(f"/water/{point.id}/edit", {**data, "name": "又改了"})
    assert "其他人" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert _db.session.get(WaterPoint, point.id).name == "夏禹桥大塘"


def test_archiving_asks_first_then_hides_the_point_from_the_list(as_village_reporter, points, db):
    point = points["a1"]
    confirm = as_village_reporter.get(f"/water/{point.id}/archive")
    assert confirm.status_code == 200 and "归档" in confirm.get_data(as_text=True)
    assert as_village_reporter.post_form(f"/water/{point.id}/archive").status_code == 302
    link = f'href="/water/{point.id}"'
    assert link not in as_village_reporter.get("/water/").get_data(as_text=True)
    assert link in as_village_reporter.get("/water/?status=archived").get_data(as_text=True)
    assert as_village_reporter.post_form(f"/water/{point.id}/restore").status_code == 302
    db.session.expire_all()
    assert _db.session.get(WaterPoint, point.id).status == "active"


@pytest.mark.parametrize("query, expected", [
    ("kind=river", {"白沙溪"}),
    ("key=1", {"夏禹桥村口池塘", "白沙溪"}),
    ("sign_missing=1", {"夏禹桥村口池塘", "白沙溪"}),
    ("overdue=1", {"白沙溪"}),
    ("hazards=1", {"前山水库"}),
    ("q=水库", {"前山水库"}),
])
def test_the_list_filters(as_county_officer, points, tree, db, query, expected):
    points["a1"].created_at = ago(days=30)
    make_patrol(points["a1"], ago(days=1))
    points["a1"].last_patrol_at = ago(days=1)
    points["b1"].created_at = ago(days=30)
    make_hazard(points["a2"])
    db.session.commit()
    page = as_county_officer.get(f"/water/?{query}").get_data(as_text=True)
    assert names_on(page) == expected


def test_the_township_filter_and_the_village_filter(as_county_officer, points, tree):
    page = as_county_officer.get(f"/water/?township={tree.township_a.id}").get_data(as_text=True)
    assert names_on(page) == {"夏禹桥村口池塘", "前山水库"}
    page = as_county_officer.get(f"/water/?township={tree.township_a.id}&village={tree.village_a2.id}")
    assert names_on(page.get_data(as_text=True)) == {"前山水库"}


def test_the_list_sorts_by_danger(as_county_officer, points):
    page = as_county_officer.get("/water/?sort=danger").get_data(as_text=True)
    assert page.index("夏禹桥村口池塘") < page.index("前山水库")
    page = as_county_officer.get("/water/?sort=name").get_data(as_text=True)
    assert page.index("白沙溪") > 0


def test_the_list_pages(as_county_officer, tree, db):
    for number in range(55):
        make_point(tree.village_a1, f"塘{number:02d}")
    db.session.commit()
    first = as_county_officer.get("/water/?sort=name").get_data(as_text=True)
    second = as_county_officer.get("/water/?sort=name&page=2").get_data(as_text=True)
    assert "塘00" in first and "塘54" not in first and "塘54" in second
    assert "共 2 页" in first or "第 1 页" in first




@pytest.mark.parametrize("url", ["/water/?overdue=1&hazards=1&sort=hazards", "/water/hazards", "/water/patrols",
                                 "/water/?township={township}"])
def test_list_pages_cost_the_same_queries_for_3_or_60_points(app, as_county_officer, points, tree, db, url):
    url = url.format(township=tree.township_a.id)
    few = queries_for_page(as_county_officer, url)
    for number in range(20):
        village = factories.make_unit("village", tree.township_a, f"新村{number}")
        for index in range(3):
            point = make_point(village, f"新塘{number}-{index}", is_key=True, patrol_interval_days=3 + index)
            make_hazard(point, rectify_by=factories.a_date(-1))
            make_patrol(point)
    db.session.commit()
    assert queries_for_page(as_county_officer, url) == few


def test_the_detail_page_costs_the_same_queries_for_1_or_30_patrols(app, as_county_officer, points, db):
    point = points["a1"]
    make_patrol(point)
    make_hazard(point)
    db.session.commit()
    few = queries_for_page(as_county_officer, f"/water/{point.id}")
    for _ in range(30):
        make_patrol(point)
        make_hazard(point)
    db.session.commit()
    assert queries_for_page(as_county_officer, f"/water/{point.id}") == few


def test_typed_text_is_escaped_on_every_page(as_county_officer, tree, db):
    point = make_point(tree.village_a1, XSS_NAME, responsible_name=TEMPLATE_NAME, notes=XSS_NAME)
    make_patrol(point, patroller_name=XSS_NAME, findings=TEMPLATE_NAME)
    hazard = make_hazard(point, description=XSS_NAME, owner_name=XSS_NAME)
    db.session.commit()
    for url in ("/water/", f"/water/{point.id}", f"/water/{point.id}/edit", "/water/hazards",
                f"/water/hazards/{hazard.id}/status", f"/water/{point.id}/archive"):
        page = as_county_officer.get(url).get_data(as_text=True)
        assert XSS_NAME not in page, url
        assert "&lt;img src=x onerror=alert(1)&gt;" in page, url
    assert TEMPLATE_NAME in as_county_officer.get(f"/water/{point.id}").get_data(as_text=True)


def test_the_pages_are_chinese(as_village_reporter, points):
    point = points["a1"]
    assert "水域" in as_village_reporter.get("/water/").get_data(as_text=True)
    detail = as_village_reporter.get(f"/water/{point.id}").get_data(as_text=True)
    assert "重点水域" in detail and "巡查记录" in detail and "隐患" in detail
    form = as_village_reporter.get("/water/new").get_data(as_text=True)
    assert "纬度" in form and "安全信息员" in form and "危险程度" in form
    assert "隐患排查台账" in as_village_reporter.get("/water/hazards").get_data(as_text=True)


def test_the_pages_switch_to_english(app, as_village_reporter, points):
    as_village_reporter.post_form("/language", {"locale": "en", "next": "/water/"})
    page = as_village_reporter.get("/water/").get_data(as_text=True)
    assert "Water points" in page


def _audit_actions(db):
    from campaign.audit.models import AuditRecord

    return {row.action for row in db.session.scalars(select(AuditRecord))}
