"""The reporting pages read in Chinese by default, and in English when chosen."""
import json
import re
from html import unescape

from campaign.evidence.services import store_bytes
from campaign.reporting import services
from tests.reporting.conftest import jpeg_bytes


def page(response):
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_reporters_pages_are_in_chinese(as_village_reporter, db, users, running):
    report = running.signs_a1
    [photo] = services.add_evidence(report, users.village_reporter, [store_bytes(jpeg_bytes(), "村口标牌.jpg")])
    db.session.commit()
    tasks = page(as_village_reporter.get("/reports/"))
    assert "我的任务" in tasks and "截止时间" in tasks and "已上报 0 / 2 项" in tasks
    html = page(as_village_reporter.get(f"/reports/{report.id}"))
    for text in ("累计已填报", "本次新增数量", "拍照", "从相册选择照片或文件", "上传",
                 "暂存", "上报", "办理记录", "上传佐证材料", "目标", "10 块"):
        assert text in html, text
    messages = json.loads(unescape(re.search(r'data-messages="([^"]*)"', html).group(1)))
    assert messages["file_too_large"] == "“{name}”过大：每个文件最多 10 MB。"
    assert messages["queued"] == "网络中断，已存入待上传，恢复后自动发送。"
    confirm = page(as_village_reporter.get(f"/reports/{report.id}/evidence/{photo.id}/remove"))
    assert "确定从“设置永久性宣传标牌”的报告中删除“村口标牌.jpg”吗？" in confirm


def test_the_reviewers_pages_are_in_chinese(login, db, users, running):
    from tests.reporting.test_permissions import submitted

    report = submitted(db, running.signs_a1, users.village_reporter)
    township = login("township_officer")
    queue = page(township.get("/reports/review"))
    assert "待审核报告" in queue and "全部专项行动" in queue and "共 1 份报告" in queue
    html = page(township.get(f"/reports/{report.id}"))
    assert "审核通过" in html and "退回理由" in html and "退回单位" in html
    exceptions = page(login("county_officer").get(f"/reports/campaigns/{running.campaign.id}/exceptions"))
    assert "逾期补报开放" in exceptions and "开放至（北京时间）" in exceptions and "暂无逾期补报开放。" in exceptions


def test_the_report_page_is_in_english_when_chosen(as_village_reporter, running):
    as_village_reporter.post_form("/language", {"locale": "en", "next": "/"})
    html = page(as_village_reporter.get(f"/reports/{running.signs_a1.id}"))
    assert "Reported so far" in html and "Save draft" in html and "累计已填报" not in html
