"""The water map pages: /water/map (the page) and /water/map.js (the map's script and data)."""
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from campaign.database import utcnow
from campaign.water.geo import wgs84_to_gcj02
from campaign.water.models import Hazard, WaterPoint
from tests.conftest import ROLE_HOMES, queries_for_page
from campaign.water import maps
from tests.water.conftest import make_hazard
from tests.water.map_factories import make_point, make_points, map_payload, rows_by_name

ENGLISH = {"Accept-Language": "en"}
URL = re.compile(r"""https?://[^\s"'<>\\)]+""")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)


def page_and_script(client, query=""):
    page = client.get(f"/water/map{query}", headers=ENGLISH)
    script = client.get(f"/water/map.js{query}", headers=ENGLISH)
    assert page.status_code == 200 and script.status_code == 200
    return page, script.get_data(as_text=True)


def policy(response) -> dict:
    parts = [part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";")]
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts if part[0]}


def hosts(text: str) -> set[str]:
    return {urlsplit(url).netloc for url in URL.findall(text)}


# --- Who may see which map -------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ROLE_HOMES))
def test_every_role_may_open_the_map_of_its_own_unit(login, role):
    client = login(role)
    assert client.get("/water/map").status_code == 200
    script = client.get("/water/map.js")
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"


def test_the_map_needs_a_login(client, tree):
    for path in ("/water/map", "/water/map.js", f"/water/map?unit={tree.county.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "unit", "status"),
    [
        ("admin", "village_b1", 200),
        ("county_officer", "township_b", 200),
        ("viewer", "village_a2", 200),
        ("inspector", "township_a", 200),
        ("township_officer", "village_a2", 200),
        ("township_officer", "township_a", 200),
        ("township_officer", "township_b", 404),
        ("township_officer", "village_b1", 404),
        ("township_officer", "county", 404),
        ("village_reporter", "village_a1", 200),
        ("village_reporter", "village_a2", 404),
        ("village_reporter", "township_a", 404),
        ("school_reporter", "village_a1", 404),
        ("agency_reporter", "township_a", 404),
    ],
)
def test_a_unit_outside_the_users_area_is_not_found(login, tree, role, unit, status):
    client = login(role)
    unit_id = getattr(tree, unit).id
    assert client.get(f"/water/map?unit={unit_id}").status_code == status
    assert client.get(f"/water/map.js?unit={unit_id}").status_code == status


@pytest.mark.parametrize("bad", ["abc", "-1", "0", "1.5", "99999999", "99999999999999999999", "%00"])
def test_a_bad_unit_id_is_not_found(as_county_officer, bad):
    assert as_county_officer.get(f"/water/map?unit={bad}").status_code == 404
    assert as_county_officer.get(f"/water/map.js?unit={bad}").status_code == 404


@pytest.fixture
def three_villages(tree, db):
    make_point(tree.village_a1, "夏禹桥山塘")
    make_point(tree.village_a2, "前山水库", kind="reservoir")
    make_point(tree.village_b1, "白沙溪", kind="river")
    db.session.commit()


def test_a_village_reporter_sees_only_their_own_villages_points(as_village_reporter, tree, three_villages):
    _page, script = page_and_script(as_village_reporter)
    assert set(rows_by_name(script)) == {"夏禹桥山塘"}
    _page, script = page_and_script(as_village_reporter, f"?unit={tree.village_a1.id}")
    assert set(rows_by_name(script)) == {"夏禹桥山塘"}


def test_a_township_officer_sees_the_points_of_their_villages(as_township_officer, three_villages):
    _page, script = page_and_script(as_township_officer)
    assert set(rows_by_name(script)) == {"夏禹桥山塘", "前山水库"}


def test_the_county_map_shows_every_point_and_a_township_map_only_its_own(as_county_officer, tree, three_villages):
    _page, script = page_and_script(as_county_officer)
    assert set(rows_by_name(script)) == {"夏禹桥山塘", "前山水库", "白沙溪"}
    _page, script = page_and_script(as_county_officer, f"?unit={tree.township_b.id}")
    assert set(rows_by_name(script)) == {"白沙溪"}
    _page, script = page_and_script(as_county_officer, f"?unit={tree.village_a2.id}")
    assert set(rows_by_name(script)) == {"前山水库"}


def test_archived_points_are_not_on_the_map(as_county_officer, tree, db):
    make_point(tree.village_a1, "在用山塘")
    make_point(tree.village_a1, "已填埋山塘", status="archived")
    db.session.commit()
    _page, script = page_and_script(as_county_officer)
    assert set(rows_by_name(script)) == {"在用山塘"}


