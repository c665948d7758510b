"""Uploads: a file's name never decides where it lands, and its declared type never decides how it
is served. Through every upload route: the report form, the API and the water patrol form."""
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.api.services import create_token
from campaign.evidence.models import Evidence, StoredFile
from campaign.water.models import WaterPhoto
from tests.conftest import log_in
from tests.reporting.conftest import assignment_of, jpeg_bytes, make_running_campaign
from tests.water.conftest import make_point

STORED_NAME = re.compile(r"^(?:[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.(?:jpg|png|webp|pdf|docx|xlsx)"
                         r"|thumbs/[0-9a-f]{2}/[0-9a-f]{64}\.jpg)$")
TRAVERSAL_NAMES = [
    "../../etc/passwd",
    "../../../../../../tmp/evil.jpg",
    "..\\..\\win.ini",
    "..\\..\\..\\Windows\\System32\\evil.jpg",
    "/etc/passwd.jpg",
    "C:\\Windows\\win.ini.jpg",
    "\\\\server\\share\\evil.jpg",
    "photo.jpg\x00.html",
    "....//....//evil.jpg",
    "%2e%2e%2f%2e%2e%2fevil.jpg",
    "..",
    ".",
    "",
]
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b"<script>alert(1)</script></svg>")
DISGUISES = [
    (HTML, "photo.jpg", "image/jpeg"),
    (HTML, "photo.png", "image/png"),
    (HTML, "page.html", "image/png"),
    (SVG, "logo.png", "image/png"),
    (SVG, "logo.jpg", "image/jpeg"),
    (SVG, "logo.svg", "image/svg+xml"),
    (b"GIF89a" + HTML, "anim.jpg", "image/jpeg"),
]


@pytest.fixture
def targets(db, tree, users):
    running = make_running_campaign(tree)
    assignment = assignment_of(running.signs, tree.village_a1)
    point = make_point(tree.village_a1)
    _token, clear = create_token(users.village_reporter, "phone")
    db.session.commit()
    return assignment, point, {"Authorization": f"Bearer {clear}"}


def upload_report(client, assignment, data, name, content_type="image/jpeg"):
    return client.post_form(f"/reports/{assignment.id}/evidence",
                            {"photos": (io.BytesIO(data), name, content_type)},
                            content_type="multipart/form-data")


def upload_api(client, assignment, headers, data, name, content_type="image/jpeg"):
    return client.post(f"/api/v1/assignments/{assignment.id}/evidence",
                       data={"files": (io.BytesIO(data), name, content_type)},
                       headers=headers, content_type="multipart/form-data")


def upload_patrol(client, point, data, name, content_type="image/jpeg"):
    return client.post_form(f"/water/{point.id}/patrols/new", {
        "patrol_date": "2026-01-01", "patrol_time": "09:30", "patroller_name": "张三",
        "photos": (io.BytesIO(data), name, content_type),
    }, content_type="multipart/form-data")


def stored_files_are_all_under(folder: Path, tmp_root: Path):
    """Every file the test left anywhere under its temporary root is an upload under its hash."""
    files = [path for path in tmp_root.rglob("*") if path.is_file()]
    for path in files:
        resolved = path.resolve()
        assert resolved.is_relative_to(folder.resolve()), f"{path} is outside the upload folder"
        assert STORED_NAME.match(resolved.relative_to(folder.resolve()).as_posix()), path
    return files


def new_jpeg(seed: int) -> bytes:
    return jpeg_bytes(color=(seed % 256, (seed * 7) % 256, 90))


