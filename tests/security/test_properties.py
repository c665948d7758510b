"""Property-based: whatever a reporter or a program sends to the report, instalment, water point and
water import routes — odd unicode, huge or negative numbers, impossible dates, broken multipart —
the answer is a clear refusal (4xx or the form again with its message) or a correct result, never a 500."""
import io
import json
import re
from datetime import date
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from campaign.campaigns.models import Assignment, Instalment
from campaign.security import UNSTORABLE
from campaign.water.models import WaterPoint
from tests.conftest import CSRF_PATTERN, log_in

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

ODD = ["\u200f", "\u202e", "\u200b", "\ufeff", "\u2028", "\x00", "\ud800", "\udfff", "é", "玲珑", "👩‍🚒",
       "<script>", "{{7*7}}", "'; DROP TABLE unit;--", "\\", "%s", "%(x)s", "\r\n"]
texts = st.one_of(
    st.text(alphabet=st.characters(codec=None), max_size=80),  # surrogates included
    st.lists(st.sampled_from(ODD), max_size=12).map("".join),
    st.text(max_size=5).map(lambda text: text * 1500),  # over the length limits
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 10**30, -(10**30), 2**31, 2**31 - 1, 2**63, 999_999]),
)
number_texts = st.one_of(numbers.map(str), st.sampled_from(["", " ", "1e309", "NaN", "inf", "１２", "3.5", "٣",
                                                            "0x10", "1_000", "-0", "+5"]), texts)
dates = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["2026-02-30", "2025-02-29", "0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01",
                     "2026-13-01", "2026-1-5", "2026/01/05", "", "yesterday", "2026-01-05T00:00"]),
    texts,
)


def encode_form(fields: dict) -> bytes:
    """An urlencoded body; lone surrogates go out as the bytes a broken client would send."""
    return "&".join(
        f"{quote(name)}={quote(str(value).encode('utf-8', 'surrogatepass'))}" for name, value in fields.items()
    ).encode("ascii")


def post_raw_form(client, url, token, fields):
    return client.post(url, data=encode_form({"csrf_token": token, **fields}),
                       content_type="application/x-www-form-urlencoded")


def is_clear_refusal(response) -> bool:
    body = response.get_data(as_text=True)
    if response.status_code == 200 and response.mimetype == "text/html":
        return "flash-error" in body or "has-error" in body or 'class="error"' in body
    if 400 <= response.status_code < 500:
        if response.mimetype == "application/json":
            return bool(response.get_json()["error"]["message"])
        return "<h1" in body
    return False


def reset_assignment(db, assignment_id):
    db.session.rollback()
    db.session.execute(delete(Instalment).where(Instalment.assignment_id == assignment_id))
    assignment = db.session.get(Assignment, assignment_id)
    db.session.refresh(assignment)
    assignment.status = "draft"
    assignment.note = ""
    db.session.commit()


def current_version(db, assignment_id) -> int:
    db.session.expire_all()
    return db.session.get(Assignment, assignment_id).version


@SETTINGS
@given(note=texts, submit=st.booleans(), version=st.one_of(st.none(), number_texts))
def test_the_report_form(db, place, note, submit, version):
    client, token, assignment_id, _headers, _running = place
    try:
        fields = {"note": note, "version": current_version(db, assignment_id) if version is None else version}
        if submit:
            fields["submit"] = "1"
        response = post_raw_form(client, f"/reports/{assignment_id}", token, fields)
        assert response.status_code < 500
        if response.status_code == 302:
            db.session.expire_all()
            saved = db.session.get(Assignment, assignment_id).note
            assert not UNSTORABLE.search(saved)
            if not re.search(r"[\ud800-\udfff]", note):
                assert saved == note.strip()
        else:
            assert is_clear_refusal(response), response.get_data(as_text=True)[:300]
    finally:
        reset_assignment(db, assignment_id)


@SETTINGS
@given(quantity=number_texts, reported_on=dates, place_text=texts)
def test_the_instalment_form(db, place, quantity, reported_on, place_text):
    client, token, assignment_id, _headers, _running = place
    try:
        response = post_raw_form(client, f"/reports/{assignment_id}/instalments", token,
                                 {"quantity": quantity, "reported_on": reported_on, "place": place_text})
        assert response.status_code < 500
        if response.status_code == 302:
            db.session.expire_all()
            stored = db.session.scalar(select(Instalment).where(Instalment.assignment_id == assignment_id))
            assert 0 <= stored.quantity == int(quantity.strip())
            assert stored.reported_on == date.fromisoformat(reported_on)
        else:
            assert is_clear_refusal(response), response.get_data(as_text=True)[:300]
    finally:
        reset_assignment(db, assignment_id)


json_values = st.one_of(st.none(), st.booleans(), numbers, st.floats(allow_nan=False), texts,
                        st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                             max_size=2))


@SETTINGS
@given(quantity=st.one_of(numbers, json_values), reported_on=st.one_of(dates, json_values),
       note=st.one_of(texts, json_values), raw=st.one_of(st.none(), st.binary(max_size=60)))
