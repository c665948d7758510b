"""Fixtures of the accounts tests: a neighbouring county outside everybody's area, CSV files."""
from types import SimpleNamespace

import pytest

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