def test_the_county_page_offers_its_townships_and_a_way_back_up(as_county_officer, tree):
    page = as_county_officer.get(f"/water/map?unit={tree.township_a.id}", headers=ENGLISH).get_data(as_text=True)
    assert f'href="/water/map?unit={tree.county.id}"' in page  # breadcrumb up to the county
    assert f'<option value="{tree.village_a1.id}">夏禹桥村委会</option>' in page
    assert f'<option value="{tree.community_a.id}">玲珑山社区</option>' in page
    assert "玲珑中学" not in page  # schools have no water points of their own


def test_a_village_reporter_is_offered_no_unit_above_their_village(as_village_reporter, tree):
    page = as_village_reporter.get("/water/map", headers=ENGLISH).get_data(as_text=True)
    assert f"unit={tree.township_a.id}" not in page
    assert f"unit={tree.county.id}" not in page


# --- What each point carries ----------------------------------------------------------------------


def test_points_carry_their_danger_their_problems_and_a_link_to_their_page(as_county_officer, tree, db, app,
                                                                            monkeypatch):
    now = utcnow()
    village = tree.village_a1
    make_point(village, "无警示牌", has_permanent_sign=False, danger_level="high")
    make_point(village, "巡查超期", is_key=True, last_patrol_at=now - timedelta(days=8))
    make_point(village, "按时巡查", is_key=True, last_patrol_at=now - timedelta(days=6))
    make_point(village, "每月巡查", is_key=True, patrol_interval_days=30, last_patrol_at=now - timedelta(days=20))
    make_point(village, "从未巡查", is_key=True, created_at=now - timedelta(days=8))
    make_point(village, "非重点水域", is_key=False, last_patrol_at=now - timedelta(days=60), danger_level="low")
    for name, status in (("隐患未整改", "open"), ("隐患整改中", "in_progress"), ("隐患已销号", "closed")):
        point = make_point(village, name)
        db.session.add(Hazard(water_point_id=point.id, found_on=date.today(), description="护栏破损",
                              rectify_by=date.today() + timedelta(days=7), owner_name="李四", status=status))
    db.session.commit()

    _page, script = page_and_script(as_county_officer)
    rows = rows_by_name(script)
    flags = {name: row[9] for name, row in rows.items()}
    assert flags == {
        "无警示牌": 1,
        "巡查超期": 2,
        "按时巡查": 0,
        "每月巡查": 0,
        "从未巡查": 2,
        "非重点水域": 0,
        "隐患未整改": 4,
        "隐患整改中": 4,
        "隐患已销号": 0,
    }
    assert rows["无警示牌"][5] == "high" and rows["非重点水域"][5] == "low"

    monkeypatch.setitem(app.config, "WATER_PATROL_INTERVAL_DAYS", 10)
    _page, script = page_and_script(as_county_officer)
    assert rows_by_name(script)["巡查超期"][9] == 0

    data = map_payload(script)
    point_id = rows["按时巡查"][0]
    with app.test_request_context():
        from flask import url_for

        assert data["pointUrl"].replace("{id}", str(point_id)) == url_for("water.detail", point_id=point_id)


def test_the_popup_data_has_the_kind_the_village_and_the_responsible_person(as_county_officer, tree, db):
    make_point(tree.village_a1, "东干渠", kind="canal", responsible_name="王五", responsible_phone="13800000000")
    db.session.commit()
    _page, script = page_and_script(as_county_officer)
    data = map_payload(script)
    row = rows_by_name(script)["东干渠"]
    assert row[4] == "canal" and data["labels"]["kinds"]["canal"] == "Canal"
    assert row[6:8] == ["王五", "13800000000"]
    assert data["units"][str(row[8])] == "夏禹桥村委会"


def test_the_legend_counts_the_points_by_danger_and_by_problem(as_county_officer, tree, db):
    make_points(tree.village_a1, 12)  # 4 of each danger; every fourth has no sign
    db.session.commit()
    page = as_county_officer.get("/water/map", headers=ENGLISH).get_data(as_text=True)
    assert "Water points: 12" in page
    assert 'High-danger water <span class="muted">(4)</span>' in page
    assert 'No permanent warning sign <span class="muted">(3)</span>' in page
    assert 'Open hazards <span class="muted">(0)</span>' in page


# --- Escaping --------------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>",
    "${alert(1)}",
    "`${document.cookie}` back\\slash \\u003c",
    "</script><script>alert(1)</script>",
    "line\u2028separator\u2029paragraph",
    "quote ' \" &amp; &lt;b&gt;",
]


