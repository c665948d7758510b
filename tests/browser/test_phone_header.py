"""The header on a 360 px phone: one line, the account menu behind one tap (also without
JavaScript), tap targets of at least 44 px; the login with the keyboard's capital letter; the water
map's layer control folded away."""
import pytest

from campaign.extensions import db
from tests.browser.conftest import PHONE, log_in
from tests.factories import DEFAULT_PASSWORD
from tests.water.conftest import make_point

pytestmark = pytest.mark.browser


def box(locator):
    return locator.bounding_box()


def test_the_header_is_one_line_with_the_menu_behind_one_tap(live_server, phone_page, users, screenshot):
    page = phone_page
    log_in(page, live_server, "village_reporter")
    header = page.locator("header.topbar")
    assert box(header)["height"] <= 56
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("#outbox-badge").count() == 1 and page.locator("#outbox-badge").is_hidden()
    logout = page.locator(".usermenu-panel button", has_text="退出")
    assert logout.count() == 1 and logout.is_hidden()
    screenshot(page, "phone-header-closed")

    page.locator("details.usermenu > summary").tap()
    menu = page.locator(".usermenu-panel")
    assert menu.is_visible()
    items = menu.locator(".menuitem")
    assert [text.strip() for text in items.all_inner_texts()] == ["English", "修改密码", "退出"]
    targets = [*items.all(), page.locator("details.usermenu > summary"), *page.locator(".mainnav a").all()]
    assert all(box(target)["height"] >= 44 for target in targets)
    menu_box = box(menu)
    assert menu_box["x"] >= 0 and menu_box["x"] + menu_box["width"] <= PHONE["width"]
    screenshot(page, "phone-header-menu-open")

    logout.tap()
    page.wait_for_url(f"{live_server}/login")


def test_the_office_finds_the_api_tokens_in_the_same_menu(live_server, phone_page, users, screenshot):
    page = phone_page
    log_in(page, live_server, "county_officer")
    assert box(page.locator("header.topbar"))["height"] <= 56  # its seven links scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("details.usermenu > summary").tap()
    assert "API 令牌" in page.locator(".usermenu-panel").inner_text()
    screenshot(page, "phone-header-office-menu-open")


def test_the_menu_opens_without_javascript(browser, live_server, users, db):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "village_reporter")
        page.locator("details.usermenu > summary").click()
        page.get_by_role("button", name="退出", exact=True).click()
        page.wait_for_url(f"{live_server}/login")
    finally:
        context.close()


def test_a_capitalised_username_logs_in_on_the_phone(live_server, phone_page, users):
    page = phone_page
    page.goto(f"{live_server}/login")
    field = page.get_by_label("用户名")
    assert field.get_attribute("autocapitalize") == "none"
    field.fill("Village_reporter")
    page.get_by_label("密码").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")


def test_the_map_layer_control_is_folded_on_a_phone(live_server, phone_page, users, tree, offline_tiles):
    make_point(tree.village_a1)
    db.session.commit()
    page = phone_page
    log_in(page, live_server, "village_reporter")
    page.goto(f"{live_server}/water/map")
    page.wait_for_selector(".leaflet-control-layers")
    assert page.locator(".leaflet-control-layers-list").is_hidden()
    toggle = page.locator(".leaflet-control-layers-toggle")
    assert box(toggle)["width"] >= 44 and box(toggle)["height"] >= 44
