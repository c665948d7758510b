"""Faults: a worker killed mid-save, the database gone for a moment, a full disk. Each leaves
nothing half-done, tells the user clearly, and the retry works."""
import errno
import hashlib
import io
import json
import os
import select as selectors
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from campaign.api.services import create_token
from campaign.audit.models import AuditRecord
from campaign.campaigns.models import Assignment, Instalment
from campaign.evidence import services as evidence_services
from campaign.evidence.cli import find_orphans
from campaign.evidence.models import Evidence, StoredFile
from campaign.reporting import services as reporting_services

from .conftest import assignment_of, jpeg_bytes, make_running_campaign

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def running(db, tree, users):
    made = make_running_campaign(tree)
    made.signs_a1 = assignment_of(made.signs, tree.village_a1).id
    return made


def count(db, model, *conditions):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def upload_files(app):
    return sorted(path for path in Path(app.config["UPLOAD_DIR"]).rglob("*") if path.is_file())


@pytest.fixture
def clean_uploads(app):
    """The upload folder is shared by the session's tests: start and end this test with it empty."""
    def empty():
        for path in upload_files(app):
            path.unlink()

    empty()
    yield
    empty()


# --- a worker killed in the middle of a save ----------------------------------------------------

def start_crashing_worker(app, spec):
    """The crash worker, stopped after its flush; returns the process (alive, inside its transaction)."""
    spec = {"database": app.config["SQLALCHEMY_DATABASE_URI"], "uploads": app.config["UPLOAD_DIR"], **spec}
    process = subprocess.Popen([sys.executable, "-m", "tests.resilience.crash_worker", json.dumps(spec)],
                               cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = selectors.select([process.stdout], [], [], 120)
    line = process.stdout.readline() if ready else ""
    if line.strip() != "flushed":
        process.kill()
        _, errors = process.communicate()
        pytest.fail(f"the crash worker did not reach its flush: {line!r}\n{errors}")
    return process


def test_a_worker_killed_after_its_flush_leaves_no_rows_and_its_file_is_found_as_an_orphan(
    app, db, users, running, clean_uploads, login
):
    photo = jpeg_bytes((250, 120, 0), (90, 70))
    spec = {"user_id": users.village_reporter.id, "assignment_id": running.signs_a1,
            "day": str(running.campaign.start_date), "photo": photo.hex()}
    db.session.commit()  # the test holds no transaction (nor SQLite's write lock) while the worker writes

    worker = start_crashing_worker(app, spec)
    written = upload_files(app)  # the photo and its thumbnail went to disk before the flush
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(60) == -signal.SIGKILL

    assert count(db, Instalment) == 0
    assert count(db, Evidence) == 0
    assert count(db, StoredFile) == 0
    assert count(db, AuditRecord, AuditRecord.entity_type.in_(("assignment", "evidence"))) == 0
    report = db.session.get(Assignment, running.signs_a1)
    assert (report.status, report.version, report.note) == ("not_started", 1, "")

    sha = hashlib.sha256(photo).hexdigest()
    assert [path.name for path in written] == [f"{sha}.jpg", f"{sha}.jpg"]  # original and thumbnail
    found = find_orphans(older_than_seconds=0)
    assert sorted(found.orphans) == written and found.temp_files == []
    output = app.test_cli_runner().invoke(args=["files", "orphans", "--delete", "--older-than", "0"]).output
    assert "2 个孤立文件" in output and "已删除 2 个文件" in output
    assert upload_files(app) == []

    # The unit sends it again: nothing is locked any more, and it is saved once.
    reporter = login("village_reporter")
    assert reporter.post_form(f"/reports/{running.signs_a1}/instalments",
                              {"quantity": "7", "reported_on": str(running.campaign.start_date)}).status_code == 302
    assert reporter.post_form(f"/reports/{running.signs_a1}/evidence",
                              {"photos": (io.BytesIO(photo), "IMG_again.jpg")},
                              content_type="multipart/form-data").status_code == 302
    assert [row.quantity for row in db.session.scalars(select(Instalment))] == [7]
    assert count(db, StoredFile) == 1 and count(db, Evidence) == 1
    assert find_orphans(older_than_seconds=0).orphans == []


def test_the_orphans_command_spares_recent_files_and_lists_without_deleting(app, db, clean_uploads):
    root = Path(app.config["UPLOAD_DIR"])
    old = time.time() - 2 * 3600
    orphan = root / "ab" / "cd" / f"abcd{'0' * 60}.jpg"
    stale_temp = root / "ab" / "cd" / ".upload-x1.part"
    fresh_temp = root / "ab" / "cd" / ".upload-x2.part"  # an upload in flight
    stranger = root / "README.txt"
    for path in (orphan, stale_temp, fresh_temp, stranger):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for path in (orphan, stale_temp):
        os.utime(path, (old, old))
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["files", "orphans"])
    assert listed.exit_code == 0
    assert orphan.name in listed.output and ".upload-x1.part" in listed.output
    assert ".upload-x2.part" not in listed.output
    assert all(path.exists() for path in (orphan, stale_temp, fresh_temp, stranger))  # listing deletes nothing

    deleted = runner.invoke(args=["files", "orphans", "--delete"])
    assert "已删除 2 个文件" in deleted.output
    assert not orphan.exists() and not stale_temp.exists()
    assert fresh_temp.exists() and stranger.exists()  # too young, and not ours


