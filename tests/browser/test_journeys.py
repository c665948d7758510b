"""The main journeys, end to end in Chromium, in Chinese as the users see them: the county launches a
campaign; a village reporter on a phone reports with a photo, is returned, corrects and is approved;
a water point is registered on the map; the county reminds late units and downloads the workbook.

Each step saves a screenshot (journeyN-NN-…) under SCREENSHOT_DIR. The data is built through the
app's services and factories and committed before the browser acts: the live server is another
thread on the same database. Values the test needs later are copied out before the browser starts,
because reading an expired object would open a transaction that holds the SQLite write lock.
"""
import re

import openpyxl
import pytest
from PIL import Image
from sqlalchemy import func, select

from campaign.campaigns.models import Assignment, Task
from campaign.campaigns.services import launch_campaign
from campaign.extensions import db
from campaign.progress.models import OutboxMessage
from campaign.reporting import services as reporting
from campaign.timeutil import local_today
from campaign.water.models import WaterPoint
from tests import factories
from tests.browser.conftest import PHONE, image_loaded, log_in
from tests.reporting.conftest import assignment_of, make_running_campaign

pytestmark = pytest.mark.browser


def read(query):
    """Run a query from the test's side and end the transaction at once, so the server can write."""
    db.session.expire_all()
    try:
        return query()
    finally:
        db.session.commit()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def record_errors(page) -> list:
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and "Content Security Policy" in message.text
            and errors.append(message.text))
    return errors


