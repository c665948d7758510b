"""In Chromium on a phone-sized screen, a village reporter reports a quantity with a photo in one pass."""
import pytest
from PIL import Image

from campaign.campaigns.models import Assignment
from tests import factories
from tests.browser.conftest import image_loaded
from tests.reporting.conftest import make_running_campaign

pytestmark = pytest.mark.browser


def test_a_village_reporter_reports_with_a_photo_on_a_phone(live_server, phone_page, users, tree, tmp_path,
                                                             screenshot):
    made = make_running_campaign(tree)
    photo = tmp_path / "村口标牌.jpg"
    Image.new("RGB", (800, 600), (30, 120, 60)).save(photo, "JPEG")

    page = phone_page
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("village_reporter")
    page.get_by_label("密码").fill(factories.DEFAULT_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")

    page.get_by_role("link", name="设置永久性宣传标牌").click()
    page.wait_for_url(f"{live_server}/reports/*")
    assert "0 / 10 块" in page.locator("#figure").inner_text()

    page.get_by_label("数量").fill("6")
    page.get_by_label("拍照").set_input_files(str(photo))
    page.get_by_label("备注").fill("村口、进山路口各设 3 块")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "village-reporter-report-before-submitting")
    with page.expect_navigation():
        page.get_by_role("button", name="上报", exact=True).click()
    assert "报告已上报，等待审核。" in page.content()
    assert "6 / 10 块 · 60%" in page.locator("#figure").inner_text()
    thumbnail = page.locator("#evidence img")
    assert thumbnail.count() == 1
    assert image_loaded(thumbnail)
    assert "已上报" in page.locator("h1").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling on a phone
    screenshot(page, "village-reporter-submitted-report")

    factories.db.session.expire_all()
    report = factories.db.session.query(Assignment).filter_by(task_id=made.signs.id, unit_id=tree.village_a1.id).one()
    assert report.status == "submitted" and report.note == "村口、进山路口各设 3 块"
