"""On a phone without signal: visited pages open from the service worker's cache, a form saved
offline waits in the outbox with a badge, and it is delivered exactly once when the signal returns."""
import json
import re

import pytest
from PIL import Image
from sqlalchemy import select

from campaign.campaigns.models import Instalment
from campaign.water.models import Patrol, WaterPhoto
from tests import factories
from tests.browser.conftest import log_in
from tests.reporting.conftest import assignment_of, make_running_campaign
from tests.water.conftest import make_point

pytestmark = pytest.mark.browser


def running_report(tree):
    """The village's signs report, committed, so the live server sees it and the test holds no lock."""
    report_id = assignment_of(make_running_campaign(tree).signs, tree.village_a1).id
    factories.db.session.commit()
    return report_id


def instalments_of(report_id):
    quantities = factories.db.session.scalars(
        select(Instalment.quantity).where(Instalment.assignment_id == report_id).order_by(Instalment.id)).all()
    factories.db.session.rollback()  # hold no lock while the browser writes
    return quantities


def start_offline_ready(page, live_server):
    """Log in as the village reporter and wait until the service worker controls the page."""
    log_in(page, live_server, "village_reporter")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def waiting_badge(page, count):
    """Wait until the header badge shows that many records waiting."""
    page.locator("#outbox-badge", has_text=f"{count} 条待上传").wait_for()


QUEUED = "网络中断，已存入待上传，恢复后自动发送。"


def answer_posts(page, report_id, status, body):
    """Stub the server's answer to the one-pass form; the page itself still loads."""
    def answer(route):
        if route.request.method == "POST":
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.route(f"**/reports/{report_id}", answer)


def capture_instalment_offline(page, quantity, waiting=1):
    """The one-pass report form, sent with no signal: field-form.js hands it to the outbox."""
    page.get_by_label("数量").fill(str(quantity))
    page.get_by_role("button", name="暂存", exact=True).click()
    page.get_by_text(QUEUED).wait_for()
    waiting_badge(page, waiting)


def test_a_report_saved_offline_is_delivered_once_when_the_signal_returns(live_server, phone_page, tree, users,
                                                                         screenshot):
    report = running_report(tree)
    page = phone_page
    crashes = []
    page.on("pageerror", lambda error: crashes.append(error))
    start_offline_ready(page, live_server)
    page.goto(f"{live_server}/reports/")
    page.goto(f"{live_server}/reports/{report}")
    versioned = "fetch('/static/css/reporting.css?v=1').then((response) => response.status)"
    assert page.evaluate(versioned) == 200

    page.context.set_offline(True)
    page.reload()
    assert "设置永久性宣传标牌" in page.locator("h1").inner_text()
    assert page.locator(".card").first.evaluate("card => getComputedStyle(card).borderRadius") == "8px"  # CSS too
    assert page.evaluate(versioned) == 200
    page.goto(f"{live_server}/reports/")
    assert "我的任务" in page.locator("h1").inner_text()
    page.goto(f"{live_server}/water/")  # never opened on this phone
    assert "本机尚未打开过此页面" in page.content()

    page.goto(f"{live_server}/reports/{report}")
    capture_instalment_offline(page, 6)
    badge = page.locator("#outbox-badge")
    assert badge.inner_text() == "1 条待上传"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "offline-report-saved-in-outbox")
    assert instalments_of(report) == []

    page.context.set_offline(False)
    page.locator("#outbox-badge").wait_for(state="hidden")
    assert instalments_of(report) == [6]
    assert page.evaluate("CampaignOutbox.flush().then(() => CampaignOutbox.count())") == 0
    assert instalments_of(report) == [6]

    page.reload()
    assert "6 / 10 块" in page.locator("#figure").inner_text()
    assert crashes == []


def test_the_outbox_sends_in_order_with_the_same_fields_and_a_fresh_token(live_server, phone_page, tree, users):
    report = running_report(tree)
    page = phone_page
    start_offline_ready(page, live_server)
    page.goto(f"{live_server}/reports/{report}")
    sent = []
    page.on("request", lambda request: sent.append(request.post_data_buffer) if request.method == "POST" else None)

    page.locator(".report-form input[name=csrf_token]").evaluate("input => { input.value = 'expired-token'; }")
    page.context.set_offline(True)
    capture_instalment_offline(page, 2)
    capture_instalment_offline(page, 3, waiting=2)
    page.context.set_offline(False)
    page.locator("#outbox-badge").wait_for(state="hidden")

    assert instalments_of(report) == [2, 3]
    assert len(sent) == 2 and all(b"expired-token" not in body for body in sent)


