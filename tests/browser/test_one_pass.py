"""On a 360 × 740 phone in Chromium: the report in one pass with two 4000 × 3000 camera photos, shrunk on
the phone with their EXIF time and position kept as evidence; a form error keeps the chosen photos; a
dropped link hands the same sending (same idempotency key) to the offline outbox."""
import json

import pytest
from PIL import Image, ImageDraw

from campaign.campaigns.models import Assignment
from campaign.reporting import services
from tests import factories
from tests.browser.conftest import image_loaded, log_in
from tests.reporting.conftest import make_running_campaign

pytestmark = pytest.mark.browser

EXIF_IFD, GPS_IFD = 0x8769, 0x8825


@pytest.fixture(scope="module")
def camera_photos(tmp_path_factory):
    """Two 4000 × 3000 JPEGs of 2–3 MB as a phone camera makes them, with time and GPS in the EXIF; the
    second one says it is to be turned upright (Orientation 6), as a photo taken holding the phone upright."""
    folder = tmp_path_factory.mktemp("camera")
    width, height = 4000, 3000
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    paths = []
    for number, (minute, color) in enumerate(((30, (200, 30, 30)), (41, (30, 90, 200))), start=1):
        image = Image.merge("RGB", (Image.blend(gradient, noise, 0.3), gradient,
                                    Image.blend(gradient.transpose(Image.Transpose.ROTATE_180), noise, 0.2)))
        draw = ImageDraw.Draw(image)
        for left in range(0, width, 200):
            draw.rectangle([left, left % height, left + 120, left % height + 300], fill=color)
        exif = Image.Exif()
        exif[0x0112] = 1 if number == 1 else 6  # the second was taken holding the phone upright
        exif.get_ifd(EXIF_IFD)[0x9003] = f"2026:10:08 09:{minute}:00"
        gps = exif.get_ifd(GPS_IFD)
        gps.update({1: "N", 2: (28.0, 12.0, 30.0), 3: "E", 4: (112.0, 58.0, 10.0)})
        path = folder / f"IMG_2026100{number}.jpg"
        image.save(path, "JPEG", quality=92, exif=exif)
        paths.append(path)
    return paths


def open_the_task(page):
    page.get_by_role("link", name="设置永久性宣传标牌").click()
    page.wait_for_url("**/reports/*")
    page.wait_for_load_state("load")


def posted_bytes(page):
    """The POSTs to a report the page made (their count)."""
    sizes = []
    page.on("request", lambda request: sizes.append(request.url)
            if request.method == "POST" and "/reports/" in request.url else None)
    return sizes


def the_report(made, tree):
    """What the server saved: (status, total, evidence). The read is ended at once: the live server
    writes to the same SQLite file, which an open transaction of the test would lock."""
    factories.db.session.expire_all()
    report = factories.db.session.query(Assignment).filter_by(task_id=made.signs.id, unit_id=tree.village_a1.id).one()
    state = report.status, services.quantity_total(report), report.note, report.id
    evidence = [(item.stored_file.width, item.stored_file.height, item.latitude, item.longitude, item.stored_file.size)
                for item in services.evidence_of(report)]
    factories.db.session.rollback()
    return state, evidence


