"""Backups are consistent while the app writes, and restore into a fresh instance row for row, file for file."""
import json
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from campaign import create_app
from campaign.audit.services import record
from campaign.backup.services import BackupError, create_backup, restore_backup
from campaign.evidence.services import store_bytes, stored_path
from campaign.extensions import db as _db
from tests import factories

PNG_PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
)


@pytest.fixture
def some_data(db, tree, users):
    campaign = factories.make_campaign(tree.county)
    factories.make_task(campaign)
    upload = store_bytes(_png(), "标牌.png", allowed_kinds=("image",))
    record("demo.load", "demo", after={"note": "备份测试"}, actor=users.admin)
    db.session.commit()
    return upload


def _png():
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def fresh_instance(app, tmp_path):
    """A second, empty instance on the same kind of database."""
    source_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if source_url.get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        yield create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url,
                          "UPLOAD_DIR": str(tmp_path / "restored-uploads")})
        return
    name = f"restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(source_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    restored = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": source_url.set(database=name),
                           "UPLOAD_DIR": str(tmp_path / "restored-uploads")})
    yield restored
    with restored.app_context():
        _db.engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _hashable(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def all_rows(engine) -> dict:
    with engine.connect() as connection:
        tables = sorted(inspect(connection).get_table_names())
        return {
            table: [tuple(map(_hashable, row)) for row in connection.execute(text(f'SELECT * FROM "{table}" ORDER BY 1'))]
            for table in tables
        }


def test_a_backup_restores_into_a_fresh_instance_row_for_row_and_file_for_file(
    app, db, some_data, fresh_instance, tmp_path
):
    archive = tmp_path / "backup.tar.gz"
    summary = create_backup(archive)
    assert summary.files >= 2  # the photo and its thumbnail
    source_rows = all_rows(db.engine)
    original = stored_path(some_data.stored_file)
    restored_file = Path(fresh_instance.config["UPLOAD_DIR"]) / original.relative_to(app.config["UPLOAD_DIR"])
    with fresh_instance.app_context():
        restore_backup(archive)
        assert all_rows(_db.engine) == source_rows
    assert restored_file.read_bytes() == original.read_bytes()


def test_a_backup_taken_during_writes_is_consistent(app, db, some_data, fresh_instance, tmp_path):
    stop = threading.Event()
    written = []

    def keep_writing():
        with app.app_context():
            while not stop.is_set():
                record("unit.update", "unit", len(written), after={"n": len(written)})
                _db.session.commit()
                written.append(1)
            _db.session.remove()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 5:
            pass
        archive = tmp_path / "during.tar.gz"
        summary = create_backup(archive)
    finally:
        stop.set()
        writer.join()
    with fresh_instance.app_context():
        restore_backup(archive)
        restored = all_rows(_db.engine)
    assert {table: len(rows) for table, rows in restored.items()} == summary.tables
    source = all_rows(db.engine)
    assert set(restored["audit_record"]) <= set(source["audit_record"])
    assert len(source["audit_record"]) >= len(restored["audit_record"]) >= 6


def test_restore_refuses_a_database_that_has_data(app, db, some_data, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    create_backup(archive)
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(archive)


def test_the_commands_back_up_and_refuse_to_restore_over_data(app, db, some_data, tmp_path):
    archive = tmp_path / "cli.tar.gz"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "备份已写入" in result.output and archive.exists()
    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code != 0 and "not empty" in refused.output