def test_a_conflict_keeps_the_record_and_shows_the_other_persons_values(live_server, phone_page, tree, users,
                                                                       screenshot):
    report = running_report(tree)
    page = phone_page
    start_offline_ready(page, live_server)
    page.goto(f"{live_server}/reports/{report}")
    conflict = {"ok": False, "conflict": True, "message": "此报告已被乡镇退回，请核对后重新填报。",
                "theirs": {"备注": "<b>王五</b> 已改为 8 块"}}
    answer_posts(page, report, 409, conflict)

    page.context.set_offline(True)
    capture_instalment_offline(page, 6)
    page.context.set_offline(False)
    page.locator("#outbox-badge.attention").wait_for()
    assert page.locator("#outbox-badge").inner_text() == "1 条待上传"
    assert instalments_of(report) == []

    page.locator("#outbox-badge").click()
    item = page.locator(".outbox-item")
    item.wait_for()
    assert "需要处理" in item.inner_text()
    assert "此报告已被乡镇退回，请核对后重新填报。" in item.inner_text()
    assert "<b>王五</b> 已改为 8 块" in item.locator("dl").inner_text()  # shown as text, not markup
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "offline-outbox-conflict")


def test_logging_out_with_records_waiting_asks_first_and_forgets_the_pages(live_server, phone_page, tree, users):
    report = running_report(tree)
    page = phone_page
    start_offline_ready(page, live_server)
    page.goto(f"{live_server}/reports/{report}")
    page.context.set_offline(True)
    capture_instalment_offline(page, 6)
    page.route("**/session/csrf", lambda route: route.abort("internetdisconnected"))  # keep it waiting
    page.context.set_offline(False)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("details.usermenu > summary").tap()
    with page.expect_event("dialog") as asked:
        page.get_by_role("button", name="退出").click()
    assert "本机还有 1 条记录尚未上传" in asked.value.message
    assert page.url.endswith(f"/reports/{report}")

    page.once("dialog", lambda dialog: dialog.accept())
    if not page.locator(".usermenu-panel").is_visible():
        page.locator("details.usermenu > summary").tap()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{live_server}/login")
    assert page.evaluate("caches.open('campaign-pages').then((cache) => cache.keys()).then((keys) => keys.length)") == 0


def test_patrols_with_photos_are_saved_offline_and_a_refused_one_waits_for_the_user(live_server, phone_page, tree,
                                                                                    users, tmp_path, screenshot):
    point_id = make_point(tree.village_a1, name="西溪水库").id
    factories.db.session.commit()
    photo = tmp_path / "水库岸边.jpg"
    Image.new("RGB", (640, 480), (20, 90, 160)).save(photo, "JPEG")
    page = phone_page
    start_offline_ready(page, live_server)
    page.goto(f"{live_server}/water/{point_id}/patrols/new")

    page.context.set_offline(True)
    page.get_by_label("时间（北京时间）").fill("")  # the form proposes the current time; this one is emptied
    page.get_by_label("发现问题及处理情况").fill("时间忘填了")
    page.get_by_role("button", name="保存", exact=True).click()
    waiting_badge(page, 1)
    page.get_by_label("时间（北京时间）").fill("09:30")
    page.get_by_label("巡查人").fill("李四")
    page.get_by_label("发现问题及处理情况").fill("岸边有人垂钓，已劝离")
    page.get_by_label("照片").set_input_files(str(photo))
    page.get_by_role("button", name="保存", exact=True).click()
    waiting_badge(page, 2)

    page.context.set_offline(False)
    page.locator("#outbox-badge.attention", has_text="1 条待上传").wait_for()

    patrols = factories.db.session.scalars(select(Patrol).where(Patrol.water_point_id == point_id)).all()
    assert [(patrol.patroller_name, patrol.findings) for patrol in patrols] == [("李四", "岸边有人垂钓，已劝离")]
    photos = factories.db.session.scalars(select(WaterPhoto).where(WaterPhoto.patrol_id == patrols[0].id)).all()
    assert len(photos) == 1
    factories.db.session.rollback()
    page.goto(f"{live_server}/outbox")
    item = page.locator(".outbox-item")
    assert "未保存：请按红字提示修改后再提交。" in item.locator("p.error").inner_text()
    refused = item.locator("dl.error")  # the field by its label, not its name in the code
    assert refused.locator("dt").inner_text() == "时间（北京时间）"
    assert refused.locator("dd").inner_text() == "此项为必填项。"
    assert refused.evaluate("dl => getComputedStyle(dl).color") == item.locator("p.error").evaluate(
        "p => getComputedStyle(p).color")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "offline-outbox-refused-patrol")


