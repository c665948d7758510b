"""In Chromium: the county water map clusters its points, popups show typed text as text, and the
point picker turns a tap into a WGS-84 position even on GCJ-02 tiles. There is no network: tiles
come from a dead address on 127.0.0.1 and simply fail to load."""
import json
from math import cos, radians

import pytest
from flask import render_template_string

from campaign.extensions import db
from campaign.water.geo import gcj02_to_wgs84, wgs84_to_gcj02
from tests import factories
from tests.browser.conftest import PHONE
from tests.water.map_factories import make_point, make_points

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
DEAD_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"
HOSTILE = "<img src=x onerror=alert(1)>${alert(1)}`"


@pytest.fixture
def offline_tiles(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "custom")
    monkeypatch.setitem(app.config, "MAP_TILE_URL", DEAD_TILES)
    monkeypatch.setitem(app.config, "MAP_TILE_ATTRIBUTION", "test tiles")


@pytest.fixture
def desktop_page(browser, db):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def log_in(page, live_server, username):
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(factories.DEFAULT_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")


def test_the_county_map_shows_300_points_in_clusters(live_server, desktop_page, users, tree, offline_tiles,
                                                     screenshot):
    for village in (tree.village_a1, tree.village_a2, tree.village_b1):
        make_points(village, 100, prefix=f"{village.name}水域")
    db.session.commit()
    page = desktop_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    log_in(page, live_server, "county_officer")
    page.goto(f"{live_server}/water/map")
    page.wait_for_selector(".marker-cluster")

    clusters = page.locator(".marker-cluster")
    assert clusters.count() >= 2
    counted = sum(int(text) for text in page.locator(".marker-cluster span").all_inner_texts())
    single = page.locator(".leaflet-marker-pane .water-pin").count()
    assert counted + single == 300
    assert page.locator(".water-cluster-high").count() >= 1  # every area has a high-danger point
    assert "巡查超期的重点水域" in page.locator(".leaflet-control-layers").inner_text()
    assert errors == []
    screenshot(page, "water-map-county")


def test_a_popup_shows_a_hostile_name_as_text_and_links_to_the_point(live_server, desktop_page, users, tree,
                                                                     offline_tiles):
    make_points(tree.village_a1, 50)
    point = make_point(tree.village_b1, HOSTILE, latitude=30.6, longitude=120.1, responsible_name="王五")
    db.session.commit()
    page = desktop_page
    log_in(page, live_server, "county_officer")
    page.goto(f"{live_server}/water/map")
    page.wait_for_selector(".marker-cluster")
    page.evaluate(
        """(name) => new Promise((done) => {
            map_water.eachLayer((layer) => {
                if (!layer.zoomToShowLayer) return;
                const marker = layer.getLayers().find((m) => m.options.title === name);
                if (marker) layer.zoomToShowLayer(marker, done);
            });
        })""",
        HOSTILE,
    )
    page.get_by_title(HOSTILE, exact=True).click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert popup.locator(".water-popup-name").inner_text() == HOSTILE
    assert popup.locator("img").count() == 0
    assert "王五" in popup.inner_text()
    assert popup.locator("a").get_attribute("href") == f"/water/{point.id}"


def test_a_village_reporter_taps_the_position_on_the_register_form(live_server, browser, users, offline_tiles,
                                                                  screenshot):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    try:
        log_in(page, live_server, "village_reporter")
        page.goto(f"{live_server}/water/new")
        picker_map = page.locator(".point-picker .leaflet-container")
        picker_map.wait_for()
        assert page.locator("#latitude").input_value() == ""
        picker_map.tap()
        assert -90 <= float(page.locator("#latitude").input_value()) <= 90
        assert -180 <= float(page.locator("#longitude").input_value()) <= 180
        assert page.get_by_role("button", name="使用手机GPS定位").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert errors == []
        screenshot(page, "water-point-picker-phone")
    finally:
        context.close()


PICKER_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<form method="post">
  <input id="latitude" name="latitude" value="{{ lat }}"><input id="longitude" name="longitude" value="{{ lon }}">
  {% include "water/_point_picker.html" %}
</form></body></html>"""


def picker_html(app, live_server, lat, lon):
    with app.test_request_context("/water/new"):
        html = render_template_string(PICKER_PAGE, lat=lat, lon=lon)
    return html.replace('"/static/', f'"{live_server}/static/')


def test_the_picker_computes_gcj02_as_the_server_does(live_server, desktop_page, app, offline_tiles):
    page = desktop_page
    page.set_content(picker_html(app, live_server, "", ""))
    page.wait_for_function("window.CampaignPointPicker !== undefined")
    for place in [(39.908722, 116.397499), (30.2336, 119.7249), (22.5431, 114.0579), (51.5074, -0.1278)]:
        forward = page.evaluate("([lat, lon]) => CampaignPointPicker.wgsToGcj(lat, lon)", list(place))
        assert forward == pytest.approx(list(wgs84_to_gcj02(*place)), abs=1e-9)
        back = page.evaluate("([lat, lon]) => CampaignPointPicker.gcjToWgs(lat, lon)", forward)
        assert back == pytest.approx(list(gcj02_to_wgs84(*forward)), abs=1e-9)


@pytest.mark.parametrize("provider", ["custom", "amap"])
def test_a_tap_on_the_picker_fills_in_the_wgs84_position(live_server, desktop_page, app, offline_tiles,
                                                         monkeypatch, provider):
    monkeypatch.setitem(app.config, "MAP_TILE_COORDINATES", "gcj02" if provider == "amap" else "wgs84")
    page = desktop_page
    page.set_content(picker_html(app, live_server, "30.2336", "119.7249"))
    picker_map = page.locator(".point-picker-map")
    picker_map.wait_for()
    page.wait_for_selector(".point-picker .leaflet-marker-icon")
    box = picker_map.bounding_box()
    pixels_right = 40
    page.mouse.click(box["x"] + box["width"] / 2 + pixels_right, box["y"] + box["height"] / 2)

    # At zoom 15 a pixel is 360 / (256 · 2^15) degrees of longitude on the tiles (Web Mercator).
    shown = wgs84_to_gcj02(30.2336, 119.7249) if provider == "amap" else (30.2336, 119.7249)
    tapped = (shown[0], shown[1] + pixels_right * 360 / (256 * 2**15))
    expected = gcj02_to_wgs84(*tapped) if provider == "amap" else tapped
    lat = float(page.locator("#latitude").input_value())
    lon = float(page.locator("#longitude").input_value())
    metres = 111_320 * max(abs(lat - expected[0]), abs(lon - expected[1]) * cos(radians(lat)))
    assert metres < 10  # within two pixels; forgetting the GCJ-02 shift would be ~500 m off
    assert page.locator(".point-picker-status").inner_text() != ""
    tiles = json.loads(page.locator(".point-picker").get_attribute("data-tiles"))
    assert tiles["coordinates"] == ("gcj02" if provider == "amap" else "wgs84")