def test_the_api_instalment_endpoint(db, place, quantity, reported_on, note, raw):
    client, _token, assignment_id, headers, _running = place
    try:
        if raw is None:
            body = json.dumps({"quantity": quantity, "reported_on": reported_on, "note": note}).encode()
        else:
            body = raw
        response = client.post(f"/api/v1/assignments/{assignment_id}/instalments", data=body, headers=headers,
                               content_type="application/json")
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        assert response.mimetype == "application/json"
        if response.status_code == 201:
            instalment = response.get_json()["instalment"]
            assert instalment["quantity"] == quantity and 0 <= quantity
            assert instalment["reported_on"] == reported_on
        else:
            assert 400 <= response.status_code < 500 and response.get_json()["error"]["message"]
    finally:
        reset_assignment(db, assignment_id)


@pytest.fixture
def water_client(app, db, tree, users):
    client = log_in(app.test_client(), "village_reporter")
    page = client.get("/water/new").get_data(as_text=True)
    return client, CSRF_PATTERN.search(page).group(1), tree.village_a1.id


def remove_points(db):
    db.session.rollback()
    db.session.execute(delete(WaterPoint))
    db.session.commit()


@SETTINGS
@given(name=texts, kind=st.one_of(st.sampled_from(["pond", "river", "lake", ""]), texts),
       latitude=number_texts, longitude=number_texts, count=number_texts, interval=number_texts,
       danger=st.sampled_from(["low", "high", "extreme", ""]), notes=texts, responsible=texts)
def test_the_water_point_form(db, water_client, name, kind, latitude, longitude, count, interval, danger, notes,
                              responsible):
    client, token, village_id = water_client
    try:
        response = post_raw_form(client, "/water/new", token, {
            "unit_id": village_id, "name": name, "kind": kind, "latitude": latitude, "longitude": longitude,
            "danger_level": danger, "sign_count": count, "life_buoys": count, "patrol_interval_days": interval,
            "responsible_name": responsible, "notes": notes,
        })
        assert response.status_code < 500
        if response.status_code == 302:
            db.session.expire_all()
            point = db.session.scalar(select(WaterPoint))
            assert point.name and -90 <= point.latitude <= 90 and -180 <= point.longitude <= 180
            assert 0 <= point.sign_count < 2**31
        else:
            assert is_clear_refusal(response), response.get_data(as_text=True)[:300]
    finally:
        remove_points(db)


HEADER = ("village_code,name,kind,latitude,longitude,is_key,danger_level,has_permanent_sign,sign_count,"
          "life_buoys,poles,ropes,has_fence,responsible_name,responsible_phone,notes")
rows = st.lists(
    st.lists(st.one_of(texts, number_texts, st.just("330112002235")), min_size=0, max_size=18).map(
        lambda cells: ",".join(json.dumps(cell, ensure_ascii=False) if "," in cell else cell for cell in cells)),
    max_size=6,
)


@SETTINGS
@given(lines=rows, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
       filename=st.sampled_from(["points.csv", "points.xlsx", "points.txt", "../../points.csv", ""]))
def test_the_water_import(db, import_client, lines, encoding, filename):
    client, token = import_client
    text = "\n".join([HEADER, *lines])
    data = text.encode(encoding, "surrogatepass") if encoding.startswith("utf-8") else text.encode(encoding, "replace")
    try:
        response = client.post("/water/import", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                               content_type="multipart/form-data")
        assert response.status_code < 500
        assert response.status_code == 200
    finally:
        remove_points(db)


@SETTINGS
@given(data=st.binary(max_size=600))
def test_the_water_import_with_arbitrary_bytes(db, import_client, data):
    client, token = import_client
    try:
        response = client.post("/water/import", data={"csrf_token": token, "file": (io.BytesIO(data), "x.xlsx")},
                               content_type="multipart/form-data")
        assert response.status_code == 200
    finally:
        remove_points(db)


def multipart(token: str, filename: str, payload: bytes, boundary="XyZ") -> bytes:
    return (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
        f"Content-Type: text/csv\r\n\r\n"
    ).encode() + payload + f"\r\n--{boundary}--\r\n".encode()


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=400), junk=st.binary(max_size=40),
       boundary=st.sampled_from(["XyZ", "other", "", "a" * 100, "\"XyZ\"", "XyZ; x=1"]))
def test_malformed_multipart_is_refused_cleanly(db, import_client, place, cut, junk, boundary):
    """A body cut short, with junk spliced in, or with the wrong boundary: refused or read, never a 500."""
    client, token = import_client
    report_client, report_token, assignment_id, _headers, _running = place
    body = multipart(token, "points.csv", f"{HEADER}\n330112002235,塘,pond,30.2,119.7".encode())
    body = body[:cut] + junk + body[cut:]
    try:
        for target, url in ((client, "/water/import"), (report_client, f"/reports/{assignment_id}/evidence")):
            response = target.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
            assert response.status_code < 500
            assert response.status_code in (200, 302, 400, 413)
    finally:
        remove_points(db)
        reset_assignment(db, assignment_id)
