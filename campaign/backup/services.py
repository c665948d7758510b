"""Backup and restore.

A backup is one .tar.gz: ``manifest.json`` (when, which schema revision, row counts, files with
their hashes), the database snapshot (SQLite's online backup API, or ``pg_dump -Fc``) and the
uploaded files the snapshot refers to. Uploads are named by content hash and never change, so
copying the ones the snapshot lists, after the snapshot, gives a consistent pair even while the
app keeps writing.
"""
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, func, inspect, select, text

from ..database import utcnow
from ..extensions import db
from ..private_files import make_private, open_private, private_dirs

MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.dump"
UPLOADS_PREFIX = "uploads/"


class BackupError(RuntimeError):
    pass


@dataclass
class BackupSummary:
    path: Path
    tables: dict
    files: int


def create_backup(out_path) -> BackupSummary:
    out_path = Path(out_path)
    engine = db.engine
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if engine.dialect.name == "sqlite":
            snapshot = work / SQLITE_MEMBER
            _sqlite_snapshot(engine.url.database, snapshot)
            counts, revision, files = _describe_sqlite(snapshot)
        elif engine.dialect.name == "postgresql":
            snapshot = work / POSTGRES_MEMBER
            counts, revision, files = _postgres_snapshot(engine, snapshot)
        else:
            raise BackupError(f"no backup method for {engine.dialect.name}")
        upload_dir = Path(current_app.config["UPLOAD_DIR"])
        manifest = {
            "created_at": utcnow().isoformat(),
            "dialect": engine.dialect.name,
            "revision": revision,
            "tables": counts,
            "files": {},
        }
        tmp_out = out_path.with_name(out_path.name + ".partial")
        with open_private(tmp_out) as handle, tarfile.open(fileobj=handle, mode="w:gz") as archive:
            archive.add(snapshot, arcname=snapshot.name)
            for relative in files:
                source = upload_dir / relative
                if not source.is_file():
                    raise BackupError(f"the database lists {relative} but it is not under {upload_dir}")
                manifest["files"][relative] = _sha256(source)
                archive.add(source, arcname=UPLOADS_PREFIX + relative)
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        os.replace(tmp_out, out_path)
    return BackupSummary(path=out_path, tables=counts, files=len(manifest["files"]))


def restore_backup(in_path, force: bool = False) -> dict:
    """Restore into this instance's (empty) database and upload folder; returns the manifest."""
    engine = db.engine
    with tarfile.open(in_path, "r:gz") as archive:
        manifest = json.loads(archive.extractfile(MANIFEST).read())
        if manifest["dialect"] != engine.dialect.name:
            raise BackupError(f"this backup is of {manifest['dialect']}, the instance runs {engine.dialect.name}")
        if not force and _has_data(engine):
            raise BackupError("the target database is not empty; restore into a fresh instance (or use --force)")
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            archive.extractall(work, filter="data")
            db.session.remove()
            if engine.dialect.name == "sqlite":
                engine.dispose()
                target = Path(engine.url.database)
                for suffix in ("-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
                shutil.copyfile(work / SQLITE_MEMBER, target)
                make_private(target)
            else:
                engine.dispose()
                _pg_command(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                             "-d", _libpq_url(engine)], work / POSTGRES_MEMBER)
            upload_dir = Path(current_app.config["UPLOAD_DIR"])
            for relative, digest in manifest["files"].items():
                source = work / UPLOADS_PREFIX / relative
                if _sha256(source) != digest:
                    raise BackupError(f"{relative} is damaged in the backup")
                destination = upload_dir / relative
                private_dirs(destination.parent)
                shutil.copyfile(source, destination)
                make_private(destination)
    return manifest


def _sqlite_snapshot(database: str, destination: Path):
    source = sqlite3.connect(database)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)  # consistent even while other connections write
    finally:
        target.close()
        source.close()


def _describe_sqlite(snapshot: Path):
    engine = create_engine(f"sqlite:///{snapshot}")
    try:
        with engine.connect() as connection:
            return _describe(connection)
    finally:
        engine.dispose()


def _postgres_snapshot(engine, destination: Path):
    """pg_dump and the counts from one REPEATABLE READ snapshot, exported so both see the same data."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            _pg_command(["pg_dump", "-Fc", "--no-owner", f"--snapshot={snapshot_id}", "-f", str(destination),
                         _libpq_url(engine)])
            return _describe(connection)


def _describe(connection):
    tables = sorted(set(inspect(connection).get_table_names()))
    counts = {table: connection.execute(select(func.count()).select_from(text(f'"{table}"'))).scalar()
              for table in tables}
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    files = []
    if "stored_file" in tables:
        for sha, extension, kind in connection.execute(
            text("SELECT sha256, extension, kind FROM stored_file ORDER BY id")
        ):
            files.extend(_files_of(sha, extension, kind))
    return counts, revision, files


def _files_of(sha: str, extension: str, kind: str) -> list[str]:
    """The relative paths the evidence store uses for a content hash (the file and its thumbnail)."""
    from ..evidence.models import StoredFile
    from ..evidence.services import stored_path, thumbnail_path

    upload_dir = Path(current_app.config["UPLOAD_DIR"]).resolve()
    stored = StoredFile(sha256=sha, extension=extension, kind=kind)
    candidates = [stored_path(stored), thumbnail_path(stored)]
    return [str(Path(path).resolve().relative_to(upload_dir)) for path in candidates if path and Path(path).exists()]


def _has_data(engine) -> bool:
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        return "unit" in tables and connection.execute(text("SELECT 1 FROM unit LIMIT 1")).first() is not None


def _libpq_url(engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_command(arguments, stdin_path=None):
    if stdin_path is not None:
        arguments = [*arguments, str(stdin_path)]
    result = subprocess.run(arguments, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{arguments[0]} failed: {result.stderr.strip()}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
