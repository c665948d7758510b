from flask import Blueprint, current_app, jsonify, render_template, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf.csrf import generate_csrf

bp = Blueprint("offline", __name__)

ICON_SIZES = (192, 512)


@bp.route("/sw.js")
def service_worker():
    """Served from the root so its scope is the whole site; revalidated on every visit, so a new
    version is picked up at once."""
    response = send_from_directory(current_app.static_folder, "js/sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
def manifest():
    """Public: browsers fetch the manifest without the login cookie."""
    icons = [{"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
              "type": "image/png", "purpose": "any maskable"} for size in ICON_SIZES]
    response = jsonify({
        "id": "/",
        "name": _("Campaign Desk"),
        "short_name": _("Campaign Desk"),
        "start_url": url_for("main.index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f6f8",
        "theme_color": "#b42318",
        "icons": icons,
    })
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/session/csrf")
@login_required
def csrf_token():
    """A fresh token for the outbox, which replays forms saved from pages whose token has expired."""
    response = jsonify({"csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/outbox")
@login_required
def outbox():
    return render_template("offline/outbox.html")


@bp.route("/offline")
@login_required
def offline_page():
    """What the service worker shows for a page never opened on this phone."""
    return render_template("offline/offline.html")
