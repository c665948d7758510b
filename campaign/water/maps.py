"""Water points on a folium (Leaflet) map.

One query fetches the points of a unit's subtree; the map carries them once, as escaped JSON, and
``static/js/water-map.js`` builds the clustered markers and their popups in the browser with
``textContent`` (folium's own popups are not escaped, and one Python ``Marker`` per point costs
seconds and megabytes: see docs/stack-traps.md). Every script and stylesheet comes from ``static/vendor``; the
only outside address is the configured tile server.
"""
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import folium
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from folium.template import Template
from sqlalchemy import case, exists, func, select

from ..database import utcnow
from ..extensions import db
from ..permissions import units_within
from ..units.models import Unit
from .geo import wgs84_to_gcj02
from .messages import KIND_LABELS
from .models import Hazard, HazardStatus, WaterPoint, WaterPointStatus
from .services import patrol_overdue_condition

MAP_ELEMENT_ID = "map_water"  # the folium Map's JavaScript name and the page's <div id>

# Longer than the list's column labels: on the map and in the legend they stand alone.
DANGER_LABELS = {
    "high": _l("High-danger water"),
    "medium": _l("Medium-danger water"),
    "low": _l("Low-danger water"),
}
ALL_POINTS_LAYER = _l("Water points by danger level")

# Bits of a point's "flags" in the map data; each problem layer shows the points with its bit.
NO_SIGN = 1
PATROL_OVERDUE = 2
OPEN_HAZARD = 4
PROBLEM_LAYERS = (
    (NO_SIGN, "no_sign", _l("No permanent warning sign")),
    (PATROL_OVERDUE, "patrol_overdue", _l("Key water areas with overdue patrols")),
    (OPEN_HAZARD, "open_hazard", _l("Open hazards")),
)

VENDOR_JS = ("vendor/leaflet/leaflet.js", "vendor/leaflet-markercluster/leaflet.markercluster.js")
VENDOR_CSS = (
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet-markercluster/MarkerCluster.css",
    "vendor/leaflet-markercluster/MarkerCluster.Default.css",
)
MAP_JS = "js/water-map.js"
MAP_CSS = "css/water-map.css"

OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/%(layer)s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=%(layer)s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%(key)s"
)
AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"


# ---------------------------------------------------------------------------------------------
# Tile providers


@dataclass
class TileSource:
    url: str
    attribution: str
    subdomains: str = ""
    overlay: bool = False  # drawn over the base layer (Tianditu's labels)


@dataclass
class TileSettings:
    provider: str
    sources: list[TileSource]
    coordinates: str = "wgs84"  # or "gcj02": points are shifted for display
    max_zoom: int = 18

    @property
    def shifts_to_gcj02(self) -> bool:
        return self.coordinates == "gcj02"

    def origins(self) -> list[str]:
        """Every scheme://host the tiles may come from, for the page's CSP img-src."""
        found = []
        for source in self.sources:
            for sub in source.subdomains or " ":
                parts = urlsplit(source.url.replace("{s}", sub.strip()))
                origin = f"{parts.scheme}://{parts.netloc}"
                if origin not in found:
                    found.append(origin)
        return found

    def to_data(self) -> dict:
        """What the point picker needs, as data- attribute values."""
        return {
            "provider": self.provider,
            "coordinates": self.coordinates,
            "max_zoom": self.max_zoom,
            "tiles": [
                {"url": s.url, "attribution": s.attribution, "subdomains": s.subdomains} for s in self.sources
            ],
        }