BAD_INPUT = {"ok": False, "message": "请检查填写的内容。", "errors": {"quantity": ["请输入整数。"]}}


@pytest.mark.parametrize("stubbed, status, body, first_state, message", [
    ("report", 400, BAD_INPUT, "attention", "请检查填写的内容。"),
    ("csrf", 401, {"ok": False}, "login", "请重新登录，登录后自动上传。"),
    ("report", 503, {"ok": False}, "waiting", "服务器暂时无法处理，稍后自动重试。"),
])
def test_each_answer_keeps_the_record_in_its_state(live_server, phone_page, tree, users, stubbed, status, body,
                                                   first_state, message):
    report = running_report(tree)
    page = phone_page
    start_offline_ready(page, live_server)
    page.goto(f"{live_server}/reports/{report}")
    if stubbed == "report":
        answer_posts(page, report, status, body)
    else:
        page.route("**/session/csrf",
                   lambda route: route.fulfill(status=status, content_type="application/json", body=json.dumps(body)))
    page.context.set_offline(True)
    capture_instalment_offline(page, 2)
    capture_instalment_offline(page, 3, waiting=2)
    page.context.set_offline(False)

    items = page.evaluate("""CampaignOutbox.flush().then(() => CampaignOutbox.list())
        .then((items) => items.map((item) => [item.state, item.message]))""")
    assert items[0] == [first_state, message]
    if first_state == "attention":  # a refused record does not hold back the next one
        assert items[1][0] == "attention"
    else:  # the order is kept: nothing is sent before the first one
        assert items[1] == ["waiting", ""]
    assert instalments_of(report) == []
    waiting_badge(page, 2)


def test_a_form_sent_while_the_link_drops_on_the_way_waits_in_the_outbox(live_server, phone_page, tree, users,
                                                                         screenshot):
    report = running_report(tree)
    page = phone_page
    start_offline_ready(page, live_server)
    page.goto(f"{live_server}/reports/{report}")

    def dropped_on_the_way(route):
        if route.request.method == "POST":
            route.abort("connectionreset")
        else:
            route.continue_()

    page.context.route(f"**/reports/{report}", dropped_on_the_way)

    page.get_by_label("数量").fill("4")
    page.get_by_role("button", name="暂存", exact=True).click()  # the phone believes it is online
    page.get_by_text(QUEUED).wait_for()
    waiting_badge(page, 1)
    assert instalments_of(report) == []
    page.goto(f"{live_server}/outbox")
    item = page.locator(".outbox-item")
    assert "设置永久性宣传标牌" in item.inner_text()
    screenshot(page, "offline-outbox-after-a-dropped-link")

    page.context.unroute(f"**/reports/{report}")
    assert page.evaluate("CampaignOutbox.flush().then(() => CampaignOutbox.flush()).then(() => CampaignOutbox.count())") == 0
    assert instalments_of(report) == [4]
    item.wait_for(state="detached")
    assert page.get_by_text("没有待上传的记录。").is_visible()


def test_each_page_view_gets_its_own_idempotency_keys(live_server, phone_page, tree, users):
    report = running_report(tree)
    page = phone_page
    start_offline_ready(page, live_server)

    def with_a_server_key(route):  # as a page whose forms carry a key rendered by the server
        response = route.fetch()
        body = re.sub(r'(name="idempotency_key"[^>]*value=")[^"]*', r"\1from-the-server", response.text())
        route.fulfill(response=response, body=body)

    page.context.route(f"**/reports/{report}", with_a_server_key)
    page.goto(f"{live_server}/reports/{report}")
    key = page.locator(".report-form input[name=idempotency_key]")
    first = key.input_value()
    assert first != "from-the-server" and len(first) == 32

    page.context.set_offline(True)
    capture_instalment_offline(page, 2)
    assert key.input_value() not in (first, "from-the-server")
    [item] = page.evaluate("CampaignOutbox.list()")
    assert dict(item["fields"])["idempotency_key"] == first

    page.reload()  # the same HTML, from the cache
    assert key.input_value() not in (first, "from-the-server")
