"""Long lists on a phone: the chasing list and the audit trail come in pages a reporter's phone can load."""
from campaign.audit.services import record
from campaign.extensions import db as _db
from tests.browser.conftest import log_in
from tests.factories import make_unit
from tests.progress.chasing_helpers import chased_campaign, make_report


def test_the_chasing_list_pages_on_a_phone(phone_page, live_server, tree, users, screenshot):
    built = chased_campaign(tree, users)
    for index in range(60):
        village = make_unit("village", tree.township_a, f"新村{index:02d}", contact_name="赵六", phone="13900000000")
        make_report(built.campaign, built.signs, village)
    _db.session.commit()
    page = phone_page

    log_in(page, live_server, "county_officer")
    page.goto(f"{live_server}/progress/campaigns/{built.campaign.id}/chasing")
    assert page.get_by_text("第 1 页，共 2 页").is_visible()
    assert page.locator("table.chasing-table tbody tr").count() == 50
    screenshot(page, "chasing-phone-page-1")

    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**/chasing?*page=2*")
    assert page.get_by_text("第 2 页，共 2 页").is_visible()
    assert 0 < page.locator("table.chasing-table tbody tr").count() < 50
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    screenshot(page, "chasing-phone-page-2")


def test_the_audit_trail_pages_back_and_forth_on_a_phone(phone_page, live_server, users, screenshot):
    for number in range(70):
        record("unit.update", "unit", number, after={"name": f"第{number}号"}, actor=users.admin)
    _db.session.commit()
    page = phone_page

    log_in(page, live_server, "admin")
    page.goto(f"{live_server}/audit/")
    assert page.get_by_text("第69号").count() >= 1
    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**/audit/?*before=*")
    assert page.get_by_text("第5号").count() >= 1 and page.get_by_text("第69号").count() == 0
    screenshot(page, "audit-phone-older")

    page.get_by_role("link", name="上一页").click()
    page.wait_for_url("**/audit/?*after=*")
    assert page.get_by_text("第69号").count() >= 1
