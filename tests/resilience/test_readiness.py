"""/healthz says the process lives; /readyz says whether it can serve: the database answers, the
schema is at the code's migration head, the upload folder takes files. A load balancer takes a
worker out on 503 and reads the reason in the JSON."""
import pytest
from sqlalchemy import text

from tests.resilience.test_faults import database_down


def test_a_ready_app_says_ok_to_anyone_and_nothing_is_cached(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_with_the_database_down_readiness_is_503_with_the_reason_and_liveness_stays_ok(app, db, client):
    with database_down(db):
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable", "reason": "database"}
    assert "connection refused" not in ready.get_data(as_text=True)
    assert alive.status_code == 200  # a restart would not bring the database back
    assert client.get("/readyz").status_code == 200  # and it recovers by itself


@pytest.fixture
def schema_behind(db):
    """The database as it was before the latest migration ran (a deploy that forgot `db upgrade`)."""
    head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    db.session.execute(text("UPDATE alembic_version SET version_num = '0002_login_sessions'"))
    db.session.commit()
    yield
    db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    db.session.commit()


def test_a_schema_behind_the_code_is_not_ready(client, schema_behind):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "migrations"}


def test_an_upload_folder_that_cannot_be_written_is_not_ready(app, client, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(blocker / "uploads"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "uploads"}


def test_the_readiness_probe_leaves_no_file_behind(app, client):
    from pathlib import Path

    before = set(Path(app.config["UPLOAD_DIR"]).iterdir())
    assert client.get("/readyz").status_code == 200
    assert set(Path(app.config["UPLOAD_DIR"]).iterdir()) == before
