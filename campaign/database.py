"""Engine set-up and column types shared by every model."""
import os
from datetime import datetime, timezone
from pathlib import Path

from flask import has_request_context, request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from .extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC; refuses naive datetimes so no local time slips in."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone first")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def configure_database(app):
    """Bind SQLAlchemy and, on SQLite, make it safe for several writers (see docs/stack-traps.md)."""
    from . import models  # noqa: F401  every table is known before anything queries or migrates
    from .progress import counters

    counters.install()

    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _create_private(engine.url.database)
            _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _create_private(database):
    """The database file made (or reduced to) 0600 before SQLite opens it: SQLite creates its -wal and
    -shm files with the database file's permissions."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    from .private_files import make_private, open_private

    path = Path(database)
    if not path.parent.exists():
        return
    if not path.exists():
        open_private(path, os.O_WRONLY | os.O_CREAT).close()
    for suffix in ("", "-wal", "-shm"):
        make_private(f"{path}{suffix}")


def _sqlite_begin_statement() -> str:
    """Writes take the write lock at BEGIN, so read-modify-write cannot lose updates.

    Reads (GET pages) stay deferred and run alongside writers under WAL. Outside a request
    (CLI, scripts, tests) every transaction may write, so it is immediate too.
    """
    if has_request_context() and request.method in SAFE_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int):
    if getattr(engine, "_campaign_desk_configured", False):
        return
    engine._campaign_desk_configured = True

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record):
        # Hand transaction control to the "begin" listener below (pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql(_sqlite_begin_statement())