def test_one_pass_with_two_camera_photos_sends_less_than_a_megabyte_and_keeps_the_exif(
        live_server, phone_page, browser, users, tree, camera_photos, screenshot):
    assert all(path.stat().st_size > 2_000_000 for path in camera_photos)
    made = make_running_campaign(tree)
    page = phone_page
    sizes = posted_bytes(page)
    log_in(page, live_server, "village_reporter")
    open_the_task(page)
    page.get_by_label("数量").fill("10")
    page.get_by_label("备注").fill("村口、进山路口各设 5 块")
    page.get_by_label("拍照").set_input_files([str(path) for path in camera_photos])
    queue = page.locator(".file-queue li")
    queue.nth(1).filter(has_text="KB").wait_for()
    assert queue.count() == 2
    assert "待发送" in page.locator(".file-total").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "one-pass-two-photos-chosen")
    with page.expect_navigation():
        page.get_by_role("button", name="上报", exact=True).click()
    assert "报告已上报，等待审核。" in page.content()
    screenshot(page, "one-pass-submitted")

    assert len(sizes) == 1
    (status, total, _note, report_id), evidence = the_report(made, tree)
    assert status == "submitted" and total == 10
    assert len(evidence) == 2
    assert sorted((width, height) for width, height, *_ in evidence) == [(1200, 1600), (1600, 1200)]
    assert sum(size for *_, size in evidence) <= 1_000_000  # the stored files are the bytes that were sent
    assert [item[2] for item in evidence] == pytest.approx([28.20833] * 2, abs=1e-4)
    assert [item[3] for item in evidence] == pytest.approx([112.96944] * 2, abs=1e-4)

    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    reviewer = context.new_page()
    log_in(reviewer, live_server, "township_officer")
    reviewer.goto(f"{live_server}/reports/{report_id}")
    evidence = reviewer.locator("#evidence").inner_text()
    assert "拍摄于 2026-10-08 09:30" in evidence and "拍摄于 2026-10-08 09:41" in evidence
    assert "拍摄位置 28.20833, 112.96944" in evidence
    assert all(image_loaded(image) for image in reviewer.locator("#evidence img").all())
    screenshot(reviewer, "one-pass-reviewer-sees-exif")
    context.close()


def test_a_form_error_keeps_the_chosen_photos_and_the_typed_text(live_server, phone_page, users, tree,
                                                                   camera_photos, screenshot):
    made = make_running_campaign(tree)
    start = made.campaign.start_date.isoformat()
    factories.db.session.commit()  # end the read: an open transaction would lock the live server's SQLite file
    page = phone_page
    sizes = posted_bytes(page)
    log_in(page, live_server, "village_reporter")
    open_the_task(page)
    page.get_by_label("数量").fill("6")
    page.get_by_label("日期").fill("2020-01-01")
    page.get_by_label("备注").fill("先报 6 块")
    page.get_by_label("拍照").set_input_files([str(path) for path in camera_photos])
    page.locator(".file-queue li").nth(1).filter(has_text="KB").wait_for()
    page.get_by_role("button", name="暂存", exact=True).click()
    page.locator(".field-form-error").first.wait_for()
    assert "日期须在专项行动期间" in page.locator(".field-form-error").first.inner_text()
    assert page.locator(".file-queue li").count() == 2
    assert page.get_by_label("数量").input_value() == "6" and page.get_by_label("备注").input_value() == "先报 6 块"
    screenshot(page, "one-pass-error-keeps-photos")
    assert the_report(made, tree)[0][0] == "not_started"

    page.get_by_label("日期").fill(start)
    with page.expect_navigation():
        page.get_by_role("button", name="暂存", exact=True).click()
    (status, total, note, _id), evidence = the_report(made, tree)
    assert (status, total, note, len(evidence)) == ("draft", 6, "先报 6 块", 2)
    assert len(sizes) == 2


def as_the_outbox(stub):
    """An init script that makes `stub` window.CampaignOutbox: outbox.js, loaded later, cannot replace it."""
    return f"""Object.defineProperty(window, "CampaignOutbox", {{
  configurable: false, get: () => {stub}, set: () => {{}},
}});"""


RECORD_OUTBOX = """
window.__queued = [];
const recorder = {enqueue: async (item) => {
  const fields = [];
  for (const field of item.fields) {
    fields.push(field.length === 3 ? [field[0], "blob", field[1].size, field[2]] : [field[0], field[1]]);
  }
  window.__queued.push({url: item.url, label: item.label, fields});
}};
""" + as_the_outbox("recorder")


def test_a_dropped_link_hands_the_same_sending_to_the_outbox(live_server, phone_page, users, tree,
                                                               camera_photos, screenshot):
    make_running_campaign(tree)
    page = phone_page
    page.add_init_script(RECORD_OUTBOX)
    log_in(page, live_server, "village_reporter")
    open_the_task(page)
    key = page.locator("input[name=idempotency_key]").input_value()
    page.get_by_label("数量").fill("3")
    page.get_by_label("拍照").set_input_files(str(camera_photos[0]))
    page.locator(".file-queue li").first.filter(has_text="KB").wait_for()
    page.route("**/reports/*", lambda route: route.abort("internetdisconnected")
               if route.request.method == "POST" else route.continue_())
    page.get_by_role("button", name="上报", exact=True).click()
    page.get_by_text("网络中断，已存入待上传，恢复后自动发送。").wait_for()
    screenshot(page, "one-pass-network-dropped-queued")
    [queued] = page.evaluate("window.__queued")
    fields = {field[0]: field for field in queued["fields"]}
    assert queued["url"] == page.url and queued["label"] == "设置永久性宣传标牌"
    assert fields["idempotency_key"][1] == key and fields["quantity"][1] == "3" and fields["submit"][1] == "y"
    assert fields["csrf_token"][1]
    assert fields["photos"][1] == "blob" and fields["photos"][2] < 1_000_000 and fields["photos"][3].endswith(".jpg")
    json.dumps(queued)


