"""The API's progress figures are the dashboard's, for the same scope, and scoped like it."""
import pytest

from campaign.progress.services import campaign_progress
from campaign.reporting import services as reporting
from tests.api.conftest import API, error_of
from tests.conftest import ROLE_HOMES
from tests.reporting.conftest import make_running_campaign

PROGRESS_ROLES = {"admin", "county_officer", "township_officer", "inspector", "viewer"}


@pytest.fixture
def reported(db, tree, users):
    running = make_running_campaign(tree)
    from tests.reporting.conftest import assignment_of

    leaflets = assignment_of(running.leaflets, tree.village_a1)
    reporting.save_report(leaflets, users.village_reporter, expected_version=leaflets.version, note="已发放", done=True)
    reporting.submit_report(leaflets, users.village_reporter, expected_version=leaflets.version)
    db.session.commit()
    return running


def test_the_county_gets_the_figures_the_dashboard_shows(api, db, tree, reported):
    body = api("county_officer").get(f"/campaigns/{reported.campaign.id}/progress").get_json()
    expected = campaign_progress(reported.campaign, tree.county)
    assert body["scope"]["name"] == "临安区"
    assert {row["unit"]["name"] for row in body["rows"]} == {row.name for row in expected.rows}
    leaflets = next(task for task in body["tasks"] if task["id"] == reported.leaflets.id)
    assert leaflets["totals"]["expected"] == expected.total(reported.leaflets.id).expected == 4
    assert leaflets["totals"]["submitted"] == 1 and leaflets["totals"]["submitted_rate"] == 0.25
    assert leaflets["totals"]["missing"] == 3


def test_a_township_officer_gets_their_villages_only(api, tree, reported):
    body = api("township_officer").get(f"/campaigns/{reported.campaign.id}/progress").get_json()
    assert body["scope"]["name"] == tree.township_a.name
    assert tree.village_b1.name not in {row["unit"]["name"] for row in body["rows"]}


@pytest.mark.parametrize("role", list(ROLE_HOMES))
def test_only_roles_that_follow_progress_may_read_it(api, role, reported):
    response = api(role).get(f"/campaigns/{reported.campaign.id}/progress")
    if role in PROGRESS_ROLES:
        assert response.status_code == 200
    else:
        assert error_of(response, 403)["code"] == "forbidden"


def test_a_campaign_out_of_sight_is_not_found(api, reported):
    assert error_of(api("county_officer").get("/campaigns/999999/progress"), 404)["code"] == "not_found"


def test_without_a_token_it_is_refused(client, reported):
    assert client.get(f"{API}/campaigns/{reported.campaign.id}/progress").status_code == 401