def test_names_a_user_typed_reach_the_map_as_data_never_as_markup(as_county_officer, tree, db):
    for number, name in enumerate(HOSTILE_NAMES):
        make_point(tree.village_a1, name, responsible_name=name[:60], latitude=30.2 + number / 100)
    db.session.commit()
    page, script = page_and_script(as_county_officer)
    for raw in ("<img", "<script", "</script", "\u2028", "\u2029", "'"):
        assert raw not in script.split("CampaignWaterMap.prepare", 1)[1].split("\n", 1)[0]
    rows = rows_by_name(script)
    assert set(HOSTILE_NAMES) <= set(rows)
    for name in HOSTILE_NAMES:
        assert rows[name][6] == name[:60]
    assert "<img src=x" not in page.get_data(as_text=True)


@pytest.mark.parametrize("script", ["static/js/water-map.js", "static/js/point-picker.js"])
def test_the_map_scripts_put_text_in_the_page_only_through_text_content(app, script):
    from campaign import PROJECT_ROOT

    source = (PROJECT_ROOT / script).read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source
    assert "textContent" in source


# --- Only local assets; the tile server is the one outside address -------------------------------------


def test_the_map_page_and_script_name_no_outside_address_but_the_tile_server(as_county_officer, tree, db):
    make_points(tree.village_a1, 30)
    db.session.commit()
    page, script = page_and_script(as_county_officer)
    html = page.get_data(as_text=True)
    assert hosts(html) == set()
    assert hosts(script) == {"tile.openstreetmap.org"}
    local = re.findall(r'(?:src|href)="(/static/[^"?]+)(?:\?v=[0-9a-f]+)?"', html)
    assert any(path.endswith("leaflet.js") for path in local)
    assert any(path.endswith("leaflet.markercluster.js") for path in local)
    for path in local:
        assert as_county_officer.get(path).status_code == 200, path


def test_the_map_page_keeps_the_strict_policy_and_lets_in_only_tile_images(as_county_officer):
    page = as_county_officer.get("/water/map")
    rules = policy(page)
    assert rules["script-src"] == "'self'"
    assert rules["style-src"] == "'self'"
    assert rules["default-src"] == "'self'"
    assert rules["img-src"] == "'self' data: https://tile.openstreetmap.org"
    assert rules["frame-ancestors"] == "'none'"
    html = page.get_data(as_text=True)
    assert INLINE_SCRIPT.findall(html) == []
    assert "<style" not in html and " style=" not in html


def test_other_pages_keep_the_default_policy(as_county_officer):
    response = as_county_officer.get("/water/map?unit=abc")
    assert response.status_code == 404
    assert policy(response)["img-src"] == "'self' data:"


# --- Tile providers ----------------------------------------------------------------------------------


def test_on_amap_tiles_points_are_shifted_to_gcj02_for_display_only(as_county_officer, tree, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "amap")
    point = make_point(tree.village_a1, "高德底图测试", latitude=30.2336, longitude=119.7249)
    db.session.commit()
    page, script = page_and_script(as_county_officer)
    row = rows_by_name(script)["高德底图测试"]
    shifted = wgs84_to_gcj02(30.2336, 119.7249)
    assert row[1] == pytest.approx(shifted[0], abs=1e-6)
    assert row[2] == pytest.approx(shifted[1], abs=1e-6)
    assert abs(row[2] - 119.7249) > 0.003  # about 500 m east: the shift really happened
    assert hosts(script) == {"webrd0{s}.is.autonavi.com"}
    assert policy(page)["img-src"] == ("'self' data: https://webrd01.is.autonavi.com https://webrd02.is.autonavi.com "
                                       "https://webrd03.is.autonavi.com https://webrd04.is.autonavi.com")
    db.session.expire_all()
    stored = db.session.get(WaterPoint, point.id)
    assert (stored.latitude, stored.longitude) == (30.2336, 119.7249)


def test_on_openstreetmap_tiles_points_are_shown_where_they_are_stored(as_county_officer, tree, db):
    make_point(tree.village_a1, "原样显示", latitude=30.2336, longitude=119.7249)
    db.session.commit()
    _page, script = page_and_script(as_county_officer)
    assert rows_by_name(script)["原样显示"][1:3] == [30.2336, 119.7249]


def test_tianditu_tiles_carry_the_configured_key(as_county_officer, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "tianditu")
    monkeypatch.setitem(app.config, "TIANDITU_KEY", "k3y0123")
    page, script = page_and_script(as_county_officer)
    assert "vec_w/wmts" in script and "cva_w/wmts" in script
    assert script.count("tk=k3y0123") == 2
    assert hosts(script) == {"t{s}.tianditu.gov.cn"}
    assert policy(page)["img-src"].split()[2:] == [f"https://t{n}.tianditu.gov.cn" for n in range(8)]


