"""The office reads the audit trail in a browser: words, filters by words, on a phone as on a desk."""
from tests.audit.test_audit_words import TITLE, trail  # noqa: F401  (the fixture)
from tests.browser.conftest import log_in


def test_the_office_reads_and_filters_the_trail_in_words(desktop_page, phone_page, live_server, trail,  # noqa: F811
                                                          screenshot):
    for page, name in ((desktop_page, "audit-desktop"), (phone_page, "audit-phone")):
        log_in(page, live_server, "admin")
        page.goto(f"{live_server}/audit/")
        table = page.locator("table")
        assert table.get_by_text(f"专项行动“{TITLE}”").count() >= 1
        assert table.get_by_text("草稿 → 进行中").count() == 1
        screenshot(page, name)

        page.get_by_label("操作").select_option(label="审核通过")
        page.get_by_role("button", name="筛选").click()
        page.wait_for_url("**/audit/?*action=report.approve*")
        actions = table.locator("tbody tr td.action").all_inner_texts()
        assert actions and set(actions) == {"审核通过"}
        screenshot(page, f"{name}-filtered")

        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], "the page itself must not scroll sideways"
