"""Campaign fixtures: a forest-fire month drafted from its playbook, another county's campaign,
and a counter of SQL statements."""
from datetime import date, time
from types import SimpleNamespace

import pytest

from campaign.campaigns import services
from campaign.campaigns.playbooks import get_playbook
from tests.factories import make_campaign, make_task, make_unit


def draft_from_playbook(actor, root, key="forest-fire-month", year=2026, title=None):
    playbook = get_playbook(key)
    defaults = services.playbook_defaults(playbook, year)
    return services.create_campaign(
        actor=actor, playbook=playbook, title=title or f"{year}年{playbook.title}", root_unit=root, **defaults
    )


@pytest.fixture
def forest_fire(db, tree, users):
    """The 2026 forest-fire month, a draft run by the county office for the whole county."""
    campaign = draft_from_playbook(users.county_officer, tree.county)
    db.session.commit()
    return campaign


@pytest.fixture
def active_forest_fire(db, forest_fire, users):
    services.launch_campaign(forest_fire, actor=users.county_officer)
    db.session.commit()
    return forest_fire


@pytest.fixture
def other_county(db, tree):
    """A neighbouring county with its own campaign: nobody in the test county may see it."""
    county = make_unit("county", None, "桐庐县", "330122000000")
    township = make_unit("township", county, "分水镇")
    make_unit("village", township, "外桐村")
    campaign = make_campaign(county, title="桐庐县防溺水专项行动")
    task = make_task(campaign)
    db.session.commit()
    return SimpleNamespace(county=county, campaign=campaign, task=task)




WINDOW = {
    "start_date": date(2026, 10, 1),
    "end_date": date(2026, 10, 31),
    "deadline_date": date(2026, 11, 5),
    "deadline_time": time(17, 0),
}