def flashes(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def is_in_order(expected, seen) -> bool:
    """Every expected step appears in ``seen``, in this order (other steps may come between)."""
    remaining = iter(seen)
    return all(any(step == item for item in remaining) for step in expected)


def test_journey1_the_county_creates_adjusts_and_launches_a_campaign_from_the_playbook(
    live_server, desktop_page, users, tree, screenshot
):
    year = local_today().year + 1  # next year's month: its window and deadline lie ahead
    title = f"{year}年森林防火宣传月"
    page = desktop_page
    errors = record_errors(page)
    log_in(page, live_server, "county_officer")

    page.goto(f"{live_server}/campaigns/new")
    page.get_by_label("活动模板").select_option(label="森林防火宣传月")
    page.get_by_label("年度").fill(str(year))
    page.get_by_role("button", name="按模板填入").click()
    page.wait_for_load_state()
    assert page.get_by_label("标题").input_value() == title
    assert page.get_by_label("开始日期").input_value() == f"{year}-10-01"
    assert "将从模板复制 12 项任务。" in page.content()
    screenshot(page, "journey1-01-new-campaign-from-playbook")

    page.get_by_role("button", name="保存为草稿").click()
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    assert "专项行动已保存为草稿，请核对任务后再启动。" in flashes(page)
    assert "草稿" in page.locator("h1").inner_text()
    campaign_url = page.url
    screenshot(page, "journey1-02-draft")

    signs_row = page.locator("tr", has_text="设置永久性宣传标牌")
    signs_row.get_by_role("link", name="编辑").click()
    page.wait_for_url(re.compile(r".*/tasks/\d+/edit$"))
    target = page.get_by_label("目标", exact=True)
    assert target.input_value() == "10"
    target.fill("15")
    screenshot(page, "journey1-03-edit-task-target")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(campaign_url)
    assert "任务已保存。" in flashes(page)
    assert "≥ 15" in page.locator("tr", has_text="设置永久性宣传标牌").inner_text()

    page.get_by_role("link", name="启动", exact=True).click()
    page.wait_for_url(re.compile(r".*/launch$"))
    assert page.locator("h1").inner_text() == "启动专项行动"
    # The small county: 4 township tasks × 2 townships, 2 village tasks × 3 villages, 2 village-or-community
    # tasks × 4 units, 2 school tasks × 1 school, and one task each for the carrier and the weather bureau.
    expected = 4 * 2 + 2 * 3 + 2 * 4 + 2 * 1 + 1 + 1
    assert page.locator("tfoot").inner_text().split()[-1] == str(expected)
    assert page.locator("tbody tr", has_text="设置永久性宣传标牌").locator("td").last.inner_text() == "3"
    screenshot(page, "journey1-04-launch-confirm")

    page.get_by_role("button", name="确认启动").click()
    page.wait_for_url(campaign_url)
    assert f"专项行动已启动，共下达任务 {expected} 项。" in flashes(page)
    assert "已启动，尚未开始" in page.locator("h1").inner_text()  # next year's month: launched, not open yet
    assert page.get_by_role("link", name="查看工作进度").is_visible()
    screenshot(page, "journey1-05-active")

    page.get_by_role("link", name="专项行动", exact=True).first.click()
    page.wait_for_url(f"{live_server}/campaigns/")
    assert "已启动，尚未开始" in page.locator("tr", has_text=title).inner_text()
    screenshot(page, "journey1-06-campaign-list")
    assert errors == []

    campaign_id = int(campaign_url.rsplit("/", 1)[1])
    assignments, signs_target = read(lambda: (
        db.session.scalar(select(func.count(Assignment.id)).where(Assignment.campaign_id == campaign_id)),
        db.session.scalar(select(Task.target).where(Task.campaign_id == campaign_id,
                                                    Task.title == "设置永久性宣传标牌")),
    ))
    assert assignments == expected
    assert signs_target == 15


def test_journey2_a_report_with_a_photo_is_returned_corrected_and_approved(
    live_server, phone_page, desktop_page, users, tree, tmp_path, screenshot
):
    made = make_running_campaign(tree)
    assignment_id = assignment_of(made.signs, tree.village_a1).id
    db.session.commit()
    photo = tmp_path / "村口标牌.jpg"
    Image.new("RGB", (800, 600), (30, 120, 60)).save(photo, "JPEG")
    reason = "照片只拍到 6 块标牌，还差 4 块，请补齐后重新上报"

    reporter = phone_page
    reporter_errors = record_errors(reporter)
    log_in(reporter, live_server, "village_reporter")
    assert fits_the_phone(reporter)
    screenshot(reporter, "journey2-01-phone-my-tasks")
    reporter.get_by_role("link", name="设置永久性宣传标牌").click()
    reporter.wait_for_url(f"{live_server}/reports/{assignment_id}")
    report_url = reporter.url

    reporter.get_by_label("数量").fill("6")
    reporter.get_by_label("地点或内容（选填）").fill("村口、进山路口")
    reporter.get_by_label("拍照").set_input_files(str(photo))
    screenshot(reporter, "journey2-02-phone-one-pass-filled")
    with reporter.expect_navigation():
        reporter.get_by_role("button", name="上报", exact=True).click()
    assert "6 / 10 块" in reporter.locator("#figure").inner_text()
    thumbnail = reporter.locator("#evidence img")
    assert thumbnail.count() == 1
    assert image_loaded(thumbnail)
    assert "报告已上报，等待审核。" in flashes(reporter)
    assert "已上报" in reporter.locator("h1").inner_text()
    assert fits_the_phone(reporter)
    screenshot(reporter, "journey2-04-phone-submitted")

    township = desktop_page
    township_errors = record_errors(township)
    log_in(township, live_server, "township_officer")
    township.goto(f"{live_server}/reports/review")
    screenshot(township, "journey2-05-review-queue")
    township.get_by_role("link", name=re.compile("夏禹桥村委会 · 设置永久性宣传标牌")).click()
    township.wait_for_url(report_url)
    assert township.locator("#evidence img").count() == 1
    township.get_by_label("退回理由").fill(reason)
    screenshot(township, "journey2-06-return-with-reason")
    township.get_by_role("button", name="退回单位").click()
    township.wait_for_load_state()
    assert "报告已退回单位，并附退回理由。" in flashes(township)
    assert "已退回" in township.locator("h1").inner_text()

    reporter.reload()
    assert "已退回" in reporter.locator("h1").inner_text()
    returned = reporter.locator(".return-reason")
    assert "已退回修改" in returned.inner_text()
    assert reason in returned.inner_text()
    assert fits_the_phone(reporter)
    screenshot(reporter, "journey2-07-phone-sees-the-reason")

    reporter.get_by_label("数量").fill("4")
    reporter.get_by_label("备注").fill("已在后山路口补设 4 块，共 10 块")
    screenshot(reporter, "journey2-08-phone-corrected")
    with reporter.expect_navigation():
        reporter.get_by_role("button", name="上报", exact=True).click()
    assert "10 / 10 块" in reporter.locator("#figure").inner_text()
    assert "报告已上报，等待审核。" in flashes(reporter)
    assert "已上报" in reporter.locator("h1").inner_text()
    screenshot(reporter, "journey2-09-phone-resubmitted")

    township.goto(f"{live_server}/reports/review")
    township.get_by_role("link", name=re.compile("夏禹桥村委会 · 设置永久性宣传标牌")).click()
    township.wait_for_url(report_url)
    assert "已在后山路口补设 4 块，共 10 块" in township.locator("#report").inner_text()
    township.get_by_role("button", name="审核通过").click()
    township.wait_for_load_state()
    assert "报告已审核通过。" in flashes(township)
    assert "已审核通过" in township.locator("h1").inner_text()
    screenshot(township, "journey2-10-approved")

    reporter.reload()
    assert "已审核通过" in reporter.locator("h1").inner_text()
    assert reporter.get_by_role("button", name="上报", exact=True).count() == 0  # no longer editable
    steps = [text.strip() for text in reporter.locator("#history ol.history > li strong").all_inner_texts()]
    assert is_in_order(["填报数量", "上传佐证材料", "已上报", "已退回", "填报数量", "已上报", "已审核通过"], steps), steps
    assert reason in reporter.locator("#history").inner_text()
    assert fits_the_phone(reporter)
    screenshot(reporter, "journey2-11-phone-approved-with-history")
    assert reporter_errors == [] and township_errors == []

    status, total = read(lambda: (
        db.session.get(Assignment, assignment_id).status,
        reporting.quantity_total(db.session.get(Assignment, assignment_id)),
    ))
    assert (status, total) == ("approved", 10)


def test_journey3_a_village_reporter_registers_a_water_point_on_the_map(
    live_server, phone_page, users, tree, offline_tiles, screenshot
):
    tree.village_a1.latitude, tree.village_a1.longitude = 30.2336, 119.7249  # the picker opens here
    village_id = tree.village_a1.id
    db.session.commit()
    page = phone_page
    errors = record_errors(page)
    log_in(page, live_server, "village_reporter")

    page.goto(f"{live_server}/water/new")
    assert page.locator("h1").inner_text() == "登记水域"
    picker_map = page.locator(".point-picker .leaflet-container")
    picker_map.wait_for()
    assert page.get_by_label("纬度（WGS-84）").input_value() == ""
    page.get_by_label("水域名称").fill("夏禹桥村口山塘")
    page.get_by_label("水域类型").select_option(label="池塘")
    page.get_by_label("危险程度").select_option(label="高")
    page.get_by_label("安全信息员", exact=True).fill("张卫东")
    phone = page.get_by_label("安全信息员联系电话")
    phone.fill("13800001234")
    assert phone.bounding_box()["height"] == page.get_by_label("水域名称").bounding_box()["height"]  # styled alike
    screenshot(page, "journey3-01-phone-form")

    picker_map.tap()
    latitude = float(page.get_by_label("纬度（WGS-84）").input_value())
    longitude = float(page.get_by_label("经度（WGS-84）").input_value())
    assert abs(latitude - 30.2336) < 0.05 and abs(longitude - 119.7249) < 0.05  # near where the map opened
    assert page.locator(".point-picker-status").inner_text() == "已按地图点选的位置填入。"
    assert fits_the_phone(page)
    screenshot(page, "journey3-02-phone-position-tapped")

    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r".*/water/\d+$"))
    assert "水域“夏禹桥村口山塘”已保存。" in flashes(page)
    assert "待核" not in flashes(page)
    assert fits_the_phone(page)
    screenshot(page, "journey3-03-phone-saved")
    point_id = int(page.url.rsplit("/", 1)[1])

    page.goto(f"{live_server}/water/")
    assert page.get_by_role("link", name="夏禹桥村口山塘").is_visible()
    assert "张卫东" in page.locator("tr", has_text="夏禹桥村口山塘").inner_text()
    assert page.locator(".water-table th").first.inner_text() == "水域名称"
    screenshot(page, "journey3-04-phone-list")

    page.goto(f"{live_server}/water/map")
    page.wait_for_selector(".leaflet-marker-pane .water-pin, .marker-cluster")
    assert page.get_by_title("夏禹桥村口山塘", exact=True).count() == 1
    assert "水域总数：1 处" in page.locator(".water-map-legend").inner_text()
    assert fits_the_phone(page)
    screenshot(page, "journey3-05-phone-map")
    assert errors == []

    saved = read(lambda: db.session.execute(
        select(WaterPoint.name, WaterPoint.unit_id, WaterPoint.latitude, WaterPoint.longitude,
               WaterPoint.needs_position_check).where(WaterPoint.id == point_id)
    ).one())
    assert saved.name == "夏禹桥村口山塘" and saved.unit_id == village_id
    assert saved.latitude == pytest.approx(latitude, abs=1e-6)
    assert saved.longitude == pytest.approx(longitude, abs=1e-6)
    assert saved.needs_position_check is False


