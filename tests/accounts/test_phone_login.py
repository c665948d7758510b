"""Logging in on a phone: the keyboard's capital letter, a login that lasts the campaign, and a
logout that still ends it for good."""
from datetime import datetime, time, timedelta, timezone
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campaign.accounts.models import LoginSession, User
from campaign.accounts.services import AccountError, create_user
from campaign.database import utcnow
from campaign.timeutil import local_to_utc, local_today
from tests import factories
from tests.accounts.conftest import csv_bytes
from tests.accounts.test_users_import import upload
from tests.accounts.test_users_manage import new_user_form
from tests.conftest import log_in
from tests.reporting.conftest import make_running_campaign


def session_cookie(response):
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        if "session" in cookie:
            return cookie["session"]
    return None


def cookie_expiry(morsel) -> datetime:
    return datetime.strptime(morsel["expires"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=timezone.utc)


def post_login(client, username, password=factories.DEFAULT_PASSWORD):
    return client.post_form("/login", {"username": username, "password": password})


def the_login(db) -> LoginSession:
    db.session.expire_all()
    return db.session.scalars(select(LoginSession).order_by(LoginSession.id.desc())).first()


# --- the capital letter a phone keyboard adds ------------------------------------------------------

@pytest.mark.parametrize("typed", ["Village", "VILLAGE", " village "])
def test_a_username_logs_in_whatever_its_capital_letters(app, tree, db, typed):
    factories.make_user(role="village_reporter", unit=tree.village_a1, username="village")
    db.session.commit()
    response = post_login(app.test_client(), typed)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_username_is_kept_as_it_was_typed_at_creation(app, tree, db):
    factories.make_user(role="village_reporter", unit=tree.village_a1, username="LiMing")
    db.session.commit()
    log_in(app.test_client(), "liming")
    assert db.session.scalar(select(User.username)) == "LiMing"


def test_a_wrong_password_with_another_capitalisation_still_counts_against_the_account(app, tree, db):
    factories.make_user(role="village_reporter", unit=tree.village_a1, username="village")
    db.session.commit()
    client = app.test_client()
    for typed in ("Village", "VILLAGE", "village", "vILLAGE", "ViLLaGe"):
        assert "用户名或密码错误" in post_login(client, typed, "wrong-password-1").get_data(as_text=True)
    assert "登录失败次数过多" in post_login(client, "village").get_data(as_text=True)


def test_the_login_field_does_not_capitalise_or_correct(client):
    page = client.get("/login").get_data(as_text=True)
    field = page.split('id="username"')[0].rsplit("<input", 1)[1] + page.split('id="username"')[1].split(">")[0]
    for attribute in ('autocapitalize="none"', 'autocomplete="username"', 'autocorrect="off"', 'spellcheck="false"'):
        assert attribute in field


# --- unique ignoring case ------------------------------------------------------------------------

def test_a_case_variant_of_an_existing_username_is_refused(tree, db):
    factories.make_user(role="village_reporter", unit=tree.village_a1, username="village")
    with pytest.raises(AccountError) as refused:
        create_user(username="Village", password="Passw0rd456", role="village_reporter", unit=tree.village_a2)
    assert refused.value.code == "username_taken_ignoring_case"
    assert refused.value.details == {"username": "Village", "existing": "village"}


def test_the_office_is_told_in_chinese_why_a_case_variant_is_refused(as_county_officer, users, tree, db):
    response = as_county_officer.post_form("/users/new", new_user_form(tree.village_a2, username="Village_Reporter"))
    page = response.get_data(as_text=True)
    assert "用户名 Village_Reporter 已被占用（已有用户名 village_reporter）：用户名不区分大小写。" in page
    assert db.session.scalar(select(func.count()).select_from(User).where(
        func.lower(User.username) == "village_reporter")) == 1


def test_an_import_refuses_a_case_variant_of_an_existing_user_and_within_the_file(as_admin, users, db):
    response = upload(as_admin, csv_bytes(
        "Village_Reporter,李明,village_reporter,330112002235,,",
        "wang,王芳,village_reporter,330112002236,,",
        "WANG,王芳,village_reporter,330112002236,,",
    ))
    page = response.get_data(as_text=True)
    assert "用户名 Village_Reporter 已被占用（已有用户名 village_reporter）" in page
    assert "用户名 WANG 在文件中重复出现（首次出现在第 3 行）" in page
    assert db.session.scalar(select(func.count()).select_from(User).where(func.lower(User.username) == "wang")) == 0


def test_the_database_itself_refuses_a_case_variant(tree, db):
    factories.make_user(role="village_reporter", unit=tree.village_a1, username="village")
    db.session.commit()
    db.session.add(User(username="VILLAGE", password_hash="x", role="village_reporter", unit=tree.village_a2))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- how long a login lasts ----------------------------------------------------------------------

def test_without_an_active_campaign_a_login_lasts_thirty_days_in_the_cookie_and_on_the_server(app, users, db):
    response = post_login(app.test_client(), "viewer")
    cookie = session_cookie(response)
    login = the_login(db)
    assert login.expires_at - login.created_at == timedelta(days=30)
    assert abs(cookie_expiry(cookie) - login.expires_at) <= timedelta(seconds=1)
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_a_login_lasts_to_the_deadline_of_the_longest_active_campaign_the_user_takes_part_in(app, users, tree, db):
    far = local_to_utc(local_today() + timedelta(days=50), time(17, 0))
    make_running_campaign(tree, title="防溺水专项行动", deadline=far)
    make_running_campaign(tree, title="森林防火宣传月")  # deadline in 30 days
    make_running_campaign(tree, root=tree.township_b, title="乙镇的行动",
                          deadline=local_to_utc(local_today() + timedelta(days=90), time(17, 0)))
    response = post_login(app.test_client(), "village_reporter")  # in township A: not 乙镇's campaign
    login = the_login(db)
    assert login.expires_at == far
    assert abs(cookie_expiry(session_cookie(response)) - far) <= timedelta(seconds=1)


def test_a_login_on_deadline_day_lasts_at_least_a_day(app, users, tree, db):
    make_running_campaign(tree, deadline=utcnow() + timedelta(hours=2))
    post_login(app.test_client(), "village_reporter")
    login = the_login(db)
    assert login.expires_at - login.created_at == timedelta(days=1)


def test_a_login_never_lasts_longer_than_the_longest_allowed(app, users, tree, db):
    make_running_campaign(tree, deadline=local_to_utc(local_today() + timedelta(days=400), time(17, 0)))
    post_login(app.test_client(), "village_reporter")
    login = the_login(db)
    assert login.expires_at - login.created_at == timedelta(days=app.config["LOGIN_SESSION_LONGEST_DAYS"]) \
        == timedelta(days=120)


def test_a_configured_lifetime_wins(app, users, tree, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_SESSION_DAYS", 7)
    make_running_campaign(tree)
    response = post_login(app.test_client(), "village_reporter")
    login = the_login(db)
    assert login.expires_at - login.created_at == timedelta(days=7)
    assert abs(cookie_expiry(session_cookie(response)) - login.expires_at) <= timedelta(seconds=1)


def test_a_visitor_who_has_not_logged_in_keeps_a_browser_session_cookie(client):
    client.get("/login")
    response = client.post_form("/login", {"username": "nobody", "password": "wrong-password-1"})
    cookie = session_cookie(response)
    assert cookie is None or not cookie["expires"]


def test_after_logout_the_old_cookie_is_refused_for_good(app, users, db):
    phone = log_in(app.test_client(), "village_reporter")
    stolen = phone.get_cookie("session").value
    response = phone.post_form("/logout")
    assert response.status_code == 302
    assert the_login(db).ended_at is not None
    copy = app.test_client()
    copy.set_cookie("session", stolen)
    response = copy.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_login_keeps_working_across_requests_until_its_expiry(app, users, db):
    phone = log_in(app.test_client(), "village_reporter")
    assert phone.get("/").status_code == 200
    db.session.execute(db.update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert phone.get("/").status_code == 302
