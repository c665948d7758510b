"""The migrations are the only way the schema is made, and they agree with the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from campaign.extensions import db as _db


def schema_differences(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, _db.metadata)


def test_the_migrated_schema_matches_the_models(db):
    assert schema_differences(db.engine) == []


def test_migrations_go_down_to_empty_and_up_again(db):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert "unit" in inspect(db.engine).get_table_names()
    assert schema_differences(db.engine) == []
