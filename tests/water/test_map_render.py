"""What folium emits for a water map: local assets only, no marker per point, a usable point picker."""
import json
import re
from types import SimpleNamespace

import folium
from flask import render_template_string

from campaign.security import content_security_policy
from campaign.water import maps
from campaign.water.maps import (
    MapData,
    MapPoint,
    build_map,
    header_links,
    render_figure,
    render_script,
)

URL = re.compile(r"""https?://[^\s"'<>\\)]+""")


def synthetic(count: int) -> MapData:
    points = [
        MapPoint(number, f"水域{number}", "pond", 30.0 + (number % 150) * 0.003, 119.5 + (number // 150) * 0.003,
                 ("high", "medium", "low")[number % 3], "张三", "13800000000", 1 + number % 20, "某村", number % 8)
        for number in range(count)
    ]
    unit = SimpleNamespace(latitude=None, longitude=None, path="/1/")
    return MapData(unit, points, {"total": count})


def script_for(app, count: int) -> str:
    with app.test_request_context():
        return render_script(build_map(synthetic(count), maps.tile_settings(), "/water/{id}"))


def test_2000_points_render_without_a_marker_per_point(app):
    script = script_for(app, 2000)
    assert "L.marker(" not in script
    assert "L.circleMarker(" not in script
    assert "bindPopup" not in script
    assert script.count("CampaignWaterMap.clusterLayer(") == 4  # every point, and three problem layers
    assert script.count("CampaignWaterMap.prepare(") == 1  # the data is sent once, not once per layer


def test_the_script_grows_by_a_small_fixed_amount_per_point(app):
    small = len(script_for(app, 200).encode())
    large = len(script_for(app, 2000).encode())
    per_point = (large - small) / 1800
    assert per_point < 100  # bytes; one folium Marker with a popup costs about 800
    assert large < 250_000


def test_the_standalone_folium_figure_loads_nothing_from_a_cdn(app):
    with app.test_request_context():
        fmap = build_map(synthetic(10), maps.tile_settings(), "/water/{id}")
        html = render_figure(fmap)
        links = header_links(fmap)
    assert links and all(link.startswith("/static/") for link in links)
    assert {re.sub(r"^https?://([^/]+).*", r"\1", url) for url in URL.findall(html)} == {"tile.openstreetmap.org"}
    # The instances were changed, not folium's classes: other maps keep folium's defaults.
    assert folium.Map.default_js[0][1].startswith("https://")


def test_a_map_without_tiles_argument_still_gets_a_max_zoom_for_clustering(app):
    script = script_for(app, 5)
    assert '"maxZoom": 18' in script
    assert "L.tileLayer(" in script


def test_a_map_without_points_is_centred_on_the_unit(app):
    data = MapData(SimpleNamespace(latitude=30.25, longitude=119.72, path="/1/"), [], {"total": 0})
    with app.test_request_context():
        script = render_script(build_map(data, maps.tile_settings(), "/water/{id}"))
    assert "center: [30.25, 119.72]" in script
    assert "fitBounds" not in script


PICKER_PAGE = """<form method="post">
  <input id="latitude" name="latitude"><input id="longitude" name="longitude">
  {% include "water/_point_picker.html" %}
</form>"""


def test_the_point_picker_is_hidden_until_its_script_runs_and_is_bound_to_the_inputs(app):
    with app.test_request_context("/water/new"):
        html = render_template_string(PICKER_PAGE)
        assert "https://tile.openstreetmap.org" in content_security_policy()  # the tile images may load
    assert re.search(r'<div class="point-picker" hidden\s', html)
    assert 'data-latitude-input="latitude"' in html and 'data-longitude-input="longitude"' in html
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html) == []
    scripts = re.findall(r'<script src="([^"?]+)(?:\?v=[0-9a-f]+)?"', html)
    assert scripts == ["/static/vendor/leaflet/leaflet.js", "/static/js/point-picker.js"]
    tiles = re.search(r'data-tiles="([^"]+)"', html).group(1).replace("&#34;", '"')
    assert json.loads(tiles)["tiles"][0]["url"] == maps.OSM_URL


def test_the_point_picker_tells_its_script_about_gcj02_tiles(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILES", "amap")
    with app.test_request_context("/water/new"):
        html = render_template_string(PICKER_PAGE)
    tiles = json.loads(re.search(r'data-tiles="([^"]+)"', html).group(1).replace("&#34;", '"'))
    assert tiles["coordinates"] == "gcj02"
    assert tiles["provider"] == "amap"
