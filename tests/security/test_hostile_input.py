"""Hostile input gets a 4xx that says what is wrong, never a 500: numbers beyond the id columns in
URLs and query strings, JSON nested without end, concurrent edits of one record, a value the
database cannot hold, and the database lost in the middle of a request."""
import io
import json
import re

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from campaign.api import services as token_services
from campaign.inputs import MAX_JSON_DEPTH, nesting_depth
from campaign.water.models import WaterPoint
from campaign.timeutil import local_today
from tests.conftest import log_in
from tests.reporting.conftest import assignment_of, make_running_campaign
from tests.resilience.conftest import all_at_once
from tests.water.conftest import make_point

HUGE = ("2147483648", "9223372036854775807", "9223372036854775808", "1" + "0" * 40)
INTEGER_PARAMETERS = ("page", "per_page", "campaign", "task", "township", "village", "unit", "parent", "point",
                      "hazard", "user", "assignment", "before", "after", "count_page")
WATER_IMPORT_HEADER = ("village_code,name,kind,latitude,longitude,is_key,danger_level,has_permanent_sign,"
                       "sign_count,life_buoys,poles,ropes,has_fence,responsible_name,responsible_phone,notes")


def routes(app, *, with_ids):
    """(rule, methods) of every route of the app with (or without) an integer in its path."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        has_id = any(type(converter).__name__ == "IdConverter" for converter in rule._converters.values())
        if has_id == with_ids:
            yield rule, rule.methods - {"HEAD", "OPTIONS"}


@pytest.fixture
def token(db, users):
    _, clear = token_services.create_token(users.admin, "探测")
    db.session.commit()
    return clear


@pytest.mark.parametrize("number", HUGE)
def test_every_url_with_an_id_beyond_the_id_columns_is_a_404(app, db, as_admin, token, number):
    csrf = as_admin.csrf_token()
    answers = {}
    for rule, methods in routes(app, with_ids=True):
        url = re.sub(r"<int:\w+>", number, rule.rule)
        url = re.sub(r"<(?:\w+:)?\w+>", "csv", url)
        for method in methods:
            if url.startswith("/api/"):
                response = as_admin.open(url, method=method, headers={"Authorization": f"Bearer {token}"},
                                         json={})
            else:
                response = as_admin.open(url, method=method, data={"csrf_token": csrf})
            answers[f"{method} {url}"] = response.status_code
    assert answers and set(answers.values()) == {404}, answers


def test_the_urls_the_review_named_are_404(as_admin):
    assert as_admin.get("/reports/9223372036854775808").status_code == 404
    assert as_admin.get("/audit/?before=9223372036854775807").status_code == 404  # the trail pages by id now
    assert as_admin.get("/audit/?page=9223372036854775807").status_code == 200  # no longer a parameter
    assert as_admin.get("/water/patrols?village=2147483648").status_code == 404


def test_every_page_with_integer_filters_beyond_the_id_columns_answers_without_a_server_error(app, db, as_admin,
                                                                                              token):
    query = "q=村&" + "&".join(f"{name}=9223372036854775808" for name in INTEGER_PARAMETERS)
    answers = {}
    for rule, methods in routes(app, with_ids=False):
        if "GET" not in methods or "<" in rule.rule:
            continue
        headers = {"Authorization": f"Bearer {token}"} if rule.rule.startswith("/api/") else {}
        answers[rule.rule] = as_admin.get(f"{rule.rule}?{query}", headers=headers).status_code
    assert answers and all(status < 500 for status in answers.values()), answers
    assert answers["/audit/"] == answers["/water/patrols"] == answers["/units/"] == 404


def test_integers_within_range_still_work(as_admin, tree):
    assert as_admin.get("/audit/?page=1").status_code == 200
    assert as_admin.get(f"/water/patrols?village={tree.village_a1.id}").status_code == 200
    assert as_admin.get(f"/units/{tree.village_a1.id}").status_code == 200
    assert as_admin.get("/units/2147483647").status_code == 404


# --- JSON nested without end -----------------------------------------------------------------------

def test_nesting_depth_counts_lists_and_objects():
    assert nesting_depth("text") == 0
    assert nesting_depth({"note": "x", "tags": [1, 2]}) == 2
    assert nesting_depth([[[[]]]]) == 4


@pytest.fixture
def reporter_report(db, tree, users):
    """A village's running report and its reporter's token: an endpoint that reads a JSON body."""
    running = make_running_campaign(tree)
    report = assignment_of(running.signs, tree.village_a1)
    _, clear = token_services.create_token(users.village_reporter, "巡查手机")
    db.session.commit()
    return f"/api/v1/assignments/{report.id}/instalments", {"Authorization": f"Bearer {clear}"}


@pytest.mark.parametrize("body", [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    json.dumps(json.loads("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))),
])
def test_json_nested_deeper_than_the_limit_is_a_400_for_the_api(app, reporter_report, body):
    url, headers = reporter_report
    response = app.test_client().post(url, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_json_within_the_depth_limit_is_read(app, reporter_report):
    url, headers = reporter_report
    body = {"quantity": 1, "reported_on": str(local_today()),
            "extra": json.loads("[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1))}
    response = app.test_client().post(url, json=body, headers=headers)
    assert response.status_code == 201


# --- concurrent edits of one record ---------------------------------------------------------------

EDITORS = 40


def test_forty_simultaneous_edits_with_one_version_give_one_save_and_409s_only(app, db, tree, users):
    point = make_point(tree.village_a1, "夏禹桥村口池塘")
    db.session.commit()
    url = f"/water/{point.id}/edit"
    clients = [log_in(app.test_client(), "county_officer") for _ in range(EDITORS)]
    forms = [{"csrf_token": client.csrf_token(), "unit_id": tree.village_a1.id, "name": f"池塘{index:02d}",
              "kind": "pond", "danger_level": "high", "latitude": "30.2", "longitude": "119.7", "version": "1"}
             for index, client in enumerate(clients)]

    db.session.commit()  # the test holds no transaction (on SQLite, no write lock) while they run

    def edit(client, form):
        response = client.post(url, data=form)
        return response.status_code, response.get_data(as_text=True)

    results = all_at_once([lambda client=client, form=form: edit(client, form) for client, form in zip(clients, forms)])

    assert sorted(result[0] if isinstance(result, tuple) else repr(result) for result in results) == (
        [302] + [409] * (EDITORS - 1))
    assert all("其他人" in page for status, page in results if status == 409)
    db.session.expire_all()
    saved = db.session.get(WaterPoint, point.id)
    assert saved.version == 2 and saved.name.startswith("池塘")


def test_a_stale_write_anywhere_is_the_409_of_the_version_check(app, db, as_county_officer, tree, monkeypatch):
    from campaign.units import services as unit_services

    def raced(*args, **kwargs):
        raise StaleDataError("UPDATE statement on table 'unit' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(unit_services, "update_unit", raced)
    response = as_county_officer.post_form(f"/units/{tree.village_a1.id}/edit", {
        "name": "夏禹桥村", "kind": "village", "parent_id": tree.township_a.id, "code": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "其他人" in page and "StaleDataError" not in page


def test_a_value_the_database_cannot_hold_is_a_400_that_says_so(app, db, as_county_officer, tree, monkeypatch):
    from campaign.units import services as unit_services

    def overflow(*args, **kwargs):
        raise DataError("UPDATE unit SET households=…", {}, Exception("integer out of range"))

    monkeypatch.setattr(unit_services, "update_unit", overflow)
    response = as_county_officer.post_form(f"/units/{tree.village_a1.id}/edit", {
        "name": "夏禹桥村", "kind": "village", "parent_id": tree.township_a.id, "households": "99999999999"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "太大" in page and "integer out of range" not in page


# --- the database lost in the middle of a request -------------------------------------------------

def test_the_database_lost_during_a_water_import_gives_the_try_again_page(app, db, tree, as_county_officer):
    csv = "\n".join([WATER_IMPORT_HEADER,
                     f"{tree.village_a1.code},村口池塘,pond,30.2,119.7,是,high,否,0,1,1,1,否,张三,13800000000,",
                     ""]).encode()
    csrf = as_county_officer.csrf_token()

    gone = []

    def lost(connection, cursor, statement, parameters, context, executemany):
        """From the first water point written on, the database answers nothing (it restarted)."""
        if statement.lstrip().upper().startswith("INSERT INTO WATER_POINT"):
            gone.append(True)
        if gone and not statement.lstrip().upper().startswith("ROLLBACK"):
            raise OperationalError(statement, parameters, Exception("server closed the connection unexpectedly"))

    event.listen(db.engine, "before_cursor_execute", lost)
    try:
        response = as_county_officer.post("/water/import", data={"csrf_token": csrf, "file": (io.BytesIO(csv), "水域.csv")}, content_type="multipart/form-data")
    finally:
        event.remove(db.engine, "before_cursor_execute", lost)

    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:500]
    assert "请稍后重试" in page and "Internal Server Error" not in page and "server closed" not in page
    assert db.session.scalar(select(func.count(WaterPoint.id))) == 0


@pytest.mark.parametrize("url", ["/", "/water/", "/water/hazards", "/water/patrols", "/water/map", "/units/",
                                 "/reports/", "/audit/", "/campaigns/", "/users/", "/account/tokens/"])
def test_the_database_lost_after_the_user_was_loaded_gives_the_try_again_page_anywhere(db, as_county_officer, url):
    """The first statement (loading the user) succeeds; every later one fails, as when PostgreSQL restarts
    in the middle of a request."""
    statements = []

    def lost_after_the_first(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        if len(statements) > 1 and not statement.lstrip().upper().startswith(("ROLLBACK", "BEGIN")):
            raise OperationalError(statement, parameters, Exception("terminating connection due to administrator"))

    event.listen(db.engine, "before_cursor_execute", lost_after_the_first)
    try:
        response = as_county_officer.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", lost_after_the_first)

    page = response.get_data(as_text=True)
    assert response.status_code == 503, (url, response.status_code)
    assert "请稍后重试" in page and "Internal Server Error" not in page and "terminating" not in page


def test_a_count_beyond_any_database_integer_in_a_form_is_a_400_not_a_server_error(db, as_county_officer, tree):
    response = as_county_officer.post_form("/water/new", {
        "unit_id": tree.village_a1.id, "name": "村口池塘", "kind": "pond", "danger_level": "high",
        "latitude": "30.2", "longitude": "119.7", "sign_count": "99999999999999999999"})
    assert response.status_code == 400
    assert "太大" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(WaterPoint.id))) == 0
