"""On a phone, a photo with too many pixels is refused at once with a message that names the limit."""
import pytest

from tests.browser.conftest import log_in
from tests.evidence.test_upload_checks import png_header
from tests.reporting.conftest import make_running_campaign

pytestmark = pytest.mark.browser


def test_the_9400_pixel_png_is_refused_on_the_report_page_naming_the_limit(live_server, phone_page, users, tree,
                                                                           tmp_path, screenshot):
    make_running_campaign(tree)
    bomb = tmp_path / "巨幅.png"
    bomb.write_bytes(png_header(9400, 9400))

    page = phone_page
    log_in(page, live_server, "village_reporter")
    page.get_by_role("link", name="设置永久性宣传标牌").click()
    page.wait_for_url(f"{live_server}/reports/*")

    page.get_by_label("拍照").set_input_files(str(bomb))
    page.get_by_role("button", name="暂存", exact=True).click()  # the one-pass form: its files go with the draft
    page.get_by_text("超过3146万像素的上限", exact=False).first.wait_for()

    assert "图片为 9400 × 9400 像素（约8836万像素），超过3146万像素的上限" in page.content()
    assert page.locator("#evidence img").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "village-reporter-photo-with-too-many-pixels")
