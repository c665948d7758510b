"""Security headers on every kind of response, and pages that need nothing the policy forbids:
no inline script or style, no event-handler attributes, no asset from another host."""
import re

import pytest

from campaign.water import maps
from tests.conftest import log_in
from tests.security.conftest import build_world, extra_urls, get_routes, url_of

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
ASSET = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"([^\"]*)\"", re.IGNORECASE)
TILE_PAGES = ("/water/map", "/water/new", "/water/<int:point_id>/edit")


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    assert header, "no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def tile_origins(app) -> list[str]:
    with app.app_context():
        return maps.tile_settings(app.config).origins()


def check_headers(app, url, response, tiles_allowed=False):
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("Referrer-Policy") in ("same-origin", "strict-origin", "no-referrer",
                                                       "strict-origin-when-cross-origin"), url
    assert response.headers.get("X-Frame-Options") == "DENY", url
    directives = policy(response)
    assert directives["frame-ancestors"] == ["'none'"], url
    assert directives["default-src"] == ["'self'"], url
    assert directives["script-src"] == ["'self'"], url
    assert directives["style-src"] == ["'self'"], url
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"], url
    everything = " ".join(value for values in directives.values() for value in values)
    assert "'unsafe-inline'" not in everything and "'unsafe-eval'" not in everything and "*" not in everything
    extra_images = set(directives["img-src"]) - {"'self'", "data:"}
    if tiles_allowed:
        assert extra_images == set(tile_origins(app)), url
    else:
        assert extra_images == set(), url


def check_page_needs_nothing_forbidden(url, body):
    assert not INLINE_SCRIPT.search(body), f"{url}: an inline <script>"
    assert not EVENT_HANDLER.search(body), f"{url}: an on…= attribute"
    assert not STYLE_ATTRIBUTE.search(body), f"{url}: a style= attribute"
    for asset in ASSET.findall(body):
        assert asset.startswith("/") and not asset.startswith("//"), f"{url}: asset from elsewhere: {asset}"


@pytest.fixture
def world(app, db, tree, users):
    return build_world(tree, users, lambda field: f"文本 {field}")


@pytest.mark.parametrize("role", ["admin", "village_reporter"])
def test_every_page_and_download_carries_the_headers(app, world, role):
    client = log_in(app.test_client(), role)
    kinds = set()
    tile_urls = {url_of(rule, world.ids) for rule in get_routes(app) if rule.rule in TILE_PAGES}
    urls = [url_of(rule, world.ids) for rule in get_routes(app) if not rule.rule.startswith("/api/")]
    for url in [*urls, *extra_urls(world)]:
        response = client.get(url)
        path = url.split("?")[0]
        check_headers(app, url, response, tiles_allowed=path in tile_urls and response.status_code == 200)
        kinds.add(response.mimetype)
        if response.mimetype == "text/html" and response.status_code == 200:
            check_page_needs_nothing_forbidden(url, response.get_data(as_text=True))
    if role == "admin":
        assert {"text/html", "text/javascript", "text/csv", "image/jpeg",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= kinds


def test_the_map_page_allows_only_the_tile_host(app, world):
    client = log_in(app.test_client(), "admin")
    response = client.get("/water/map")
    assert response.status_code == 200
    check_headers(app, "/water/map", response, tiles_allowed=True)
    assert tile_origins(app) == ["https://tile.openstreetmap.org"]
    body = response.get_data(as_text=True)
    check_page_needs_nothing_forbidden("/water/map", body)
    script = client.get(f"/water/map.js?unit={world.ids['unit_id']}")
    check_headers(app, "/water/map.js", script)
    assert script.mimetype == "text/javascript"
    assert not re.search(r"https?://(?!tile\.openstreetmap\.org)[a-z0-9.-]+\.(?:com|org|net|io|cn)/",
                         script.get_data(as_text=True)), "the map script names another host"


def test_api_responses_carry_the_headers(app, world, users, db):
    from campaign.api.services import create_token

    _token, clear = create_token(users.village_reporter, "headers")
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {clear}"}
    for url in ("/api/v1/me", "/api/v1/assignments", f"/api/v1/assignments/{world.ids['assignment_id']}",
                f"/api/v1/evidence/{world.ids['evidence_id']}", "/api/v1/assignments/999999"):
        response = client.get(url, headers=headers)
        check_headers(app, url, response)
    unauthenticated = client.get("/api/v1/me")
    assert unauthenticated.status_code == 401 and unauthenticated.mimetype == "application/json"
    check_headers(app, "/api/v1/me", unauthenticated)


def test_anonymous_pages_errors_and_static_files_carry_the_headers(app, client):
    for url in ("/login", "/healthz", "/no-such-page", "/static/css/app.css"):
        check_headers(app, url, client.get(url))
