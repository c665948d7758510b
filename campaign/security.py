"""Response security headers, one policy for the whole site, and a guard against text no database keeps.

Pages load only the site's own scripts and styles (no inline code, no CDN). A view that shows
map tiles widens ``img-src`` for its own response with ``allow_images_from()``.
"""
import re

from flask import abort, g, render_template, request, session
from flask_babel import gettext as _

POLICY = (
    "default-src 'self'; img-src 'self' data:{extra_images}; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def allow_images_from(*origins: str):
    g.csp_extra_images = [*g.get("csp_extra_images", []), *origins]


def content_security_policy() -> str:
    extra = "".join(f" {origin}" for origin in g.get("csp_extra_images", []))
    return POLICY.format(extra_images=extra)


# NUL (PostgreSQL refuses it in text) and lone surrogates (JSON "\ud800": not encodable as UTF-8).
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _texts(multidict):
    for key, values in multidict.lists():
        yield from _strings(key)
        yield from _strings(values)


def _body_texts():
    if request.mimetype != "application/json":
        yield from _texts(request.form)
    if request.mimetype == "application/json" or (request.path.startswith("/api/")
                                                  and not request.mimetype.startswith("multipart/")):
        yield from _strings(request.get_json(force=True, silent=True))


def _unstorable(texts) -> bool:
    return any(UNSTORABLE.search(text) for text in texts if text)


def refuse_unstorable_text():
    """Such characters are never typed by a person: refuse the request before a view stores or looks
    them up, instead of a server error when the database meets them. In the query string they name
    nothing (404, like any other bad id or filter); in a form or JSON body the answer says why (400)."""
    if _unstorable(_texts(request.args)):
        abort(404)
    if not _unstorable(_body_texts()):
        return None
    message = _("The text contains characters that cannot be saved (a NUL character or a broken "
                "Unicode character). Remove them and try again.")
    from .api.errors import error_response, is_api_request

    if is_api_request():
        return error_response(400, "invalid_text", message)
    return render_template("errors/error.html", status=400, message=message), 400


def configure_security_headers(app):
    app.before_request(refuse_unstorable_text)

    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("HSTS_MAX_AGE"):
            response.headers.setdefault("Strict-Transport-Security", f"max-age={int(app.config['HSTS_MAX_AGE'])}")
        if is_private(response):
            response.headers["Cache-Control"] = "no-store"
        return response


def is_private(response) -> bool:
    """A response to a logged-in user (session or API token) that no cache may keep: the browser's
    disk on a shared office computer, or a proxy. Static files, and responses whose view chose a
    private policy itself (evidence thumbnails are revalidated on every use), keep theirs."""
    if request.endpoint == "static" or "no-store" in response.headers.get("Cache-Control", ""):
        return False
    if "no-cache" in response.headers.get("Cache-Control", "") and "private" in response.headers["Cache-Control"]:
        return False
    return bool(session.get("_user_id") or g.get("api_user") is not None)
