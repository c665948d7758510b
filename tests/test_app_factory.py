"""The app factory and its configuration."""
import sqlite3

import pytest
from sqlalchemy import text

from campaign import create_app
from campaign.extensions import db


@pytest.fixture
def fresh_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("DATABASE_URL", "SECRET_KEY", "UPLOAD_DIR", "CAMPAIGN_DESK_ENV"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "instance"


def test_the_default_needs_no_setup(fresh_instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{fresh_instance / 'campaign-desk.sqlite3'}"
    assert app.config["UPLOAD_DIR"] == str(fresh_instance / "uploads")
    assert len(app.config["SECRET_KEY"]) == 64


def test_the_secret_key_is_generated_once_and_kept(fresh_instance):
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second
    assert (fresh_instance / "secret_key").read_text().strip() == first
    assert (fresh_instance / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_variables_override_the_defaults(fresh_instance, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "files"))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("other.sqlite3")
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["UPLOAD_DIR"] == str(tmp_path / "files")
    assert not (fresh_instance / "secret_key").exists()


def test_production_refuses_to_start_without_a_secret_key(fresh_instance):
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app("production")


def test_production_starts_with_a_secret_key_and_secure_cookies(fresh_instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "5f0c6a1e9b2d47c8a3e1f6b9d0c2a4e7" "81b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(fresh_instance):
    app = create_app()
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 15000


def test_sqlite_write_transactions_take_the_write_lock_at_begin(fresh_instance):
    """A second writer cannot start while the first holds its transaction (no lost updates)."""
    app = create_app({"SQLITE_BUSY_TIMEOUT_MS": 100})
    with app.app_context():
        with db.engine.connect() as first:
            first.execute(text("SELECT 1"))  # BEGIN IMMEDIATE outside a GET request
            other = sqlite3.connect(fresh_instance / "campaign-desk.sqlite3", timeout=0.1)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()


def test_every_response_carries_security_headers(client):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_health_check_answers_without_login(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_a_wrong_method_on_a_page_gets_a_page_in_chinese(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "此地址不能直接打开" in response.get_data(as_text=True)


def test_an_unknown_page_gets_the_not_found_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "页面或记录不存在" in response.get_data(as_text=True)
