"""Password storage, session safety, redirects, cookies and CSRF (throttling: test_login_throttle.py)."""
import pytest
from sqlalchemy import select, text

from campaign.accounts.models import User
from tests.conftest import log_in
from tests.factories import DEFAULT_PASSWORD

def attempt(client, username, password, **kwargs):
    return client.post_form("/login", {"username": username, "password": password}, **kwargs)


def is_logged_in(client) -> bool:
    return client.get("/").status_code == 200


# --- Passwords --------------------------------------------------------------------------------

def test_passwords_are_stored_hashed_never_in_clear(as_admin, tree, db):
    secret = "Unguessable42word"
    as_admin.post_form("/users/new", {"username": "hashme", "role": "viewer", "unit_id": str(tree.county.id),
                                      "password": secret})
    stored = db.session.scalar(select(User.password_hash).where(User.username == "hashme"))
    assert stored and secret not in stored and stored.startswith("pbkdf2:")
    dump = " ".join(str(row) for row in db.session.execute(text("SELECT * FROM audit_record")))
    assert secret not in dump


@pytest.mark.parametrize(
    "password, message", [("Ab1", "密码至少需要 8 位"), ("onlyletters", "密码须同时包含字母和数字"),
                          ("1234567890", "密码须同时包含字母和数字")]
)
def test_a_weak_new_password_is_refused_in_chinese(password, message, as_viewer, app):
    response = as_viewer.post_form("/account/password", {"current_password": DEFAULT_PASSWORD,
                                                         "new_password": password, "confirm_password": password})
    assert message in response.get_data(as_text=True)
    log_in(app.test_client(), "viewer")  # the old password still works


# --- Sessions ---------------------------------------------------------------------------------

def session_cookie(client):
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_the_session_is_renewed_at_login_and_only_the_language_survives(client, users):
    client.post_form("/language", {"locale": "en", "next": "/login"})
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    before = session_cookie(client)
    log_in(client, "viewer")
    assert session_cookie(client) != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["locale"] == "en"
        assert session["_user_id"]


def test_logout_ends_the_session(client, users):
    log_in(client, "viewer")
    assert is_logged_in(client)
    response = client.post_form("/logout")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_changing_ones_password_ends_the_other_sessions_but_keeps_this_one(app, users):
    phone = log_in(app.test_client(), "viewer")
    desk = log_in(app.test_client(), "viewer")
    response = desk.post_form("/account/password", {"current_password": DEFAULT_PASSWORD,
                                                     "new_password": "Brand1NewPass", "confirm_password": "Brand1NewPass"})
    assert response.status_code == 302
    assert is_logged_in(desk)
    assert not is_logged_in(phone)


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example/", "/\\evil.example", "///evil.example", "javascript:alert(1)"]
)
def test_next_cannot_redirect_to_another_site(target, client, users):
    response = client.post_form(f"/login?next={target}", {"username": "viewer", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example",
                                    "%09//evil.example", "/%7f/evil.example", "/%09/%09/evil.example"])
def test_control_characters_in_next_cannot_make_a_redirect_to_another_site(target, client, users):
    """Browsers drop tab and newline from a URL: "/\t/evil.example" would be "//evil.example"."""
    response = client.post_form(f"/login?next={target}", {"username": "viewer", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_logged_in(client)


def test_a_control_character_inside_a_path_of_the_site_is_dropped(client, users):
    response = client.post_form("/login?next=/wa%0ater/", {"username": "viewer", "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/water/"


@pytest.mark.parametrize("target, expected", [
    ("/%09/evil.example", "/"), ("/%0a/evil.example", "/"), ("https://evil.example/", "/"),
    ("//evil.example", "/"), ("/water/", "/water/"),
])
def test_the_language_switch_returns_only_to_a_page_of_the_site(target, expected, client, users):
    from urllib.parse import unquote

    response = client.post_form("/language", {"locale": "en", "next": unquote(target)})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_next_may_point_inside_the_site(client, users):
    response = client.post_form("/login?next=/users/", {"username": "admin", "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/users/"


def test_the_session_cookie_is_httponly_and_samesite_lax(client, users):
    response = client.post_form("/login", {"username": "viewer", "password": DEFAULT_PASSWORD})
    set_cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie


# --- CSRF -------------------------------------------------------------------------------------

def test_login_needs_a_csrf_token(client, users):
    response = client.post("/login", data={"username": "viewer", "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert not is_logged_in(client)


def test_logout_needs_a_csrf_token(as_viewer):
    assert as_viewer.post("/logout").status_code == 400
    assert is_logged_in(as_viewer)


def test_changing_the_password_needs_a_csrf_token(app, as_viewer):
    data = {"current_password": DEFAULT_PASSWORD, "new_password": "Brand1NewPass", "confirm_password": "Brand1NewPass"}
    assert as_viewer.post("/account/password", data=data).status_code == 400
    log_in(app.test_client(), "viewer")  # unchanged


def test_a_copied_session_cookie_is_dead_after_logout(app, users):
    browser = log_in(app.test_client(), "viewer")
    stolen = browser.get_cookie("session").value
    browser.post_form("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivating_a_user_ends_their_sessions(app, users, as_admin, db):
    reporter = log_in(app.test_client(), "village_reporter")
    target = users.village_reporter
    as_admin.post_form(f"/users/{target.id}/edit", {
        "display_name": target.display_name, "role": target.role, "unit_id": str(target.unit_id),
    })
    assert not is_logged_in(reporter)


def test_a_session_past_its_expiry_ends(app, users, db):
    from datetime import timedelta

    from campaign.accounts.models import LoginSession
    from campaign.database import utcnow

    client = log_in(app.test_client(), "viewer")
    session = db.session.scalars(db.select(LoginSession)).one()
    db.session.execute(
        db.update(LoginSession).where(LoginSession.id == session.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    assert not is_logged_in(client)
