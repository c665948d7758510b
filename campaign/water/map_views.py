"""Water maps: the page (/water/map) and its script (/water/map.js), on the water blueprint.

The app's CSP forbids inline scripts, and folium's output is script: the page loads the map's
script from /water/map.js like any other file. Only ``img-src`` is widened on pages that draw
tiles (the map page and forms with the point picker), to the configured tile server.
"""
import hashlib
import json

from flask import abort, current_app, make_response, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from .. import permissions
from ..extensions import db
from ..security import allow_images_from
from ..units.models import Unit
from . import maps
from .models import WaterPoint, WaterPointStatus
from .views import bp

# The app's policy (campaign/__init__.py) with the tile server's origins added to img-src.
MAP_UNIT_KINDS = ("province", "city", "county", "township", "village", "community")
MAX_ID = 2**31 - 1


def _chosen_unit():
    """The user's own unit, or ?unit=<id> when it lies within the user's units (else 404)."""
    raw = request.args.get("unit", "")
    if raw == "":
        return current_user.unit
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        abort(404)
    return permissions.get_unit_or_404(current_user, int(raw))


def point_url_template() -> str:
    """The water point page's URL with ``{id}`` for the id (the map's popups link to it)."""
    for endpoint in ("water.detail", "water.point_detail"):
        try:
            return url_for(endpoint, point_id=987654321).replace("987654321", "{id}")
        except BuildError:
            continue
    return f"{request.script_root}{bp.url_prefix}/{{id}}"


def _navigation(unit):
    """The units above ``unit`` that the user may open, and the units right under it."""
    trail = db.session.scalars(
        select(Unit)
        .where(Unit.id.in_(unit.ancestor_ids), permissions.units_within(current_user))
        .order_by(Unit.depth)
    ).all()
    children = db.session.scalars(
        select(Unit)
        .where(Unit.parent_id == unit.id, Unit.kind.in_(MAP_UNIT_KINDS))
        .order_by(Unit.code.is_(None), Unit.code, Unit.name)
    ).all()
    return trail, children


def _use_tiles():
    """The tile settings, remembered so the response's CSP lets their images in."""
    tiles = maps.tile_settings()
    allow_images_from(*tiles.origins())
    return tiles


@bp.context_processor
def point_picker_helpers():
    return {"water_point_picker": point_picker_options}


def _picker_centre(user):
    """Where an empty picker opens: the user's unit's position, else the middle of its water points."""
    if user is None:
        return None, None
    unit = user.unit
    if unit.latitude is not None and unit.longitude is not None:
        return (unit.latitude, unit.longitude), 13
    lat, lon = db.session.execute(
        select(func.avg(WaterPoint.latitude), func.avg(WaterPoint.longitude))
        .join(Unit, WaterPoint.unit_id == Unit.id)
        .where(permissions.units_within(user), WaterPoint.status == WaterPointStatus.ACTIVE.value)
    ).one()
    if lat is None:
        return None, None
    return (round(float(lat), 6), round(float(lon), 6)), 12


def point_picker_options() -> dict:
    """What templates/water/_point_picker.html needs: assets and the tile settings as data."""
    tiles = _use_tiles()
    config = current_app.config
    centre, zoom = _picker_centre(current_user if current_user.is_authenticated else None)
    if centre is None:
        centre, zoom = config.get("MAP_DEFAULT_CENTER") or (28.228, 112.939), config.get("MAP_DEFAULT_ZOOM") or 9
    return {
        "tiles": json.dumps(tiles.to_data(), ensure_ascii=False),
        "centre": f"{centre[0]},{centre[1]}",
        "zoom": int(zoom),
        "css": [maps.static_url("vendor/leaflet/leaflet.css"), maps.static_url(maps.MAP_CSS)],
        "js": [maps.static_url("vendor/leaflet/leaflet.js"), maps.static_url("js/point-picker.js")],
    }


@bp.route("/map")
@login_required
@permissions.require("water.view")
def water_map():
    unit = _chosen_unit()
    counts = maps.map_counts(current_user, unit)
    trail, children = _navigation(unit)
    _use_tiles()
    response = make_response(render_template(
        "water/map.html",
        unit=unit,
        counts=counts,
        trail=trail,
        children=children,
        assets=maps.asset_urls(),
        map_id=maps.MAP_ELEMENT_ID,
        map_danger_labels=maps.DANGER_LABELS,
        problem_layers=maps.PROBLEM_LAYERS,
    ))
    # Starts the points' request with the page (a proxy may send it as an early hint).
    response.headers["Link"] = f'<{url_for("water.map_script", unit=unit.id)}>; rel=preload; as=script'
    return response


@bp.route("/map.js")
@login_required
@permissions.require("water.view")
def map_script():
    """Revalidated on every visit (ETag, Last-Modified): an unchanged map answers 304 without building."""
    unit = _chosen_unit()
    tiles = maps.tile_settings()
    etag, modified = maps.points_fingerprint(current_user, unit)
    etag = f"{etag}-{current_user.id}-{get_locale()}-{tiles.to_data()}"
    etag = hashlib.sha256(etag.encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = make_response("", 304)
    else:
        fmap = maps.build_map(maps.map_points(current_user, unit), tiles, point_url_template())
        response = make_response(maps.render_script(fmap))
        response.mimetype = "text/javascript"
    response.set_etag(etag)
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = "private, no-cache"
    return response
