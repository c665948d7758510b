"""Unit categories (the kind of school, the agency's line of work) read as words, and a task is
limited to one by choosing it from a fixed list, never by typing an English code."""
import re

import pytest
from sqlalchemy import select

from campaign.campaigns import services
from campaign.campaigns.models import Task
from tests.campaigns.test_campaign_pages import TASK_FORM, page
from tests.conftest import ROLE_HOMES

MANAGERS = {"admin", "county_officer"}


def test_the_task_form_offers_the_categories_in_words(as_county_officer, forest_fire):
    html = page(as_county_officer.get(f"/campaigns/{forest_fire.id}/tasks/new"))
    assert re.search(r'<select[^>]*name="unit_category"', html)
    assert '<option value="carrier">通信运营商</option>' in html
    assert '<option value="primary">小学</option>' in html
    assert re.search(r'<option (selected )?value=""( selected)?>不限类别</option>', html)


def test_a_task_limited_to_a_category_is_saved_and_shown_in_words(as_county_officer, db, forest_fire):
    response = as_county_officer.post_form(f"/campaigns/{forest_fire.id}/tasks/new", {
        **TASK_FORM, "title": "派出所配合水域排查", "unit_kinds": ["agency"], "unit_category": "police",
    })
    assert response.status_code == 302
    task = db.session.scalar(select(Task).where(Task.title == "派出所配合水域排查"))
    assert task.unit_category == "police"
    detail = page(as_county_officer.get(f"/campaigns/{forest_fire.id}"))
    assert "公安派出所" in detail and "（police）" not in detail


@pytest.mark.parametrize("bad", ["nonsense", "Carrier", "通信运营商", "<script>x</script>"])
def test_a_category_outside_the_list_is_refused(as_county_officer, db, forest_fire, bad):
    before = db.session.scalar(select(Task.id).order_by(Task.id.desc()))
    html = page(as_county_officer.post_form(f"/campaigns/{forest_fire.id}/tasks/new",
                                            {**TASK_FORM, "unit_category": bad}))
    assert "请从列表中选择单位类别" in html
    assert "<script>x</script>" not in html
    assert db.session.scalar(select(Task.id).order_by(Task.id.desc())) == before


def test_the_service_refuses_an_unknown_category_from_any_caller(db, forest_fire, users):
    with pytest.raises(services.CampaignError) as refused:
        services.add_task(forest_fire, actor=users.county_officer, title="发短信", unit_kinds=["agency"],
                          unit_category="sms_people")
    assert refused.value.code == "unknown_category"


@pytest.mark.parametrize("role", sorted(set(ROLE_HOMES) - MANAGERS))
def test_no_other_role_can_set_a_category(login, db, forest_fire, role):
    response = login(role).post_form(f"/campaigns/{forest_fire.id}/tasks/new",
                                     {**TASK_FORM, "unit_category": "police"})
    assert response.status_code in (403, 404)
    assert db.session.scalar(select(Task).where(Task.unit_category == "police")) is None
