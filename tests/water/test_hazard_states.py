"""A hazard's state reads 未整改 / 整改中 / 已销号 wherever it is shown, never 查看 (the verb "open")."""
import re

import pytest

from tests.water.conftest import make_hazard, make_point

STATE_WORDS = {"open": "未整改", "in_progress": "整改中", "closed": "已销号"}


def badges(page: str) -> list[str]:
    return re.findall(r'<span class="badge hazard-[a-z_]+">([^<]+)</span>', page)


@pytest.mark.parametrize("status, words", STATE_WORDS.items())
def test_each_state_reads_in_words_on_the_ledger_and_the_point(as_township_officer, tree, db, status, words):
    point = make_point(tree.village_a1)
    make_hazard(point, status=status, description="护栏破损")
    db.session.commit()
    ledger = as_township_officer.get("/water/hazards?status=").get_data(as_text=True)
    assert badges(ledger) == [words]
    detail = as_township_officer.get(f"/water/{point.id}").get_data(as_text=True)
    assert words in detail and "查看" not in badges(detail)


def test_an_overdue_open_hazard_no_longer_reads_view_overdue(as_village_reporter, tree, db):
    from tests.factories import a_date

    make_hazard(make_point(tree.village_a1), rectify_by=a_date(-2))
    db.session.commit()
    ledger = as_village_reporter.get("/water/hazards").get_data(as_text=True)
    assert "未整改" in ledger and "查看 逾期" not in ledger and "查看" not in " ".join(badges(ledger))


def test_the_state_filter_offers_each_choice_once(as_township_officer, tree):
    ledger = as_township_officer.get("/water/hazards").get_data(as_text=True)
    values = re.findall(r'<option value="([a-z_]*)"', ledger.split('name="status"')[1].split("</select>")[0])
    assert sorted(values) == sorted(["open", "in_progress", "closed", ""])
    assert ">未销号<" in ledger


def test_in_english_the_states_are_words_of_their_own(as_township_officer, tree, db):
    make_hazard(make_point(tree.village_a1))
    db.session.commit()
    as_township_officer.post_form("/language", {"locale": "en"})
    ledger = as_township_officer.get("/water/hazards").get_data(as_text=True)
    assert badges(ledger) == ["Not rectified"]
