"""Stored XSS: hostile strings in every user-typed field, rendered on every page and export of the
url_map (with the ids of the objects that hold them) for the users who see them.

Every field gets the probe followed by its own tag (``X07``), so the walk can tell that each field
was shown somewhere, escaped, and never raw.
"""
import json
import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import escape
from sqlalchemy import select

from campaign.accounts.models import User
from campaign.api.services import create_token
from campaign.extensions import db
from tests.conftest import log_in
from tests.security.conftest import (
    STORED_FIELDS,
    build_world,
    extra_urls,
    get_routes,
    url_of,
)

PAYLOADS = {
    "script": '<script>alert(1)</script>"><svg onload=alert(1)>',
    "handler": "<img src=x onerror=alert(1)>Q{{7*7}}Q${alert(1)}",
    "js-url": "javascript:alert(1)`\\`${1}\\'\\\"</textarea><b id=probe>",
}
RAW_MARKUP = ("<script>alert(1)", "<svg onload", "<img src=x onerror", "<b id=probe")
JAVASCRIPT_URL = re.compile(r"""\s(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
WALKERS = ("admin", "township_officer", "village_reporter")

def tag(field: str) -> str:
    return f"X{STORED_FIELDS.index(field):02d}"


def text_for(payload):
    return lambda field: f"{payload}{tag(field)}"


def escaped(text: str) -> str:
    return str(escape(text))


def check_html(url, body):
    for raw in RAW_MARKUP:
        assert raw not in body, f"{url}: raw {raw!r} in the page"
    assert "Q49Q" not in body, f"{url}: a template evaluated {{{{7*7}}}}"
    assert not JAVASCRIPT_URL.search(body), f"{url}: a javascript: URL in an attribute"


def check_script(url, body):
    """map.js: the data is JSON with <, >, & and ' as \\u escapes, never raw markup."""
    for raw in RAW_MARKUP:
        assert raw not in body, f"{url}: raw {raw!r} in the script"
    assert "Q49Q" not in body


def shown_tags(text: str) -> set[str]:
    return set(re.findall(r"X\d\d", text))


@pytest.fixture(params=list(PAYLOADS), ids=list(PAYLOADS))
def probed(request, app, db, tree, users):
    payload = PAYLOADS[request.param]
    world = build_world(tree, users, text_for(payload))
    return payload, world


def walk(app, role, world):
    """(url, response) for every GET route and extra URL, as ``role``."""
    client = log_in(app.test_client(), role)
    urls = [url_of(rule, world.ids) for rule in get_routes(app) if not rule.rule.startswith("/api/")]
    for url in [*urls, *extra_urls(world)]:
        yield url, client.get(url)


def test_no_page_or_export_shows_a_probe_raw(app, probed):
    payload, world = probed
    escaped_payload = escaped(payload)
    seen = set()
    for role in WALKERS:
        for url, response in walk(app, role, world):
            assert response.status_code < 500, (role, url, response.status_code)
            if response.status_code != 200:
                continue
            mimetype = response.mimetype
            body = response.get_data(as_text=mimetype.startswith(("text/", "application/json", "application/geo")))
            if mimetype == "text/html":
                check_html(url, body)
                for found in re.findall(re.escape(escaped_payload) + r"(X\d\d)", body):
                    seen.add(found)
            elif mimetype == "text/javascript":
                check_script(url, body)
                seen |= _tags_in_map_script(body, payload)
            elif mimetype == "application/geo+json":
                names = [feature["properties"]["name"] for feature in json.loads(body)["features"]]
                seen |= {found for name in names for found in re.findall(re.escape(payload) + r"(X\d\d)", name)}
            elif mimetype == "application/vnd.google-earth.kml+xml":
                seen |= _tags_in_kml(response.data, payload)
            else:
                assert mimetype not in ("text/html", "image/svg+xml", "application/xhtml+xml"), url
    expected = {tag(field) for field in STORED_FIELDS}
    missing = sorted(field for field in STORED_FIELDS if tag(field) not in seen)
    assert missing == [], f"fields never shown escaped anywhere: {missing}"
    assert seen <= expected


def _tags_in_map_script(body, payload):
    encoded = json.dumps(payload, ensure_ascii=False)[1:-1]
    for char, code in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("'", "\\u0027")):
        encoded = encoded.replace(char, code)
    return set(re.findall(re.escape(encoded) + r"(X\d\d)", body))


def _tags_in_kml(data, payload):
    root = ET.fromstring(data)  # well-formed: every typed text was escaped for XML
    names = [element.text or "" for element in root.iter() if element.tag.endswith("}name")]
    descriptions = [element.text or "" for element in root.iter() if element.tag.endswith("}description")]
    for text in descriptions:
        assert "<script" not in text and "<img" not in text and "<svg" not in text, (
            "a KML description is HTML in Google Earth: typed text must be HTML-escaped there")
    return {found for name in names for found in re.findall(re.escape(payload) + r"(X\d\d)", name)}


def test_reflected_query_strings_are_escaped(app, probed):
    """The same probes in the query string of every page (search boxes, filters, sort keys)."""
    payload, world = probed
    client = log_in(app.test_client(), "admin")
    query = {name: payload for name in ("q", "status", "role", "sort", "next", "form", "group", "action",
                                        "entity_type", "username", "campaign", "task", "township", "unit")}
    for rule in get_routes(app):
        if rule.rule.startswith("/api/"):
            continue
        url = url_of(rule, world.ids)
        response = client.get(url, query_string=query)
        assert response.status_code < 500, (url, response.status_code)
        if response.mimetype == "text/html":
            check_html(url, response.get_data(as_text=True))


def test_the_api_returns_probes_as_json_strings(app, probed):
    """The API returns the stored text as it was typed, in JSON that browsers will not sniff as HTML."""
    payload, world = probed
    client = app.test_client()
    reporter = db.session.scalar(select(User).where(User.username == "village_reporter"))
    _token, clear = create_token(reporter, "probe")
    db.session.commit()
    headers = {"Authorization": f"Bearer {clear}"}
    response = client.get(f"/api/v1/assignments/{world.ids['assignment_id']}", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_json()["note"] == payload + tag("report.note")
