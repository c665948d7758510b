"""API fixtures: a token for any role, and a client that sends it as a bearer token.

The running campaign and the upload helpers are the reporting feature's (imported, not copied).
"""
import pytest

from campaign.api import services as token_services
from tests.reporting.conftest import running  # noqa: F401  the fixture, shared

API = "/api/v1"


class ApiClient:
    """A test client without cookies that authenticates every request with one token."""

    def __init__(self, client, token, language=None):
        self.client = client
        self.token = token
        self.language = language

    def headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.language:
            headers["Accept-Language"] = self.language
        headers.update(extra or {})
        return headers

    def open(self, method, path, headers=None, **kwargs):
        url = path if path.startswith(API) else API + path
        return self.client.open(url, method=method, headers=self.headers(headers), **kwargs)

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.open("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.open("DELETE", path, **kwargs)


def make_token(db, user, name="测试脚本") -> str:
    _, clear = token_services.create_token(user, name)
    db.session.commit()
    return clear


@pytest.fixture
def api(app, db, users):
    """api(role) → an ApiClient holding a fresh token of the user of that role."""

    def make(role, language=None):
        return ApiClient(app.test_client(), make_token(db, getattr(users, role)), language)

    return make


def error_of(response, status):
    """The JSON error body, after checking the status and the shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"]
    return error
