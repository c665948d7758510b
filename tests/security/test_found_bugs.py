"""The bugs the probes of this folder found, each pinned by one plain example."""
import io
import json
import os

import pytest
from jinja2 import Template
from sqlalchemy import func, select

from campaign.water.maps import js_json
from campaign.water.models import WaterPoint
from tests.conftest import log_in
from tests.security.conftest import build_world, get_routes, url_of
from tests.water.conftest import make_point

UNSTORABLE_MESSAGE = "内容中含有无法保存的字符"


@pytest.mark.parametrize("value", ["{{7*7}}", "{{cycler.__init__.__globals__.os.getpid()}}", "{%raw%}", "{#x#}",
                                   "{{{", "\\{{", "}}{{", "{", "a{b}c"])
def test_map_data_survives_the_second_jinja_pass_of_branca_unchanged(value):
    """branca renders each script again as a template: a point's name must reach the browser as typed,
    never run on the server (it was remote code execution: any user who may edit water points)."""
    encoded = js_json({"name": value})
    assert Template(encoded).render() == encoded
    assert json.loads(encoded) == {"name": value}


def test_a_point_named_like_a_template_is_not_evaluated_in_the_map_script(app, db, tree, users):
    make_point(tree.village_a1, name="{{cycler.__init__.__globals__.os.getpid()}}")
    db.session.commit()
    script = log_in(app.test_client(), "admin").get("/water/map.js").get_data(as_text=True)
    assert "\\u007b{cycler.__init__.__globals__.os.getpid()}}" in script
    assert f'"{os.getpid()}"' not in script


def test_a_nul_character_in_a_form_is_refused_with_a_message(db, place):
    client, token, assignment_id, _headers, _running = place
    response = client.post(f"/reports/{assignment_id}", data={"csrf_token": token, "note": "a\x00b", "version": "2"})
    assert response.status_code == 400
    assert UNSTORABLE_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("note", ["\ud800", "a\x00"])
def test_a_lone_surrogate_or_nul_in_api_json_is_refused(db, place, note):
    client, _token, assignment_id, headers, running = place
    body = json.dumps({"quantity": 1, "reported_on": running.campaign.start_date.isoformat(), "note": note})
    response = client.post(f"/api/v1/assignments/{assignment_id}/instalments", data=body, headers=headers,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_text"


def test_a_number_too_large_for_a_float_is_a_form_error(db, place):
    client, token, assignment_id, _headers, running = place
    response = client.post(f"/reports/{assignment_id}/instalments", data={
        "csrf_token": token, "quantity": "1" * 400, "reported_on": running.campaign.start_date.isoformat()})
    assert response.status_code == 200
    assert "has-error" in response.get_data(as_text=True)


def test_a_nul_character_in_an_imported_csv_is_dropped(db, import_client):
    client, token = import_client
    data = ("village_code,name,kind,latitude,longitude\n330112002235,村口\x00池塘,pond,30.24,119.71\n"
            "\x00,x,pond,30.2,119.7\n").encode()
    response = client.post("/water/import", data={"csrf_token": token, "file": (io.BytesIO(data), "p.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(WaterPoint)) == 0  # the second row is wrong
    good = "village_code,name,kind,latitude,longitude\n330112002235,村口\x00池塘,pond,30.24,119.71\n".encode()
    client.post("/water/import", data={"csrf_token": token, "file": (io.BytesIO(good), "p.csv")},
                content_type="multipart/form-data")
    assert db.session.scalar(select(WaterPoint.name)) == "村口池塘"


def test_a_multipart_part_without_a_name_is_refused_not_a_crash(db, import_client):
    client, token = import_client
    body = (b"--B\r\nContent-Disposition: form-data\r\n\r\nstray\r\n"
            b"--B\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode() + b"\r\n--B--\r\n")
    response = client.post("/water/import", data=body, content_type="multipart/form-data; boundary=B")
    assert response.status_code == 400


def test_a_stored_jpeg_is_downloaded_under_a_jpeg_name():
    from campaign.evidence.services import named_as_stored

    assert named_as_stored("evil.html", "jpg") == "evil.jpg"
    assert named_as_stored("photo.JPEG", "jpg") == "photo.JPEG"
    assert named_as_stored("标牌.jpg", "jpg") == "标牌.jpg"
    assert named_as_stored("plan", "pdf") == "plan.pdf"
    assert named_as_stored(".svg", "png") == "file.png"


FILTER_NAMES = ("q", "status", "role", "sort", "next", "form", "group", "action", "entity_type", "username",
                "entity_id", "campaign", "task", "township", "unit", "page", "village", "start", "end")


KNOWN_CRASHES = [("/users/", "q"), ("/units/", "q"), ("/water/", "q"), ("/water/patrols", "q"),
                 ("/water/export.csv", "q"), ("/audit/", "entity_type"), ("/audit/", "username"),
                 ("/audit/", "entity_id")]


def test_a_nul_character_in_a_filter_names_nothing(app, db, tree, users):
    """A NUL in ?q= reached PostgreSQL's LIKE (a server error) on the pages in KNOWN_CRASHES; now every
    page answers 404, as for any other bad filter."""
    world = build_world(tree, users, lambda field: "文本")
    client = log_in(app.test_client(), "admin")
    for url, name in KNOWN_CRASHES:
        assert client.get(url, query_string={name: "a\x00b"}).status_code == 404, (url, name)
    for rule in get_routes(app):
        url = url_of(rule, world.ids)
        response = client.get(url, query_string={name: "a\x00b" for name in FILTER_NAMES})
        assert response.status_code == 404, (url, response.status_code)