def tile_settings(config=None) -> TileSettings:
    """The tile provider chosen by MAP_TILES: osm (default), tianditu, amap or custom."""
    config = config if config is not None else current_app.config
    provider = (config.get("MAP_TILES") or "osm").lower()
    max_zoom = int(config.get("MAP_MAX_ZOOM") or 18)
    if provider == "tianditu":
        key = config.get("TIANDITU_KEY")
        if not key:
            current_app.logger.warning("MAP_TILES is tianditu but TIANDITU_KEY is not set: using OpenStreetMap")
        else:
            return TileSettings(
                "tianditu",
                [
                    TileSource(TIANDITU_URL % {"layer": "vec", "key": key}, "© 天地图", "01234567"),
                    TileSource(TIANDITU_URL % {"layer": "cva", "key": key}, "© 天地图", "01234567", overlay=True),
                ],
                max_zoom=min(max_zoom, 18),
            )
    elif provider == "amap":
        return TileSettings("amap", [TileSource(AMAP_URL, "© 高德地图", "1234")], "gcj02", min(max_zoom, 18))
    elif provider == "custom" and config.get("MAP_TILE_URL"):
        coordinates = (config.get("MAP_TILE_COORDINATES") or "wgs84").lower()
        return TileSettings(
            "custom",
            [
                TileSource(
                    config["MAP_TILE_URL"],
                    config.get("MAP_TILE_ATTRIBUTION") or "©",
                    config.get("MAP_TILE_SUBDOMAINS") or "",
                )
            ],
            "gcj02" if coordinates == "gcj02" else "wgs84",
            max_zoom,
        )
    elif provider not in ("osm", "openstreetmap"):
        current_app.logger.warning("unknown MAP_TILES %r: using OpenStreetMap", provider)
    return TileSettings("osm", [TileSource(OSM_URL, "© OpenStreetMap contributors")], max_zoom=min(max_zoom, 19))


def to_display(tiles: TileSettings, lat: float, lon: float) -> tuple[float, float]:
    return wgs84_to_gcj02(lat, lon) if tiles.shifts_to_gcj02 else (lat, lon)


# ---------------------------------------------------------------------------------------------
# The points


@dataclass
class MapPoint:
    id: int
    name: str
    kind: str
    latitude: float
    longitude: float
    danger_level: str
    responsible_name: str
    responsible_phone: str
    unit_id: int
    unit_name: str
    flags: int = 0


@dataclass
class MapData:
    unit: Unit
    points: list[MapPoint]
    counts: dict = field(default_factory=dict)


def map_points(user, unit, now=None) -> MapData:
    """The active water points of ``unit``'s subtree that ``user`` may see (two queries: the points,
    and the distinct patrol intervals the overdue rule needs)."""
    now = now or utcnow()
    overdue = case((patrol_overdue_condition(now), True), else_=False).label("patrol_overdue")
    open_hazard = (
        exists()
        .where(Hazard.water_point_id == WaterPoint.id, Hazard.status != HazardStatus.CLOSED.value)
        .label("open_hazard")
    )
    rows = db.session.execute(
        select(
            WaterPoint.id, WaterPoint.name, WaterPoint.kind, WaterPoint.latitude, WaterPoint.longitude,
            WaterPoint.danger_level, WaterPoint.responsible_name, WaterPoint.responsible_phone,
            WaterPoint.has_permanent_sign, WaterPoint.unit_id, Unit.name.label("unit_name"), overdue, open_hazard,
        )
        .join(Unit, WaterPoint.unit_id == Unit.id)
        .where(units_within(user), Unit.path.like(f"{unit.path}%"),
               WaterPoint.status == WaterPointStatus.ACTIVE.value)
        .order_by(WaterPoint.id)
    ).all()
    points = []
    counts = {"total": 0, "high": 0, "medium": 0, "low": 0, "no_sign": 0, "patrol_overdue": 0, "open_hazard": 0}
    for row in rows:
        flags = (
            (0 if row.has_permanent_sign else NO_SIGN)
            | (PATROL_OVERDUE if row.patrol_overdue else 0)
            | (OPEN_HAZARD if row.open_hazard else 0)
        )
        points.append(MapPoint(row.id, row.name, row.kind, row.latitude, row.longitude, row.danger_level,
                               row.responsible_name or "", row.responsible_phone or "", row.unit_id,
                               row.unit_name, flags))
        counts["total"] += 1
        counts[row.danger_level] = counts.get(row.danger_level, 0) + 1
        for bit, key, _label in PROBLEM_LAYERS:
            if flags & bit:
                counts[key] += 1
    return MapData(unit, points, counts)


def _scoped_points(user, unit):
    return (
        select(WaterPoint.id)
        .join(Unit, WaterPoint.unit_id == Unit.id)
        .where(units_within(user), Unit.path.like(f"{unit.path}%"),
               WaterPoint.status == WaterPointStatus.ACTIVE.value)
    )


def _open_hazard():
    return (
        exists()
        .where(Hazard.water_point_id == WaterPoint.id, Hazard.status != HazardStatus.CLOSED.value)
    )


