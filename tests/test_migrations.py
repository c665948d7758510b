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


def index_names_of_user_account(engine) -> set[str]:
    """By name from the catalogue: SQLite's reflection skips an index on an expression."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'user_account'")
        else:
            rows = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'user_account'")
        return {name for (name,) in rows}


def test_usernames_are_unique_ignoring_case_in_the_database_itself(db):
    assert "uq_user_account_lower_username" in index_names_of_user_account(db.engine)
    downgrade(revision="0003_reporting_water_progress")
    assert "uq_user_account_lower_username" not in index_names_of_user_account(db.engine)
    assert "expires_at" not in {column["name"] for column in inspect(db.engine).get_columns("login_session")}
    upgrade()
    assert "uq_user_account_lower_username" in index_names_of_user_account(db.engine)
