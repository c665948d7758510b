"""The OpenAPI document at /api/v1/openapi.json is the API: every route is described and every
description is a route; schemathesis calls each operation with a token of every role (a few
examples each, so the suite stays fast) and checks no answer is a 500 or strays from the document:
status code, content type, headers and body. A request valid by the schema may still be refused with
a 400 the schema cannot express (a date after today, a quantity over the campaign's rules), so
schemathesis's "valid data is accepted" check is left out."""
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from campaign.api.openapi import document
from tests.api.conftest import make_token
from tests.conftest import ROLE_HOMES

API = "/api/v1"
EXAMPLES_PER_OPERATION = 4


def routed_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.rule.startswith(API + "/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(API):])
            operations |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def documented_operations(spec) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items() for method in item}


def test_the_document_is_served_without_a_token_as_openapi_3_1(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": API}]
    assert response.headers["Cache-Control"] == "no-store"


def test_every_api_route_is_documented_and_every_documented_operation_is_a_route(app):
    with app.test_request_context():
        documented = documented_operations(document())
    assert routed_operations(app) == documented


def test_every_documented_schema_reference_exists(app):
    with app.test_request_context():
        spec = document()
    names = set(re.findall(r"#/components/schemas/(\w+)", str(spec)))
    assert names and names <= set(spec["components"]["schemas"])


# --- schemathesis ---------------------------------------------------------------------------------

@pytest.fixture
def role_tokens(db, users, running):
    """A token of every role, with a running campaign and its reports to find."""
    tokens = {role: make_token(db, getattr(users, role)) for role in ROLE_HOMES}
    db.session.commit()  # the test holds no transaction (on SQLite, no write lock) while the app answers
    return tokens


@pytest.mark.parametrize(("method", "path"), sorted(documented_operations(document())))
def test_every_operation_answers_every_role_as_documented(app, role_tokens, method, path):
    operation = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)[path][method.upper()]

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def every_role(case):
        for token in role_tokens.values():
            case.call_and_validate(headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"},
                                   excluded_checks=[positive_data_acceptance])

    every_role()