@pytest.mark.parametrize("name", TRAVERSAL_NAMES)
def test_a_path_in_a_file_name_never_leaves_the_upload_folder(app, db, targets, upload_dir, tmp_path, name):
    """Each route either stores the photo under its hash (the name kept for display only, cleaned)
    or refuses it with a message (the water form wants a photo's extension); never a 500."""
    assignment, point, headers = targets
    client = log_in(app.test_client(), "village_reporter")
    seed = TRAVERSAL_NAMES.index(name)
    report = upload_report(client, assignment, new_jpeg(seed), name)
    api = upload_api(client, assignment, headers, new_jpeg(seed + 100), name)
    patrol = upload_patrol(client, point, new_jpeg(seed + 200), name)
    assert report.status_code == 302
    assert api.status_code == 201 or (api.status_code == 400 and api.get_json()["error"]["message"])
    assert patrol.status_code == 302 or (patrol.status_code == 200 and "has-error" in patrol.get_data(as_text=True))
    if name.endswith(".jpg"):
        assert (api.status_code, patrol.status_code) == (201, 302)
    db.session.expire_all()
    stored = db.session.scalar(select(func.count()).select_from(StoredFile))
    assert len(stored_files_are_all_under(upload_dir, tmp_path)) == 2 * stored  # each photo and its thumbnail
    names = [*db.session.scalars(select(Evidence.original_name)), *db.session.scalars(select(WaterPhoto.original_name))]
    for kept in names:
        assert "/" not in kept and "\\" not in kept and "\x00" not in kept and not kept.startswith(".")
    for evidence_id in db.session.scalars(select(Evidence.id)):
        response = client.get(f"/files/evidence/{evidence_id}")
        assert response.status_code == 200
        filename = response.headers["Content-Disposition"].split("filename", 1)[1]
        assert not re.search(r"%2F|%5C|%00|/|\\|\r|\n|\x00", filename), filename


@pytest.mark.parametrize(("data", "name", "content_type"), DISGUISES,
                         ids=[f"{name}-as-{kind}" for _data, name, kind in DISGUISES])
def test_markup_disguised_as_an_image_is_refused_everywhere(app, db, targets, upload_dir, tmp_path, data, name,
                                                            content_type):
    assignment, point, headers = targets
    client = log_in(app.test_client(), "village_reporter")
    report = upload_report(client, assignment, data, name, content_type)
    assert report.status_code == 302
    page = client.get(report.headers["Location"]).get_data(as_text=True)
    assert "flash-error" in page
    api = upload_api(client, assignment, headers, data, name, content_type)
    assert 400 <= api.status_code < 500 and api.get_json()["error"]["message"]
    patrol = upload_patrol(client, point, data, name, content_type)
    assert patrol.status_code == 200 and "has-error" in patrol.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
    assert stored_files_are_all_under(upload_dir, tmp_path) == []


def polyglot() -> bytes:
    """A real JPEG with an HTML page after its end marker: Pillow reads it, a sniffing browser might not."""
    return jpeg_bytes() + b"\n" + HTML


@pytest.mark.parametrize("name", ["polyglot.jpg", "polyglot.html", "polyglot.svg"])
def test_a_jpeg_html_polyglot_is_only_ever_served_as_a_jpeg(app, db, targets, name):
    assignment, _point, headers = targets
    client = log_in(app.test_client(), "village_reporter")
    response = upload_api(client, assignment, headers, polyglot(), name, "text/html")
    assert response.status_code == 201, response.get_json()
    evidence_id = response.get_json()["evidence"][0]["id"]
    for url in (f"/files/evidence/{evidence_id}", f"/api/v1/evidence/{evidence_id}"):
        served = client.get(url, headers=headers if url.startswith("/api/") else None)
        assert served.status_code == 200
        assert served.headers["Content-Type"] == "image/jpeg"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "html" not in served.headers["Content-Type"]
        disposition = served.headers["Content-Disposition"]
        assert not re.search(r"\.(html?|svg|xhtml)\b", disposition, re.IGNORECASE), disposition
    thumbnail = client.get(f"/files/evidence/{evidence_id}/thumb")
    assert thumbnail.headers["Content-Type"] == "image/jpeg"
    assert HTML not in thumbnail.data