def test_journey4_the_county_reminds_late_units_and_downloads_the_workbook(
    live_server, desktop_page, users, tree, tmp_path, screenshot
):
    title = "2026年暑期防溺水专项行动"
    campaign = factories.make_campaign(tree.county, title=title)
    leaflets = factories.make_task(campaign, title="逐户发放防溺水告家长书", kinds=("village",), measure="done")
    launch_campaign(campaign)
    reporter_a2 = factories.make_user("village_reporter", tree.village_a2, username="qianshan")
    reporter_b1 = factories.make_user("village_reporter", tree.village_b1, username="baisha")
    on_time = assignment_of(leaflets, tree.village_b1)
    reporting.save_report(on_time, reporter_b1, expected_version=on_time.version, note="已全部发放", done=True)
    reporting.submit_report(on_time, reporter_b1, expected_version=on_time.version)
    campaign_id = campaign.id
    late_reporters = {users.village_reporter.id, reporter_a2.id}
    db.session.commit()

    page = desktop_page
    errors = record_errors(page)
    log_in(page, live_server, "county_officer")
    page.goto(f"{live_server}/campaigns/{campaign_id}")
    page.get_by_role("link", name="查看工作进度").click()
    page.wait_for_url(f"{live_server}/progress/campaigns/{campaign_id}")
    screenshot(page, "journey4-01-dashboard")

    page.get_by_role("link", name="未上报及被退回单位").click()
    page.wait_for_url(re.compile(rf".*/progress/campaigns/{campaign_id}/chasing.*"))
    late = page.locator(".chasing-table tbody").inner_text()
    assert "夏禹桥村委会" in late and "前山村委会" in late
    assert "白沙村委会" not in late  # it has reported
    assert "本次活动尚未发送过提醒。" in page.content()
    screenshot(page, "journey4-02-chasing")

    page.get_by_role("link", name="发送提醒").click()
    page.wait_for_url(re.compile(r".*/chasing/remind.*"))
    assert "共2个单位有任务未上报或被退回，将向2名用户发送提醒" in page.locator("main").inner_text()
    screenshot(page, "journey4-03-remind-confirm")
    page.get_by_role("button", name="确认发送").click()
    page.wait_for_url(re.compile(rf".*/progress/campaigns/{campaign_id}/chasing.*"))
    assert "已向2个单位发送提醒：成功2条，失败0条。" in flashes(page)
    outbox = page.locator(".outbox-table tbody tr")
    assert outbox.count() == 2
    screenshot(page, "journey4-04-reminders-sent")

    page.get_by_role("link", name="工作进度").click()
    page.wait_for_url(f"{live_server}/progress/campaigns/{campaign_id}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载汇总表（Excel）").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx") and title in download.suggested_filename
    saved = tmp_path / "workbook.xlsx"
    download.save_as(saved)
    screenshot(page, "journey4-05-dashboard-after-download")
    assert errors == []

    workbook = openpyxl.load_workbook(saved, read_only=True)
    texts = [str(value) for sheet in workbook.worksheets
             for row in sheet.iter_rows(values_only=True) for value in row if value is not None]
    assert any(title in text for text in texts)

    messages = read(lambda: db.session.execute(
        select(OutboxMessage.user_id, OutboxMessage.status).where(OutboxMessage.campaign_id == campaign_id)
    ).all())
    assert {user_id for user_id, _status in messages} == late_reporters
    assert {status for _user_id, status in messages} == {"sent"}
