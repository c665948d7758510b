"""Served for slow phones: static URLs that never change content are cached for a year, text is
compressed, the icon is there, a too-large upload is told its limit, the proxy is believed exactly."""
import gzip
import hashlib
import io
import os
import re
from pathlib import Path

import pytest
from flask import request, url_for

from campaign import create_app
from campaign.serving import IMMUTABLE

STATIC = Path(__file__).resolve().parent.parent / "static"
STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def static_urls(page: str) -> list[str]:
    return [url.replace("&amp;", "&") for url in STATIC_URL.findall(page)]


def test_every_static_url_on_a_page_carries_the_files_content_hash(as_village_reporter):
    urls = static_urls(as_village_reporter.get("/").get_data(as_text=True))
    assert "/static/css/app.css" in {url.split("?")[0] for url in urls}
    for url in urls:
        path, version = url.split("?v=")
        expected = hashlib.sha256((STATIC / path.removeprefix("/static/")).read_bytes()).hexdigest()[:12]
        assert version == expected


def test_a_versioned_static_file_is_cached_for_a_year_and_any_other_is_revalidated(client):
    css = (STATIC / "css/app.css").read_bytes()
    version = hashlib.sha256(css).hexdigest()[:12]
    versioned = client.get(f"/static/css/app.css?v={version}")
    assert versioned.status_code == 200 and versioned.data == css
    assert versioned.headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    for url in ("/static/css/app.css", "/static/css/app.css?v=0123456789ab"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
        assert response.headers.get("ETag")


def test_a_changed_file_gets_a_new_url(app, tmp_path):
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "x.css").write_text("a{}")
    app.extensions["static_versions"].folder = str(folder)
    try:
        with app.test_request_context():
            first = url_for("static", filename="x.css")
            (folder / "x.css").write_text("b{}")
            os.utime(folder / "x.css", ns=(1, 1))  # a new modification time, however coarse the clock
            assert url_for("static", filename="x.css") != first
    finally:
        app.extensions["static_versions"].folder = str(STATIC)


@pytest.mark.parametrize("path", ["/static/css/app.css", "/static/vendor/leaflet/leaflet.js", "/login"])
def test_text_is_sent_gzipped_to_a_browser_that_accepts_it(client, path):
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 2
    assert gzip.decompress(packed.data) == plain.data


def test_brotli_is_preferred_where_the_browser_offers_it(client):
    response = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"


def test_images_are_not_compressed_again(client):
    response = client.get("/favicon.ico", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


def test_the_favicon_is_an_icon_at_the_root_and_an_svg_in_static(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"
    assert "max-age=604800" in icon.headers["Cache-Control"]
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r'<link rel="icon" href="/static/favicon.svg\?v=\w+" type="image/svg\+xml">', page)
    assert client.get("/static/favicon.svg").mimetype == "image/svg+xml"


# --- 413 -----------------------------------------------------------------------------------------

def too_large_post(client, path, headers=None):
    body = io.BytesIO(b"x" * (client.application.config["MAX_CONTENT_LENGTH"] + 1))
    return client.post(path, data={"photos": (body, "IMG_0001.jpg")}, content_type="multipart/form-data",
                       headers=headers or {})


def test_a_too_large_upload_answers_a_chinese_page_naming_the_limit_and_the_way_back(as_village_reporter):
    response = too_large_post(as_village_reporter, "/reports/1/evidence",
                              headers={"Referer": "http://localhost/reports/1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "一次发送的内容太大：每次最多 20 MB。本次没有保存任何内容。" in page
    assert 'href="http://localhost/reports/1"' in page and "返回填报页面" in page


def test_a_too_large_upload_from_a_script_answers_json(as_village_reporter):
    response = too_large_post(as_village_reporter, "/reports/1/evidence", headers={"Accept": "application/json"})
    assert response.status_code == 413
    assert response.get_json() == {"ok": False, "limit_mb": 20,
                                    "message": "一次发送的内容太大：每次最多 20 MB。本次没有保存任何内容。"
                                               "请返回，把照片分几次上传，或选择小一些的照片。"}


def test_the_back_link_never_leads_to_another_site(as_village_reporter):
    response = too_large_post(as_village_reporter, "/reports/1/evidence", headers={"Referer": "https://evil.example/"})
    assert "evil.example" not in response.get_data(as_text=True)


def test_nginxs_too_large_page_is_the_apps(client):
    response = client.get("/errors/too-large")
    assert response.status_code == 413 and "每次最多 20 MB" in response.get_data(as_text=True)


def test_the_api_keeps_its_own_error_shape_for_a_too_large_body(client):
    response = too_large_post(client, "/api/v1/assignments/1/evidence", headers={"Authorization": "Bearer x"})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] in ("too_large", "request_too_large", "payload_too_large")


# --- behind a proxy --------------------------------------------------------------------------------

def proxied_app(tmp_path, count):
    return create_app({"ENV_NAME": "testing", "PROXY_COUNT": count,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'proxy.sqlite3'}"})


def seen_by(app, headers):
    seen = {}

    @app.get("/_seen")
    def _seen():
        seen.update(address=request.remote_addr, scheme=request.scheme, host=request.host)
        return ""

    app.test_client().get("/_seen", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    return seen


FORWARDED = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "desk.example.gov.cn"}


def test_behind_one_proxy_the_phones_address_and_https_are_seen(tmp_path):
    seen = seen_by(proxied_app(tmp_path, 1), FORWARDED)
    assert seen == {"address": "203.0.113.7", "scheme": "https", "host": "desk.example.gov.cn"}


def test_without_a_proxy_forwarded_headers_are_not_believed(tmp_path):
    seen = seen_by(proxied_app(tmp_path, 0), FORWARDED)
    assert seen == {"address": "127.0.0.1", "scheme": "http", "host": "localhost"}
