"""The progress dashboard pages: figures, drill-down, sorting, scoping by role and URL tampering."""
import re

import pytest

from campaign.extensions import db as _db
from campaign.reporting.services import approve

from tests.factories import make_campaign, make_task, make_unit
from tests.progress.dashboard_helpers import hand_built

ALLOWED = ["admin", "county_officer", "township_officer", "inspector", "viewer"]
DENIED = ["village_reporter", "school_reporter", "agency_reporter"]


@pytest.fixture
def built(db, tree, users):
    return hand_built(tree)


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def url(built, unit=None):
    base = f"/progress/campaigns/{built.campaign.id}"
    return f"{base}/units/{unit.id}" if unit else base


@pytest.mark.parametrize("role", ALLOWED)
def test_roles_with_progress_view_open_the_dashboard(built, login, role):
    assert built.campaign.title in page(login(role), url(built))


@pytest.mark.parametrize("role", DENIED)
def test_reporters_are_refused_the_dashboard(built, login, role):
    page(login(role), url(built), 403)


def test_anonymous_users_are_sent_to_log_in(built, client):
    response = client.get(url(built))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_county_dashboard_shows_each_township_with_its_figures_and_totals(built, as_county_officer):
    html = page(as_county_officer, url(built))

    assert "玲珑街道" in html and "太湖源镇" in html
    assert "15 / 40" in html  # signs: reported / target total for the county
    assert "37.5%" in html
    assert "<meter" in html  # bars drawn by the browser itself: no script of the dashboard's own
    assert re.findall(r'<script src="/static/js/([^"?]+)', html) == ["outbox.js"]


def test_the_dashboard_shows_the_days_left(built, as_county_officer):
    html = page(as_county_officer, url(built))
    assert re.search(r"剩余 \d+ 天|\d+ days left", html)


def test_a_township_officer_sees_only_their_villages(built, as_township_officer):
    html = page(as_township_officer, url(built))

    assert "夏禹桥村委会" in html and "前山村委会" in html
    assert "白沙村委会" not in html and "太湖源镇" not in html


@pytest.mark.parametrize("other", ["county", "township_b", "village_b1", "kindergarten_b", "carrier"])
def test_a_township_officer_tampering_with_the_url_gets_404(built, tree, as_township_officer, other):
    page(as_township_officer, url(built, getattr(tree, other)), 404)


def test_a_unit_outside_the_campaign_gives_404(db, built, tree, as_county_officer):
    elsewhere = make_unit("county", None, "桐庐县")
    db.session.commit()
    page(as_county_officer, url(built, elsewhere), 404)


def test_another_countys_campaign_gives_404(db, built, as_county_officer):
    county = make_unit("county", None, "桐庐县")
    campaign = make_campaign(county, title="桐庐县防溺水专项行动", status="active")
    make_task(campaign)
    db.session.commit()
    page(as_county_officer, f"/progress/campaigns/{campaign.id}", 404)
    page(as_county_officer, f"/progress/campaigns/99999", 404)


def test_a_draft_campaign_has_no_dashboard(db, tree, as_county_officer):
    campaign = make_campaign(tree.county)
    db.session.commit()
    page(as_county_officer, f"/progress/campaigns/{campaign.id}", 404)


def test_drill_down_from_county_to_township_to_village_to_the_report(built, tree, as_county_officer):
    county = page(as_county_officer, url(built))
    assert f'href="/progress/campaigns/{built.campaign.id}/units/{tree.township_a.id}"' in county

    township = page(as_county_officer, url(built, tree.township_a))
    assert f'href="/progress/campaigns/{built.campaign.id}/units/{tree.village_a2.id}"' in township

    village = page(as_county_officer, url(built, tree.village_a2))
    assert f'/reports/{built.reports.a2_signs.id}"' in village
    assert f'/reports/{built.reports.a2_plan.id}"' in village


def test_sorting_a_task_table_by_a_column(built, tree, as_county_officer):
    ascending = page(as_county_officer, url(built, tree.township_a) + "?sort=reported")
    descending = page(as_county_officer, url(built, tree.township_a) + "?sort=-reported")

    table = lambda html: html.split(f'id="task-{built.signs.id}"')[1].split("</table>")[0]  # noqa: E731
    asc, desc = table(ascending), table(descending)
    assert asc.index("玲珑山社区") < asc.index("前山村委会") < asc.index("夏禹桥村委会")
    assert desc.index("夏禹桥村委会") < desc.index("前山村委会") < desc.index("玲珑山社区")


def test_an_unknown_sort_key_is_ignored(built, as_county_officer):
    assert "玲珑街道" in page(as_county_officer, url(built) + "?sort=__class__")


def test_user_text_is_escaped(db, built, tree, as_county_officer):
    tree.village_a1.name = "<b>恶意</b>村"
    db.session.commit()
    html = page(as_county_officer, url(built, tree.township_a))
    assert "<b>恶意</b>" not in html and "&lt;b&gt;恶意&lt;/b&gt;村" in html


def test_the_campaign_page_links_to_the_dashboard(built, as_county_officer):
    html = page(as_county_officer, f"/campaigns/{built.campaign.id}")
    assert f'href="/progress/campaigns/{built.campaign.id}"' in html


def test_the_dashboard_reads_in_chinese(built, as_county_officer):
    html = page(as_county_officer, url(built))
    for words in ("应报", "已上报", "按时", "逾期", "未报", "合计"):
        assert words in html


def test_a_campaign_run_by_another_township_is_out_of_sight(db, tree, users, as_township_officer):
    campaign = make_campaign(tree.township_b, title="太湖源镇防溺水", status="active")
    make_task(campaign)
    db.session.commit()
    page(as_township_officer, f"/progress/campaigns/{campaign.id}", 404)


def test_the_county_sees_a_township_campaign_from_its_root(db, tree, users, as_county_officer):
    from tests.progress.dashboard_helpers import make_report

    campaign = make_campaign(tree.township_a, title="玲珑街道防溺水", status="active")
    task = make_task(campaign)
    make_report(campaign, task, tree.village_a1)
    db.session.commit()
    html = page(as_county_officer, f"/progress/campaigns/{campaign.id}")
    assert "夏禹桥村委会" in html and "太湖源镇" not in html


def test_the_village_page_reads_in_chinese(built, tree, as_county_officer):
    html = page(as_county_officer, url(built, tree.village_a2))
    for words in ("查看报表", "逾期", "未上报", "首次上报时间"):
        assert words in html


def test_the_dashboard_in_english(built, as_county_officer):
    as_county_officer.post_form("/language", {"locale": "en", "next": "/"})
    html = page(as_county_officer, url(built))
    assert "Expected" in html and "Units reaching target" in html


def test_a_report_approved_after_a_visit_shows_on_the_next_visit(built, users, as_county_officer):
    before = page(as_county_officer, url(built))
    assert "15 / 40" in before

    approve(built.reports.a2_signs, users.county_officer, expected_version=built.reports.a2_signs.version)
    _db.session.commit()
    after = page(as_county_officer, url(built))

    assert after != before
    assert "15 / 40" in after  # still counted: submitted and approved both count
    approved_cells = re.findall(r'<td class="num">(\d+)</td>', after)
    assert approved_cells != re.findall(r'<td class="num">(\d+)</td>', before)


def test_the_same_figures_read_in_the_language_chosen_after_a_visit(built, as_county_officer):
    assert "达标单位数" in page(as_county_officer, url(built))
    as_county_officer.post_form("/language", {"locale": "en", "next": "/"})

    html = page(as_county_officer, url(built))

    assert "Expected" in html and "Units reaching target" in html
