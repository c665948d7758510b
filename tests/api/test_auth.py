"""Token authentication: only a valid bearer token of an active user opens the API; the session
cookie never does (the API is exempt from CSRF, so a cookie must not be enough)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.api.models import ApiToken
from campaign.api.services import hash_token
from campaign.campaigns.models import Assignment
from campaign.database import utcnow
from tests.api.conftest import API, ApiClient, error_of, make_token

ENDPOINTS = [
    ("GET", "/me"),
    ("GET", "/assignments"),
    ("GET", "/assignments/1"),
    ("POST", "/assignments/1/instalments"),
    ("PUT", "/assignments/1/report"),
    ("POST", "/assignments/1/report"),
    ("POST", "/assignments/1/submit"),
    ("POST", "/assignments/1/evidence"),
    ("DELETE", "/assignments/1/evidence/1"),
    ("POST", "/assignments/1/approve"),
    ("POST", "/assignments/1/return"),
    ("GET", "/evidence/1"),
    ("GET", "/evidence/1/thumbnail"),
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/1"),
]


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_every_endpoint_refuses_a_request_without_a_token(client, method, path):
    response = client.open(API + path, method=method, json={})
    error = error_of(response, 401)
    assert error["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_a_logged_in_browser_session_alone_is_not_authenticated(as_village_reporter, method, path):
    response = as_village_reporter.open(API + path, method=method, json={})
    assert error_of(response, 401)["code"] == "unauthorized"


def test_a_cross_site_post_with_the_session_cookie_changes_nothing(as_village_reporter, db, running):
    report = running.signs_a1
    response = as_village_reporter.post(f"{API}/assignments/{report.id}/report",
                                        json={"expected_version": 1, "note": "伪造的请求"})
    assert response.status_code == 401
    db.session.expire_all()
    assert db.session.get(Assignment, report.id).note == ""


@pytest.mark.parametrize("header", [
    "Basic dmlsbGFnZV9yZXBvcnRlcjpQYXNzdzByZDEyMw==",
    "Bearer",
    "Bearer ",
    "Token cd_abc",
])
def test_other_schemes_and_empty_bearer_headers_are_refused(client, users, header):
    response = client.get(f"{API}/me", headers={"Authorization": header})
    assert error_of(response, 401)["code"] in {"unauthorized", "invalid_token"}


@pytest.mark.parametrize("token", ["cd_not-a-real-token", "something-else", "cd_" + "x" * 500])
def test_an_unknown_token_is_refused(client, users, token):
    response = client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    error = error_of(response, 401)
    assert error["code"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_valid_token_authenticates_its_user(api, users):
    response = api("village_reporter").get("/me")
    assert response.status_code == 200
    me = response.get_json()
    assert me["username"] == "village_reporter"
    assert me["unit"]["name"] == "夏禹桥村委会"
    assert "assignments.report" in me["permissions"] and "assignments.review" not in me["permissions"]


def test_the_scheme_name_is_case_insensitive(app, db, users):
    token = make_token(db, users.viewer)
    response = app.test_client().get(f"{API}/me", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_a_revoked_token_is_refused(app, db, api, users):
    client = api("township_officer")
    assert client.get("/me").status_code == 200
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(client.token)))
    row.revoked_at = utcnow()
    db.session.commit()
    assert error_of(client.get("/me"), 401)["code"] == "invalid_token"


def test_the_token_of_a_deactivated_user_is_refused(db, api, users):
    client = api("school_reporter")
    assert client.get("/me").status_code == 200
    users.school_reporter.active = False
    db.session.commit()
    assert error_of(client.get("/me"), 401)["code"] == "invalid_token"


def test_the_401_message_is_chinese_by_default_and_english_on_request(client, users):
    chinese = error_of(client.get(f"{API}/me"), 401)["message"]
    assert "令牌" in chinese
    english = error_of(client.get(f"{API}/me", headers={"Accept-Language": "en"}), 401)["message"]
    assert "Authorization: Bearer" in english and "token" in english


def last_used(db, token):
    db.session.expire_all()
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).last_used_at


def test_last_use_is_recorded_at_most_once_a_minute(app, db, users):
    token = make_token(db, users.inspector)
    client = ApiClient(app.test_client(), token)
    assert last_used(db, token) is None
    client.get("/me")
    first = last_used(db, token)
    assert first is not None
    client.get("/me")
    assert last_used(db, token) == first

    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    row.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    client.get("/me")
    assert last_used(db, token) > first - timedelta(minutes=2)