def map_counts(user, unit, now=None) -> dict:
    """The legend's counts (what ``map_points`` counts), from one grouped query: the page needs no point."""
    now = now or utcnow()
    def count(condition):
        return func.sum(case((condition, 1), else_=0))
    rows = db.session.execute(
        select(WaterPoint.danger_level, func.count(WaterPoint.id),
               count(WaterPoint.has_permanent_sign.is_(False)), count(patrol_overdue_condition(now)),
               count(_open_hazard()))
        .where(WaterPoint.id.in_(_scoped_points(user, unit)))
        .group_by(WaterPoint.danger_level)
    ).all()
    counts = {"total": 0, "high": 0, "medium": 0, "low": 0, "no_sign": 0, "patrol_overdue": 0, "open_hazard": 0}
    for level, total, no_sign, overdue, open_hazard in rows:
        counts[level] = counts.get(level, 0) + total
        counts["total"] += total
        counts["no_sign"] += int(no_sign or 0)
        counts["patrol_overdue"] += int(overdue or 0)
        counts["open_hazard"] += int(open_hazard or 0)
    return counts


def points_fingerprint(user, unit, now=None) -> tuple[str, object]:
    """(ETag, Last-Modified) of the map's data: changes with any point or hazard edit in scope and with
    the number of points overdue for a patrol (which moves with time alone). One query."""
    now = now or utcnow()
    scoped = _scoped_points(user, unit)
    points = select(func.count(WaterPoint.id), func.max(WaterPoint.updated_at),
                    func.sum(case((patrol_overdue_condition(now), 1), else_=0))).where(WaterPoint.id.in_(scoped))
    hazards = select(func.count(Hazard.id), func.max(Hazard.updated_at)).where(Hazard.water_point_id.in_(scoped))
    (count, changed, overdue), (hazard_count, hazard_changed) = (
        db.session.execute(points).one(), db.session.execute(hazards).one())
    newest = max((moment for moment in (changed, hazard_changed) if moment is not None), default=None)
    return f"{unit.id}-{count}-{overdue}-{hazard_count}-{changed}-{hazard_changed}", newest


# ---------------------------------------------------------------------------------------------
# Safe JSON and the folium elements


# "{{", "{%" and "{#" only occur inside JSON strings (a key is always quoted), where "\u007b" means "{".
JINJA_OPENER = re.compile(r"\{(?=[{%#])")


def js_json(value) -> str:
    """JSON that is safe inside a <script> or an HTML attribute, like Jinja's tojson.

    branca renders each element's script output again as a Jinja template (``Element(script)``), so
    typed text must not carry a Jinja delimiter: ``{{ ... }}`` in a point's name would run on the server.
    """
    text = (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        .replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("'", "\\u0027")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return JINJA_OPENER.sub(lambda match: "\\u007b", text)


class PointData(JSCSSMixin):
    """The points and the labels, once, as a JavaScript object every layer reads."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = CampaignWaterMap.prepare({{ this._parent.get_name() }}, {{ this.payload }});"
        "{% endmacro %}"
    )

    def __init__(self, payload: str, js_url: str):
        super().__init__()
        self._name = "WaterPointData"
        self.payload = payload
        self.default_js = [("water_map_js", js_url)]
        self.default_css = []


class PointCluster(MarkerCluster):
    """A clustered layer of the points whose flags have ``flag`` (0: every point); built client-side."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = CampaignWaterMap.clusterLayer("
        "{{ this.data.get_name() }}, {{ this.flag|tojson }}, {{ this.options|tojavascript }});"
        "{% endmacro %}"
    )

    def __init__(self, data: PointData, flag: int, name: str, show: bool, js: list, css: list):
        super().__init__(name=str(name), overlay=True, control=True, show=show,
                         options={"chunkedLoading": True, "showCoverageOnHover": False})
        self._name = "WaterPointCluster"
        self.data = data
        self.flag = flag
        self.default_js = js
        self.default_css = css


def static_url(path: str) -> str:
    return url_for("static", filename=path)


def asset_urls() -> dict:
    """The local scripts and stylesheets a map page loads, in order."""
    return {
        "css": [static_url(path) for path in (*VENDOR_CSS, MAP_CSS)],
        "js": [static_url(path) for path in (*VENDOR_JS, MAP_JS)],
    }


