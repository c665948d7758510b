"""Logging in and out, throttling, session safety."""
from campaign.accounts.models import LoginAttempt
from tests.conftest import log_in


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page


def test_a_user_logs_in_and_sees_the_home_page(client, users):
    log_in(client, "village_reporter")
    page = client.get("/").get_data(as_text=True)
    assert "夏禹桥村委会" in page


def test_wrong_password_is_refused_and_recorded(client, users, db):
    response = client.post_form("/login", {"username": "viewer", "password": "wrong-one1"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert db.session.query(LoginAttempt).filter_by(username="viewer", succeeded=False).count() == 1


def test_login_without_csrf_token_is_refused(client, users):
    response = client.post("/login", data={"username": "viewer", "password": "Passw0rd123"})
    assert response.status_code == 400
