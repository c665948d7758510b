"""In a browser on a phone: a reporter who mistyped too often is told to wait and whom to ask; the
office unlocks the account and revokes the reporter's API tokens from the user's page."""
from campaign.api.services import authenticate, create_token
from tests.browser.conftest import log_in

WRONG = "Wrong-guess-1"


def try_login(page, live_server, username, password):
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_the_office_unlocks_a_slowed_reporter_and_revokes_their_tokens(app, browser, live_server, phone_page,
                                                                     users, db, screenshot):
    _, clear = create_token(users.village_reporter, "<i>村里的平板</i>")
    reporter_id = users.village_reporter.id
    db.session.commit()  # no transaction of the test's may hold the database while the server writes
    for _ in range(app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"]):
        try_login(phone_page, live_server, "village_reporter", WRONG)
    try_login(phone_page, live_server, "village_reporter", "Passw0rd123")
    assert "此处登录失败次数过多" in phone_page.content()
    assert "区（县）指挥部办公室" in phone_page.content()
    screenshot(phone_page, "login-slowed-360")

    office_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True)
    office = office_context.new_page()
    try:
        log_in(office, live_server, "county_officer")
        office.goto(f"{live_server}/users/{reporter_id}/access")
        assert "登录失败 5 次" in office.content()
        assert office.get_by_text("<i>村里的平板</i>").is_visible()  # shown as text, not markup
        screenshot(office, "user-access-360")
        office.get_by_role("button", name="解除登录限制").click()
        office.wait_for_load_state()
        assert "现在可从任何地点立即登录" in office.content()
        office.get_by_role("button", name="吊销全部令牌").click()
        office.wait_for_load_state()
        assert "已吊销 village_reporter 的 1 个令牌" in office.content()
        screenshot(office, "user-access-revoked-360")
    finally:
        office_context.close()

    log_in(phone_page, live_server, "village_reporter")
    assert authenticate(clear) is None
    db.session.commit()
