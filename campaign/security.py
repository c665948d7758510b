"""Response security headers, one policy for the whole site.

Pages load only the site's own scripts and styles (no inline code, no CDN). A view that shows
map tiles widens ``img-src`` for its own response with ``allow_images_from()``.
"""
from flask import g

POLICY = (
    "default-src 'self'; img-src 'self' data:{extra_images}; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def allow_images_from(*origins: str):
    g.csp_extra_images = [*g.get("csp_extra_images", []), *origins]


def content_security_policy() -> str:
    extra = "".join(f" {origin}" for origin in g.get("csp_extra_images", []))
    return POLICY.format(extra_images=extra)


def configure_security_headers(app):
    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