def test_tianditu_without_a_key_falls_back_to_openstreetmap(as_county_officer, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "tianditu")
    monkeypatch.setitem(app.config, "TIANDITU_KEY", "")
    _page, script = page_and_script(as_county_officer)
    assert hosts(script) == {"tile.openstreetmap.org"}


def test_a_custom_tile_server_can_be_configured(as_county_officer, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "custom")
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://tiles.county.example/{z}/{x}/{y}.png")
    monkeypatch.setitem(app.config, "MAP_TILE_ATTRIBUTION", "县自然资源局")
    page, script = page_and_script(as_county_officer)
    assert hosts(script) == {"tiles.county.example"}
    assert policy(page)["img-src"] == "'self' data: https://tiles.county.example"


# --- Cost and language ----------------------------------------------------------------------------




def test_the_map_costs_the_same_queries_for_few_or_many_points_and_villages(as_county_officer, app, tree, db):
    make_point(tree.village_a1, "唯一水域")
    db.session.commit()
    few = queries_for_page(as_county_officer, "/water/map"), queries_for_page(as_county_officer, "/water/map.js")
    for village in (tree.village_a1, tree.village_a2, tree.community_a, tree.village_b1):
        make_points(village, 40, prefix=f"{village.name}-", is_key=True, patrol_interval_days=village.id)
    db.session.commit()
    many = queries_for_page(as_county_officer, "/water/map"), queries_for_page(as_county_officer, "/water/map.js")
    assert few == many


def test_the_map_page_speaks_chinese(as_county_officer, tree, db):
    make_points(tree.village_a1, 3)
    db.session.commit()
    page = as_county_officer.get("/water/map", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "水域分布图" in page
    assert "图例" in page
    assert "高风险水域" in page
    assert "无永久性警示标志" in page
    script = as_county_officer.get("/water/map.js", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    labels = map_payload(script)["labels"]
    assert labels["kinds"]["pond"] == "池塘"
    assert labels["open"] == "查看水域详情"


def test_the_register_form_carries_the_point_picker_and_lets_its_tiles_in(as_village_reporter):
    response = as_village_reporter.get("/water/new")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="point-picker" hidden' in html
    assert re.search(r'src="/static/js/point-picker.js\?v=[0-9a-f]+"', html)
    assert policy(response)["img-src"] == "'self' data: https://tile.openstreetmap.org"
    assert policy(response)["script-src"] == "'self'"
    assert INLINE_SCRIPT.findall(html) == []


def test_an_empty_point_picker_opens_over_the_users_water_points(as_village_reporter, tree, db):
    make_point(tree.village_a1, "东塘", latitude=30.2, longitude=119.7)
    make_point(tree.village_a1, "西塘", latitude=30.3, longitude=119.8)
    make_point(tree.village_b1, "别镇水库", latitude=29.0, longitude=118.0)  # not the reporter's
    db.session.commit()
    html = as_village_reporter.get("/water/new").get_data(as_text=True)
    assert 'data-centre="30.25,119.75"' in html


def test_the_legend_counts_equal_those_of_the_points(as_county_officer, tree, users, db):
    make_point(tree.village_a1, "甲", danger_level="high", has_permanent_sign=True)
    make_point(tree.village_a2, "乙", danger_level="medium")
    hazardous = make_point(tree.village_b1, "丙", danger_level="high")
    make_hazard(hazardous)
    db.session.commit()
    county = db.session.merge(users.county_officer)

    assert maps.map_counts(county, county.unit) == maps.map_points(county, county.unit).counts


def test_the_points_are_revalidated_not_refetched(as_county_officer, tree, db):
    point = make_point(tree.village_a1, "村口池塘")
    db.session.commit()
    first = as_county_officer.get("/water/map.js")
    etag = first.headers["ETag"]

    again = as_county_officer.get("/water/map.js", headers={"If-None-Match": etag})
    assert first.status_code == 200 and "no-store" not in first.headers["Cache-Control"]
    assert first.headers.get("Last-Modified")
    assert again.status_code == 304 and again.get_data() == b""

    make_hazard(point)
    db.session.commit()
    changed = as_county_officer.get("/water/map.js", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_another_user_never_gets_a_304_for_someone_elses_map(as_county_officer, as_township_officer, tree, db):
    make_point(tree.village_a1, "村口池塘")
    db.session.commit()
    etag = as_county_officer.get("/water/map.js").headers["ETag"]

    assert as_township_officer.get("/water/map.js", headers={"If-None-Match": etag}).status_code == 200


def test_the_page_starts_the_points_request(as_county_officer, tree, db):
    response = as_county_officer.get("/water/map")
    assert "rel=preload" in response.headers["Link"] and "/water/map.js" in response.headers["Link"]