def _payload(data: MapData, tiles: TileSettings, point_url: str) -> str:
    rows = []
    units = {}
    for point in data.points:
        lat, lon = to_display(tiles, point.latitude, point.longitude)
        rows.append([point.id, round(lat, 6), round(lon, 6), point.name, point.kind, point.danger_level,
                     point.responsible_name, point.responsible_phone, point.unit_id, point.flags])
        units[point.unit_id] = point.unit_name
    return js_json({
        "rows": rows,
        "units": units,
        "pointUrl": point_url,
        "labels": {
            "kinds": {key: str(label) for key, label in KIND_LABELS.items()},
            "dangers": {key: str(label) for key, label in DANGER_LABELS.items()},
            "flags": {str(bit): str(label) for bit, _key, label in PROBLEM_LAYERS},
            "responsible": str(_l("Responsible person")),
            "unit": str(_l("Village or community")),
            "open": str(_l("Open the water point")),
        },
    })


def _bounds(data: MapData, tiles: TileSettings):
    if not data.points:
        return None
    shown = [to_display(tiles, p.latitude, p.longitude) for p in data.points]
    lats = [lat for lat, _ in shown]
    lons = [lon for _, lon in shown]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _centre(data: MapData, tiles: TileSettings):
    config = current_app.config
    if data.unit.latitude is not None and data.unit.longitude is not None:
        return list(to_display(tiles, data.unit.latitude, data.unit.longitude)), 12
    lat, lon = config.get("MAP_DEFAULT_CENTER") or (28.228, 112.939)
    return list(to_display(tiles, lat, lon)), int(config.get("MAP_DEFAULT_ZOOM") or 9)


def build_map(data: MapData, tiles: TileSettings, point_url: str) -> folium.Map:
    """The folium map: tile layer(s), one clustered layer of every point coloured by danger, one layer
    per problem (off at first), a layer control. ``point_url`` holds ``{id}`` for the point's id."""
    js = [(f"vendor_js_{i}", static_url(path)) for i, path in enumerate(VENDOR_JS)]
    css = [(f"vendor_css_{i}", static_url(path)) for i, path in enumerate(VENDOR_CSS)]
    css.append(("water_map_css", static_url(MAP_CSS)))
    centre, zoom = _centre(data, tiles)
    fmap = folium.Map(location=centre, zoom_start=zoom, tiles=None, control_scale=True)
    fmap._id = MAP_ELEMENT_ID.split("_", 1)[1]
    fmap.default_js = js[:1]
    fmap.default_css = css[:1]
    for number, source in enumerate(tiles.sources):
        folium.TileLayer(
            tiles=source.url, attr=source.attribution, name=f"tiles-{number}", max_zoom=tiles.max_zoom,
            subdomains=source.subdomains or "abc", overlay=source.overlay, control=False,
        ).add_to(fmap)

    points = PointData(_payload(data, tiles, point_url), static_url(MAP_JS))
    fmap.add_child(points)
    counts = data.counts
    PointCluster(points, 0, f"{ALL_POINTS_LAYER} ({counts.get('total', 0)})", True,
                 js, css).add_to(fmap)
    for bit, key, label in PROBLEM_LAYERS:
        PointCluster(points, bit, f"{label} ({counts.get(key, 0)})", False, js, css).add_to(fmap)
    # Collapsed to a button, so it does not cover a phone's map; water-map.css opens it on wide screens.
    folium.LayerControl(collapsed=True).add_to(fmap)
    bounds = _bounds(data, tiles)
    if bounds:
        fmap.fit_bounds(bounds, padding=(20, 20), max_zoom=15)
    return fmap


def render_script(fmap: folium.Map) -> str:
    """The map's JavaScript alone, to be served as a file: the page's CSP forbids inline scripts."""
    figure = fmap.get_root()
    for child in figure._children.values():
        child.render()
    return figure.script.render()


def render_figure(fmap: folium.Map) -> str:
    """The whole standalone folium page (used by tests and the bench to check what folium emits)."""
    return fmap.get_root().render()


def header_links(fmap: folium.Map) -> list[str]:
    """The script and stylesheet URLs folium put in the figure's header (after a render)."""
    return [child.url for child in fmap.get_root().header._children.values() if hasattr(child, "url")]

