"""The dashboard, drill-down, print page and workbook cost the same number of SQL queries at 10 and 200 villages."""
import pytest

from campaign.extensions import db as _db
from tests.conftest import counting_queries
from tests.progress.dashboard_helpers import scaled_campaign

PAGES = {
    "dashboard": "/progress/campaigns/{id}",
    "township": "/progress/campaigns/{id}/units/{township}",
    "village": "/progress/campaigns/{id}/units/{village}",
    "print": "/summary/campaigns/{id}/print",
    "workbook": "/summary/campaigns/{id}/workbook.xlsx",
}


def statements_for(client, campaign, template):
    township = next(u for u in campaign.root_unit.children if u.name.startswith(campaign.title[4:] + "镇"))
    village = township.children[0]
    url = template.format(id=campaign.id, township=township.id, village=village.id)
    client.get(url)  # warm up: the login session and the catalogue are loaded once
    with counting_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("page", PAGES)
def test_a_page_costs_the_same_queries_for_10_and_200_villages(db, tree, users, login, page):
    client = login("admin")
    small = scaled_campaign(tree.county, 10)
    large = scaled_campaign(tree.county, 200)
    _db.session.commit()

    assert statements_for(client, small, PAGES[page]) == statements_for(client, large, PAGES[page])


def test_the_dashboard_runs_a_handful_of_queries(db, tree, users, login):
    client = login("admin")
    campaign = scaled_campaign(tree.county, 10)
    assert statements_for(client, campaign, PAGES["dashboard"]) <= 10
