"""Fixtures: the app on a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL), a clean
database per test, a small unit tree, a user of every role and clients logged in as them."""
import os
import re
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, inspect, text

from campaign import create_app
from campaign.extensions import db as _db
from tests import factories

CSRF_PATTERN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class FormClient(FlaskClient):
    """A test client that can post forms with a real CSRF token, as a browser does.

    Each request runs in its own app context, as in production: ``g`` (where Flask-Login and
    Flask-Babel cache the user and the locale) and the database session never leak between
    requests or into the test's own session. What the test set up is committed first, so the
    request sees it and the test's transaction holds no lock while the request writes; the test's
    objects are expired, so what it reads afterwards is what the request left.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            _db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        page = self.get("/login", follow_redirects=True).get_data(as_text=True)
        match = CSRF_PATTERN.search(page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post_form(self, url, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def drop_everything(engine):
    """Start from an empty database: the schema is made by the migrations, never by create_all."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            for table in inspect(connection).get_table_names():
                connection.execute(text(f'DROP TABLE "{table}"'))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url(tmp_path_factory),
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        }
    )
    app.test_client_class = FormClient
    with app.app_context():
        drop_everything(_db.engine)
        upgrade()
        _db.session.remove()
    return app


@pytest.fixture
def db(app):
    """The database, emptied after the test (and left with the migrated schema)."""
    with app.app_context():
        yield _db
        _db.session.remove()
        empty_all_tables(_db.engine)


def empty_all_tables(engine):
    tables = [table.name for table in reversed(_db.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f'DELETE FROM "{name}"'))


@contextmanager
def counting_queries():
    """with counting_queries() as statements: … → the SQL statements run inside the block."""
    statements = []

    def remember(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(_db.engine, "before_cursor_execute", remember)


def queries_for_page(client, url) -> int:
    """How many SQL statements a page costs (it must answer 200)."""
    with counting_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


@pytest.fixture
def count_queries(db):
    return counting_queries


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def tree(db):
    """A small county: two townships, villages, a community, a school, a kindergarten, agencies."""
    return factories.make_tree()


ROLE_HOMES = {
    "admin": "county",
    "county_officer": "county",
    "township_officer": "township_a",
    "village_reporter": "village_a1",
    "school_reporter": "school_a",
    "agency_reporter": "carrier",
    "inspector": "county",
    "viewer": "county",
}


@pytest.fixture
def users(db, tree):
    """One user of every role, each at the unit where that role usually sits."""
    made = {
        role: factories.make_user(role=role, unit=getattr(tree, home), username=role)
        for role, home in ROLE_HOMES.items()
    }
    db.session.commit()
    return SimpleNamespace(**made)


def log_in(client, username, password=factories.DEFAULT_PASSWORD):
    response = client.post_form("/login", {"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def login(app, users):
    """login(role) → a fresh client logged in as the user of that role."""

    def make(role):
        return log_in(app.test_client(), getattr(users, role).username)

    return make


for _role in ROLE_HOMES:

    def _fixture(login, _role=_role):
        return login(_role)

    globals()[f"as_{_role}"] = pytest.fixture(_fixture, name=f"as_{_role}")
