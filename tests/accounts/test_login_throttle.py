"""Login throttling without a lock-out button (OWASP ASVS 2.2): failures slow down the (account,
address) pair and the address that made them, with growing waits; the owner from a clean address
always gets in; the office can lift the slow-down, and that is audited."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.accounts import services
from campaign.accounts.models import LoginAttempt
from campaign.audit.models import AuditRecord
from tests import factories
from tests.conftest import log_in
from tests.factories import DEFAULT_PASSWORD

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
CLEAN = {"REMOTE_ADDR": "198.51.100.2"}
WRONG = "Wrong-guess-1"
SLOWED = "此处登录失败次数过多"
GENERIC = "用户名或密码错误"


def seconds(wait):
    return None if wait is None else round(wait.total_seconds())


def attempt(app, username, password, address=ATTACKER):
    return app.test_client().post_form("/login", {"username": username, "password": password},
                                       environ_base=address)


def text_of(response):
    return response.get_data(as_text=True)


def fail(app, username, times, address=ATTACKER):
    for _ in range(times):
        assert GENERIC in text_of(attempt(app, username, WRONG, address))


def add_failures(db, username, address, count, at):
    db.session.add_all([LoginAttempt(username=username, address=address, succeeded=False, at=at)
                        for _ in range(count)])
    db.session.commit()


# --- no lock-out button -----------------------------------------------------------------------

def test_an_attacker_failing_on_the_office_account_cannot_keep_the_office_out(app, users, clock):
    """The reported attack: wrong passwords against `county_officer` from elsewhere, then the right
    one from the office's own (clean) address."""
    fail(app, "county_officer", app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"])
    assert SLOWED in text_of(attempt(app, "county_officer", WRONG))
    assert SLOWED in text_of(attempt(app, "county_officer", DEFAULT_PASSWORD))  # the guessing address waits

    office = attempt(app, "county_officer", DEFAULT_PASSWORD, CLEAN)
    assert office.status_code == 302 and office.headers["Location"] == "/"


def test_attempts_while_waiting_are_not_checked_and_do_not_count(app, users, clock, db):
    free = app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"]
    fail(app, "viewer", free)
    for _ in range(3):
        assert SLOWED in text_of(attempt(app, "viewer", WRONG))
    assert len(db.session.scalars(select(LoginAttempt)).all()) == free


def test_the_wait_grows_with_each_failure_and_stops_at_the_cap(app, users, clock, db):
    config = app.config
    free, base = config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"], config["LOGIN_DELAY_BASE"]
    address = ATTACKER["REMOTE_ADDR"]
    waits = []
    for count in range(free - 1, free + 4):
        db.session.query(LoginAttempt).delete()
        add_failures(db, "viewer", address, count, clock.now)
        waits.append(seconds(services.throttle_wait("viewer", address, users.viewer)))
    base = base.total_seconds()
    assert waits == [None, base, base * 2, base * 4, base * 8]

    add_failures(db, "viewer", address, 40, clock.now)
    assert seconds(services.throttle_wait("viewer", address, users.viewer)) == \
        config["LOGIN_DELAY_MAX"].total_seconds()


def test_once_the_wait_is_over_the_next_try_is_checked(app, users, clock):
    fail(app, "viewer", app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"])
    clock.now += app.config["LOGIN_DELAY_BASE"] + timedelta(seconds=5)
    assert attempt(app, "viewer", DEFAULT_PASSWORD).status_code == 302


def test_failures_older_than_the_window_are_forgotten(app, users, clock, db):
    address = ATTACKER["REMOTE_ADDR"]
    add_failures(db, "viewer", address, 20, clock.now - app.config["LOGIN_THROTTLE_WINDOW"] - timedelta(minutes=1))
    assert services.throttle_wait("viewer", address, users.viewer) is None


def test_a_success_from_the_address_clears_that_accounts_count_there(app, users, clock):
    free = app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"]
    fail(app, "viewer", free - 1)
    assert attempt(app, "viewer", DEFAULT_PASSWORD).status_code == 302
    fail(app, "viewer", free - 1)
    assert attempt(app, "viewer", DEFAULT_PASSWORD).status_code == 302  # never `free` failures in a row


def test_one_accounts_failures_do_not_slow_another_account_from_the_same_address(app, users, clock):
    fail(app, "viewer", app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"])
    assert attempt(app, "inspector", DEFAULT_PASSWORD).status_code == 302


def test_an_address_guessing_many_accounts_is_slowed_for_all_of_them_and_nobody_else(app, users, clock,
                                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES_PER_ADDRESS", 3)
    for username in ("viewer", "inspector", "admin"):
        fail(app, username, 1)
    assert SLOWED in text_of(attempt(app, "school_reporter", DEFAULT_PASSWORD))
    assert attempt(app, "school_reporter", DEFAULT_PASSWORD, CLEAN).status_code == 302


def test_the_slow_down_message_says_how_long_to_wait_in_chinese_and_english(app, users, clock, db):
    add_failures(db, "viewer", ATTACKER["REMOTE_ADDR"], 40, clock.now)
    assert "请 15 分钟后再试" in text_of(attempt(app, "viewer", DEFAULT_PASSWORD))
    english = app.test_client().post_form("/login", {"username": "viewer", "password": DEFAULT_PASSWORD},
                                          environ_base=ATTACKER, headers={"Accept-Language": "en"})
    assert "Please wait 15 minutes" in text_of(english)


# --- a deactivated account is no password oracle ------------------------------------------------

def test_a_deactivated_account_fails_like_a_wrong_password_and_points_to_the_office(app, users, db, clock):
    users.viewer.active = False
    db.session.commit()
    right, wrong = attempt(app, "viewer", DEFAULT_PASSWORD), attempt(app, "viewer", WRONG)
    assert right.status_code == wrong.status_code == 200
    assert GENERIC in text_of(right) and "联系区（县）指挥部办公室" in text_of(right)
    assert "停用" in text_of(right) and text_of(right).count("停用") == text_of(wrong).count("停用")
    attempts = db.session.scalars(select(LoginAttempt.succeeded)).all()
    assert attempts == [False, False]


# --- the office unlock --------------------------------------------------------------------------

def slow_down_village_reporter_behind_the_township_nat(app, users):
    """Colleagues behind one address mistyped: the reporter's own login from there now waits."""
    fail(app, "village_reporter", app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"])
    assert SLOWED in text_of(attempt(app, "village_reporter", DEFAULT_PASSWORD))


def test_the_office_unlocks_a_slowed_account_and_it_is_audited(app, users, clock, db, as_county_officer):
    slow_down_village_reporter_behind_the_township_nat(app, users)
    page = as_county_officer.get(f"/users/{users.village_reporter.id}/access")
    assert "近 60 分钟内登录失败 5 次" in text_of(page)

    response = as_county_officer.post_form(f"/users/{users.village_reporter.id}/unlock-login")
    assert response.status_code == 302

    assert attempt(app, "village_reporter", DEFAULT_PASSWORD).status_code == 302
    entry = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "user.unlock_login")).one()
    assert entry.username == "county_officer" and entry.entity_id == str(users.village_reporter.id)


def test_the_unlock_lifts_only_that_account(app, users, clock, as_county_officer, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES_PER_ADDRESS", 2)
    fail(app, "viewer", 1)
    fail(app, "inspector", 1)
    as_county_officer.post_form(f"/users/{users.viewer.id}/unlock-login")
    assert attempt(app, "viewer", DEFAULT_PASSWORD).status_code == 302
    assert SLOWED in text_of(attempt(app, "inspector", DEFAULT_PASSWORD))


def test_unlocking_needs_a_csrf_token(app, users, clock, as_county_officer):
    slow_down_village_reporter_behind_the_township_nat(app, users)
    assert as_county_officer.post(f"/users/{users.village_reporter.id}/unlock-login").status_code == 400
    assert SLOWED in text_of(attempt(app, "village_reporter", DEFAULT_PASSWORD))


@pytest.mark.parametrize("role, status", [
    ("admin", 302), ("county_officer", 302), ("township_officer", 403), ("village_reporter", 403),
    ("school_reporter", 403), ("agency_reporter", 403), ("inspector", 403), ("viewer", 403),
])
def test_who_may_unlock(role, status, login, users):
    assert login(role).post_form(f"/users/{users.village_reporter.id}/unlock-login").status_code == status


def test_a_county_officer_cannot_unlock_a_peer_but_the_admin_can(users, tree, db, login):
    peer = factories.make_user(role="county_officer", unit=tree.county, username="peer_officer")
    db.session.commit()
    assert login("county_officer").post_form(f"/users/{peer.id}/unlock-login").status_code == 403
    assert login("admin").post_form(f"/users/{peer.id}/unlock-login").status_code == 302


def test_a_user_of_another_county_cannot_be_unlocked(as_county_officer, other_county, db):
    response = as_county_officer.post_form(f"/users/{other_county.reporter.id}/unlock-login")
    assert response.status_code == 404
    assert db.session.scalars(select(AuditRecord).where(AuditRecord.action == "user.unlock_login")).all() == []


def test_the_right_password_is_still_needed_after_an_unlock(app, users, clock, as_county_officer):
    slow_down_village_reporter_behind_the_township_nat(app, users)
    as_county_officer.post_form(f"/users/{users.village_reporter.id}/unlock-login")
    assert GENERIC in text_of(attempt(app, "village_reporter", WRONG))
    log_in(app.test_client(), "village_reporter")


# --- device cookies: a shared address does not slow down a browser the account used before -------

def test_a_browser_where_the_account_logged_in_before_is_spared_what_others_failed_behind_the_nat(
        app, users, clock, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES_PER_ADDRESS", 3)
    phone = app.test_client()
    log_in_from(phone, "village_reporter", ATTACKER)
    phone.post_form("/logout")
    for username in ("viewer", "inspector", "admin"):  # colleagues behind the same carrier NAT mistype
        fail(app, username, 1)

    assert SLOWED in text_of(attempt(app, "village_reporter", DEFAULT_PASSWORD))  # a new browser waits
    assert log_in_from(phone, "village_reporter", ATTACKER).status_code == 302  # the known phone does not


def test_a_device_cookie_does_not_spare_its_own_accounts_failures(app, users, clock):
    phone = app.test_client()
    log_in_from(phone, "village_reporter", ATTACKER)
    phone.post_form("/logout")
    for _ in range(app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"]):
        assert GENERIC in text_of(log_in_from(phone, "village_reporter", ATTACKER, WRONG))
    assert SLOWED in text_of(log_in_from(phone, "village_reporter", ATTACKER))


def test_a_device_cookie_counts_only_for_the_accounts_it_names(app, users, clock, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES_PER_ADDRESS", 2)
    phone = app.test_client()
    log_in_from(phone, "village_reporter", ATTACKER)
    phone.post_form("/logout")
    fail(app, "viewer", 2)
    assert SLOWED in text_of(log_in_from(phone, "inspector", ATTACKER))


@pytest.mark.parametrize("value", ["forged", "eyJ2aWxsYWdlX3JlcG9ydGVyIl0.forged.signature", "x" * 3000])
def test_a_forged_device_cookie_is_ignored(app, users, clock, monkeypatch, value):
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES_PER_ADDRESS", 2)
    fail(app, "viewer", 2)
    browser = app.test_client()
    browser.set_cookie("cd_device", value)
    assert SLOWED in text_of(log_in_from(browser, "village_reporter", ATTACKER))


def test_the_device_cookie_is_httponly_samesite_and_names_no_password(app, users, clock):
    response = log_in_from(app.test_client(), "village_reporter", CLEAN)
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("cd_device="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=15552000" in cookie
    assert DEFAULT_PASSWORD not in cookie


def log_in_from(client, username, address, password=DEFAULT_PASSWORD):
    return client.post_form("/login", {"username": username, "password": password}, environ_base=address)
