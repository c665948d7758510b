"""Fixtures of the accounts tests: a neighbouring county outside everybody's area, CSV files."""
from datetime import timedelta
from types import SimpleNamespace

import pytest

from campaign.accounts import services
from campaign.database import utcnow
from tests import factories


@pytest.fixture
def other_county(db, users):
    """A second county with its own township and reporter: outside the area of every test user."""
    county = factories.make_unit("county", None, "余杭区", "330110000000")
    township = factories.make_unit("township", county, "五常街道", "330110005000")
    village = factories.make_unit("village", township, "五常村委会", "330110005201")
    reporter = factories.make_user(role="village_reporter", unit=village, username="outsider")
    officer = factories.make_user(role="county_officer", unit=county, username="yuhang_officer")
    db.session.commit()
    return SimpleNamespace(county=county, township=township, village=village, reporter=reporter, officer=officer)


@pytest.fixture
def reporter_b(db, users, tree):
    """A village reporter of township B: inside the county's area, outside township A's."""
    user = factories.make_user(role="village_reporter", unit=tree.village_b1, username="reporter_b")
    db.session.commit()
    return user


def csv_bytes(*rows, header="username,display_name,role,unit_code,phone,password", encoding="utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


class Clock:
    """The accounts services' time: a microsecond passes at each reading, more only when the test
    moves it, so a wait never runs out by itself however slow the machine."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        self.now += timedelta(microseconds=1)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """The login throttle's clock, frozen but for a microsecond a reading (tests move it themselves)."""
    clock = Clock()
    monkeypatch.setattr(services, "utcnow", clock)
    return clock

