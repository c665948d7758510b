"""What the app leaves on disk is readable by its own account only; production refuses a guessable
secret key; nothing a logged-in user sees is kept by a cache; production asks browsers for HTTPS only."""
import os
import secrets
import stat

import pytest
from sqlalchemy import text

from campaign import create_app
from campaign.backup.services import create_backup
from campaign.config import secret_key_bits
from campaign.evidence.services import store_bytes, stored_path, thumbnail_path
from campaign.extensions import db as _db
from tests.evidence.conftest import make_jpeg


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The usual umask 022, under which a plain open() makes world-readable files."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def fresh_instance(tmp_path, monkeypatch, open_umask):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("DATABASE_URL", "SECRET_KEY", "UPLOAD_DIR", "CAMPAIGN_DESK_ENV"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "instance"


def test_the_sqlite_database_its_journal_and_the_instance_folder_are_private(fresh_instance):
    app = create_app()
    with app.app_context():
        with _db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe (id INTEGER)"))
            connection.execute(text("INSERT INTO probe VALUES (1)"))
        database = fresh_instance / "campaign-desk.sqlite3"
        assert mode(database) == 0o600
        assert mode(f"{database}-wal") == 0o600
        _db.engine.dispose()
    assert mode(fresh_instance) == 0o700
    assert mode(fresh_instance / "uploads") == 0o700


def test_an_existing_world_readable_database_is_made_private_at_start(fresh_instance):
    fresh_instance.mkdir(mode=0o755)
    database = fresh_instance / "campaign-desk.sqlite3"
    database.touch(mode=0o644)
    os.chmod(database, 0o644)
    create_app()
    assert mode(database) == 0o600


def test_uploads_are_stored_0600_in_folders_0700(app, db, tmp_path, monkeypatch, open_umask):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    stored = store_bytes(make_jpeg(), "标牌.jpg").stored_file
    for path in (stored_path(stored), thumbnail_path(stored)):
        assert mode(path) == 0o600
        folder = path.parent
        while folder != tmp_path:
            assert mode(folder) == 0o700, folder
            folder = folder.parent


def test_a_backup_is_written_0600(app, db, tmp_path, open_umask):
    archive = tmp_path / "backup.tar.gz"
    create_backup(archive)
    assert mode(archive) == 0o600


# --- the secret key -------------------------------------------------------------------------------

@pytest.mark.parametrize("weak", ["x", "changeme", "a-real-secret-from-the-deployment", "a" * 200, "ab" * 64,
                                  secrets.token_hex(16), secrets.token_urlsafe(16)])
def test_production_refuses_a_secret_key_under_32_random_bytes(fresh_instance, monkeypatch, weak):
    monkeypatch.setenv("SECRET_KEY", weak)
    with pytest.raises(RuntimeError, match="SECRET_KEY is too weak for production: it must hold at least 32"):
        create_app("production")


@pytest.mark.parametrize("strong", [secrets.token_hex(32), secrets.token_hex(32).upper(), secrets.token_urlsafe(32),
                                    secrets.token_hex(48)])
def test_production_accepts_a_generated_key(fresh_instance, monkeypatch, strong):
    monkeypatch.setenv("SECRET_KEY", strong)
    assert create_app("production").config["SECRET_KEY"] == strong


def test_a_weak_key_is_still_accepted_outside_production(fresh_instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "dev")
    assert create_app().config["SECRET_KEY"] == "dev"


def test_key_strength_counts_the_alphabet_and_refuses_repetition():
    assert secret_key_bits("0123456789abcdef" * 4) == 256
    assert secret_key_bits(bytes(range(32))) == 256
    assert secret_key_bits("z" * 1000) == 0


# --- caching and HSTS -----------------------------------------------------------------------------

def test_logged_in_pages_are_never_stored_by_a_cache(as_village_reporter, as_county_officer):
    for client, url in ((as_village_reporter, "/"), (as_village_reporter, "/reports/"), (as_county_officer, "/units/"),
                        (as_county_officer, "/water/"), (as_county_officer, "/no-such-page")):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url


def test_the_login_page_and_static_files_keep_their_own_caching(client):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_evidence_files_are_not_stored_and_thumbnails_are_revalidated(as_county_officer, db, users):
    from tests.evidence.conftest import make_assignment
    from tests.factories import make_campaign, make_task

    task = make_task(make_campaign(users.county_officer.unit, status="active"))
    assignment = make_assignment(db, users.village_reporter.unit, task)
    from campaign.evidence.services import attach_evidence

    evidence = attach_evidence(assignment, store_bytes(make_jpeg(), "标牌.jpg"), users.village_reporter)
    db.session.commit()
    assert as_county_officer.get(f"/files/evidence/{evidence.id}").headers["Cache-Control"] == "no-store"
    thumbnail = as_county_officer.get(f"/files/evidence/{evidence.id}/thumb")
    assert thumbnail.headers["Cache-Control"] == "private, no-cache" and thumbnail.headers["ETag"]


def test_production_sends_hsts_and_development_does_not(fresh_instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    production = create_app("production").test_client().get("/login")
    assert production.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in create_app().test_client().get("/login").headers
