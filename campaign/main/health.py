"""What a load balancer asks: is the process alive (``/healthz``), can it serve (``/readyz``)."""
import functools
import tempfile

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..private_files import private_dirs


@functools.cache
def _migration_heads(directory: str) -> frozenset[str]:
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def readiness_problem() -> str | None:
    """None when the app can serve requests, else the first reason it cannot:
    ``database`` (does not answer), ``migrations`` (schema not at the code's head) or
    ``uploads`` (the upload folder cannot be written)."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        current_app.logger.warning("readiness: the database does not answer", exc_info=True)
        return "database"
    if current != _migration_heads(current_app.extensions["migrate"].directory):
        return "migrations"
    try:
        folder = private_dirs(current_app.config["UPLOAD_DIR"])  # made at the first upload otherwise
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"ok")
    except OSError:
        current_app.logger.warning("readiness: the upload folder is not writable", exc_info=True)
        return "uploads"
    return None