def test_without_an_outbox_a_dropped_link_keeps_the_form_and_says_so(live_server, phone_page, users, tree):
    make_running_campaign(tree)
    page = phone_page
    page.add_init_script(as_the_outbox("undefined"))  # IndexedDB blocked, an old browser
    log_in(page, live_server, "village_reporter")
    open_the_task(page)
    page.get_by_label("备注").fill("信号不好")
    page.route("**/reports/*", lambda route: route.abort("internetdisconnected")
               if route.request.method == "POST" else route.continue_())
    page.get_by_role("button", name="暂存", exact=True).click()
    page.get_by_text("网络中断，未能发送。").wait_for()
    assert page.get_by_label("备注").input_value() == "信号不好"


def test_the_report_pages_tap_targets_are_44_px(live_server, phone_page, users, tree):
    make_running_campaign(tree)
    page = phone_page
    log_in(page, live_server, "village_reporter")
    open_the_task(page)
    small = page.evaluate("""() => [...document.querySelectorAll(
        '#report input:not([type=hidden]), #report textarea, #report button, #report select')]
        .map(node => [node.name, node.getBoundingClientRect().height])
        .filter(([, height]) => height < 44)""")
    assert small == []


def test_the_patrol_form_keeps_its_photo_through_an_error_and_saves_in_one_pass(live_server, phone_page, users,
                                                                                  tree, camera_photos, screenshot):
    from campaign.water.models import Patrol, WaterPhoto
    from tests.water.conftest import make_point

    point_id = make_point(tree.village_a1).id
    factories.db.session.commit()
    page = phone_page
    log_in(page, live_server, "village_reporter")
    page.goto(f"{live_server}/water/{point_id}/patrols/new")
    assert page.get_by_label("时间（北京时间）").input_value() != ""
    page.get_by_label("巡查人").fill("")
    page.get_by_label("发现问题及处理情况").fill("塘边有两名儿童，已劝离")
    page.get_by_label("照片", exact=True).set_input_files(str(camera_photos[0]))
    page.locator(".file-queue li").first.filter(has_text="KB").wait_for()
    page.get_by_role("button", name="保存").click()
    page.locator(".field-form-error").first.wait_for()
    assert page.locator(".file-queue li").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "one-pass-patrol-error-keeps-photo")
    page.get_by_label("巡查人").fill("李春花")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    assert "巡查记录已保存。" in page.content()
    factories.db.session.expire_all()
    patrol = factories.db.session.query(Patrol).one()
    photos = factories.db.session.query(WaterPhoto).all()
    assert (patrol.patroller_name, patrol.findings, len(photos)) == ("李春花", "塘边有两名儿童，已劝离", 1)
    factories.db.session.rollback()


def test_a_document_over_the_limit_is_named_before_anything_is_sent(live_server, phone_page, app, users, tree,
                                                                      tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FILE_MB", 1)
    make_running_campaign(tree)
    factories.db.session.commit()
    document = tmp_path / "实施方案.pdf"
    document.write_bytes(b"%PDF-1.4\n" + b"0" * 1_200_000)
    page = phone_page
    posts = posted_bytes(page)
    log_in(page, live_server, "village_reporter")
    open_the_task(page)
    page.get_by_label("从相册选择照片或文件").set_input_files(str(document))
    page.get_by_text("“实施方案.pdf”过大：每个文件最多 1 MB。").first.wait_for()
    page.get_by_role("button", name="上报", exact=True).click()
    assert "每个文件最多 1 MB" in page.locator(".field-form-status").inner_text()
    assert posts == []