# --- the database unreachable for a moment --------------------------------------------------------

@contextmanager
def database_down(db):
    """New connections are refused, as when PostgreSQL restarts or the network drops."""

    def refuse(dialect, connection_record, cargs, cparams):
        raise dialect.loaded_dbapi.OperationalError("connection refused (the test took the database away)")

    db.session.remove()
    db.engine.dispose()  # no pooled connection survives: every request has to connect
    event.listen(db.engine, "do_connect", refuse)
    try:
        yield
    finally:
        event.remove(db.engine, "do_connect", refuse)


def test_the_database_gone_for_a_moment_gives_a_try_again_page_and_the_retry_works(app, db, running,
                                                                                     as_village_reporter):
    report_url = f"/reports/{running.signs_a1}"
    token = as_village_reporter.csrf_token()
    form = {"csrf_token": token, "quantity": "6", "reported_on": str(running.campaign.start_date)}

    with database_down(db):
        page = as_village_reporter.get(report_url)
        sent = as_village_reporter.post(f"{report_url}/instalments", data=form)

    for response in (page, sent):
        html = response.get_data(as_text=True)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "10"
        assert "请稍后重试" in html and "尚未保存" in html
        assert "Traceback" not in html and "OperationalError" not in html and "connection refused" not in html
    assert count(db, Instalment) == 0

    assert as_village_reporter.get(report_url).status_code == 200
    assert as_village_reporter.post(f"{report_url}/instalments", data=form).status_code == 302
    assert [row.quantity for row in db.session.scalars(select(Instalment))] == [6]


def test_the_api_gets_a_json_503_while_the_database_is_gone(app, db, users):
    _, clear = create_token(users.village_reporter, "手机")
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {clear}"}

    with database_down(db):
        response = client.get("/api/v1/me", headers=headers)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert response.get_json()["error"]["code"] == "unavailable"
    assert "稍后" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_database_busy_beyond_its_timeout_is_a_try_again_page_not_its_error_text(app, db, running,
                                                                                    as_village_reporter,
                                                                                    monkeypatch):
    def busy(*args, **kwargs):
        raise OperationalError("INSERT INTO instalment …", {}, Exception("database is locked"))

    monkeypatch.setattr(reporting_services, "add_instalment", busy)
    response = as_village_reporter.post_form(f"/reports/{running.signs_a1}/instalments",
                                             {"quantity": "3", "reported_on": str(running.campaign.start_date)})
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "请稍后重试" in html and "database is locked" not in html


# --- the disk full while an upload is written ----------------------------------------------------

class HalfWrittenFile:
    """A file whose write stops halfway with ENOSPC, as on a full disk."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.handle.close()
        return False

    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.handle, name)


class FullDiskOs:
    """The os module as the evidence service sees it when the upload disk is full."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def fdopen(fd, *args, **kwargs):
        return HalfWrittenFile(os.fdopen(fd, *args, **kwargs))


def test_a_full_disk_while_saving_an_upload_gives_a_clear_message_and_leaves_nothing(
    app, db, running, as_village_reporter, clean_uploads, monkeypatch
):
    photo = jpeg_bytes((30, 60, 90), (100, 80))
    url = f"/reports/{running.signs_a1}/evidence"
    monkeypatch.setattr(evidence_services, "os", FullDiskOs())

    response = as_village_reporter.post_form(url, {"photos": (io.BytesIO(photo), "IMG_0420.jpg")},
                                             content_type="multipart/form-data", follow_redirects=True)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "IMG_0420.jpg" in html and "服务器未能保存该文件" in html and "磁盘空间可能已满" in html
    assert upload_files(app) == []  # no temp file, no half file
    assert count(db, StoredFile) == 0 and count(db, Evidence) == 0
    assert count(db, AuditRecord, AuditRecord.action.like("%evidence%")) == 0

    monkeypatch.undo()  # space freed: the same upload goes through
    assert as_village_reporter.post_form(url, {"photos": (io.BytesIO(photo), "IMG_0420.jpg")},
                                         content_type="multipart/form-data").status_code == 302
    stored = db.session.scalars(select(StoredFile)).one()
    assert evidence_services.stored_path(stored).read_bytes() == photo
    assert count(db, Evidence) == 1


def test_the_try_again_page_speaks_english_to_an_english_browser(app, db, running, as_village_reporter):
    with database_down(db):
        response = as_village_reporter.get(f"/reports/{running.signs_a1}", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Please try again later" in html and "has not been saved" in html
