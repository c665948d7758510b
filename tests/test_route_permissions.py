"""Every route, for every role and for an anonymous visitor, generated from the app's route map.

A new route fails here until it carries a permission rule (``permissions.require``) or is listed
below with the reason it needs none.
"""
import re

import pytest

from campaign.evidence.services import attach_evidence, store_bytes
from campaign.permissions import PERMISSIONS
from campaign.water.models import WaterPhoto
from tests.conftest import ROLE_HOMES, log_in
from tests.reporting.conftest import assignment_of, jpeg_bytes, make_running_campaign
from tests.water.conftest import make_hazard, make_patrol, make_point

PUBLIC = {
    "static": "the site's own CSS and JS",
    "accounts.login": "the way in",
    "main.set_language": "a preference, kept in the session",
    "main.health": "the load balancer's liveness check",
    "main.ready": "the load balancer's readiness check (says only ok or which part is down)",
    "favicon": "the site's icon, asked for by every browser",
    "too_large": "nginx's page for a body over its size limit (error_page 413)",
    "offline.service_worker": "the site's own script, registered from the login page too",
    "offline.manifest": "browsers fetch it without the login cookie",
    "api.openapi": "the API's own description, no data",
}
LOGGED_IN_ONLY = {
    "main.index": "each role's own home page",
    "accounts.change_password": "one's own password",
    "accounts.logout": "one's own session",
    "offline.csrf_token": "a token for one's own session, to replay one's own saved forms",
    "offline.outbox": "one's own outbox, kept on one's own phone",
    "offline.offline_page": "a notice, no data",
}
TOKEN_AUTHENTICATED_PREFIX = "/api/"
ROLES = list(ROLE_HOMES)


@pytest.fixture
def world(db, tree, users):
    """One object of every kind, in village_a1 of township_a, for the URL's ids."""
    running = make_running_campaign(tree)
    assignment = assignment_of(running.signs, tree.village_a1)
    upload = store_bytes(jpeg_bytes(), "标牌.jpg", allowed_kinds=("image",))
    evidence = attach_evidence(assignment, upload, users.village_reporter)
    point = make_point(tree.village_a1)
    hazard = make_hazard(point)
    make_patrol(point)
    photo = WaterPhoto(stored_file_id=upload.stored_file.id, water_point_id=point.id, purpose="point")
    db.session.add(photo)
    db.session.commit()
    return {
        "campaign_id": running.campaign.id,
        "task_id": running.signs.id,
        "assignment_id": assignment.id,
        "evidence_id": evidence.id,
        "unit_id": tree.village_a1.id,
        "user_id": users.village_reporter.id,
        "point_id": point.id,
        "hazard_id": hazard.id,
        "photo_id": photo.id,
        "token_id": 1,
        "fmt": "csv",
    }


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule


def url_of(rule, world):
    missing = [name for name in rule.arguments if name not in world]
    assert not missing, f"{rule.rule}: give the world fixture a value for {missing}"
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda match: str(world[match.group(1)]), rule.rule)


def required_permission(app, rule):
    return getattr(app.view_functions[rule.endpoint], "required_permission", None)


def test_every_route_has_a_permission_rule_or_a_stated_reason(app):
    unruled = [
        rule.endpoint for rule in routes(app)
        if required_permission(app, rule) is None
        and rule.endpoint not in PUBLIC and rule.endpoint not in LOGGED_IN_ONLY
        and not rule.rule.startswith(TOKEN_AUTHENTICATED_PREFIX)
    ]
    assert unruled == []


def test_anonymous_visitors_are_sent_to_log_in(app, client, world):
    for rule in routes(app):
        if rule.endpoint in PUBLIC or "GET" not in rule.methods:
            continue
        response = client.get(url_of(rule, world))
        if rule.rule.startswith(TOKEN_AUTHENTICATED_PREFIX):
            assert response.status_code == 401, rule.rule
        else:
            assert response.status_code == 302 and "/login" in response.headers["Location"], rule.rule


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_its_permissions_allow(role, app, world):
    client = log_in(app.test_client(), role)
    for rule in routes(app):
        if "GET" not in rule.methods or rule.endpoint in PUBLIC or rule.rule.startswith(TOKEN_AUTHENTICATED_PREFIX):
            continue
        response = client.get(url_of(rule, world))
        permission = required_permission(app, rule)
        allowed = permission is None or role in PERMISSIONS[permission]
        if allowed:
            assert response.status_code in (200, 302, 403, 404), (rule.rule, response.status_code)
        else:
            assert response.status_code == 403, (rule.rule, response.status_code)


def test_every_state_changing_request_without_a_csrf_token_is_refused(app, world):
    client = log_in(app.test_client(), "admin")
    for rule in routes(app):
        if rule.rule.startswith(TOKEN_AUTHENTICATED_PREFIX):
            continue
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            response = client.open(url_of(rule, world), method=method, data={})
            assert response.status_code == 400, (method, rule.rule, response.status_code)
