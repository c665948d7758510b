"""How responses travel to slow phones: behind a proxy, compressed, static files cached for a year.

Every ``url_for('static', filename=…)`` carries ``?v=`` and the first hex digits of the file's SHA-256,
so a static URL never changes content: a request whose ``v`` is the file's current version is cached
by the browser for a year (``immutable``: not even re-checked on reload); any other static request
is revalidated (``no-cache`` with an ETag). Editing a file changes its URL on the next page.
"""
import hashlib
import os
from threading import Lock

from flask import current_app, jsonify, render_template, request, send_from_directory
from flask_babel import gettext as _
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import compress

YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
COMPRESSED_TYPES = [
    "text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
    "application/json", "application/geo+json", "image/svg+xml",
]


class StaticVersions:
    """The content hash of each static file, computed once per modification time."""

    def __init__(self, folder: str):
        self.folder = folder
        self._known: dict[str, tuple[int, str]] = {}
        self._lock = Lock()

    def of(self, filename: str) -> str | None:
        path = os.path.join(self.folder, filename)
        try:
            modified = os.stat(path).st_mtime_ns
        except OSError:
            return None
        known = self._known.get(filename)
        if known and known[0] == modified:
            return known[1]
        with open(path, "rb") as handle:
            version = hashlib.sha256(handle.read()).hexdigest()[:12]
        with self._lock:
            self._known[filename] = (modified, version)
        return version


def configure_serving(app):
    configure_proxy(app)
    configure_compression(app)
    configure_static_versions(app)  # after: its hook runs before the compressor's
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.add_url_rule("/errors/too-large", "too_large", too_large_page)
    app.register_error_handler(413, too_large)


def configure_proxy(app):
    """Believe X-Forwarded-For/-Proto/-Host/-Port from exactly PROXY_COUNT proxies (0: none).

    More than the real number lets a client choose its own address (and dodge the login throttle);
    fewer leaves the proxy's address and scheme in place of the phone's."""
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)


def configure_static_versions(app):
    versions = StaticVersions(app.static_folder)
    app.extensions["static_versions"] = versions

    @app.url_defaults
    def version_static_urls(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = versions.of(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_versioned_static(response):
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        if response.status_code == 200 and response.mimetype in COMPRESSED_TYPES:
            # Read the (small) file now: Flask-Compress gzips whole bodies, not streamed files.
            response.direct_passthrough = False
            response.make_sequence()
        if request.args.get("v") and request.args.get("v") == versions.of(filename):
            response.headers["Cache-Control"] = IMMUTABLE
            response.expires = None
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response


def configure_compression(app):
    """Brotli where the browser offers it (Chrome does over HTTPS), else gzip, for pages, CSS, JS and
    JSON: Leaflet's 147 KB of JavaScript becomes 41-42 KB. Behind deploy/'s nginx, /static/ is nginx's."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_STREAMS", False)  # downloads stream as they are; static files: see below
    compress.init_app(app)


def favicon():
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 24 * 3600)


def upload_limit_mb() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"])


def too_large_message() -> str:
    return _("Too much to send at once: at most %(limit)s MB per sending. Nothing was saved. Go back and "
             "send the photos in several goes, or choose smaller ones.", limit=upload_limit_mb())


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def too_large(error=None):
    """413: the page (or JSON) says the limit, never a bare error. The API keeps its own error shape."""
    from .api.errors import http_error_response, is_api_request

    if is_api_request() and error is not None:
        return http_error_response(error)
    message = too_large_message()
    if _wants_json():
        return jsonify({"ok": False, "message": message, "limit_mb": upload_limit_mb()}), 413
    return render_template("errors/error.html", status=413, message=message, back_url=_same_site_referrer()), 413


def too_large_page():
    """Where nginx sends a body over its client_max_body_size (error_page 413)."""
    return too_large()


def _same_site_referrer() -> str | None:
    referrer = request.referrer or ""
    origin = request.host_url
    if referrer.startswith(origin):
        return referrer
    return None
