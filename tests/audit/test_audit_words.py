"""The audit trail in the office's words: actions, records, fields and values as a county official
reads them, filters by those words, and a page that costs the same whatever its length."""
import ast
import html
import re
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import select

import campaign as campaign_package
from campaign.audit.labels import ACTION_LABELS, ENTITY_LABELS
from campaign.audit.services import record
from campaign.campaigns.models import Assignment
from campaign.campaigns.services import add_task, create_campaign, launch_campaign, update_task
from campaign.extensions import db as _db
from campaign.progress.chasing import queue_manual_reminders
from campaign.reporting.services import approve, return_report, save_report, submit_report
from campaign.units.importing import import_units
from campaign.water.services import move_hazard, record_hazard, update_water_point
from tests.conftest import queries_for_page
from tests.factories import a_date, make_campaign, make_task, make_unit
from tests.water.conftest import HOME, make_point, photo_file

TITLE = "2026年森林防火宣传月活动"


def visible_text(page: str) -> str:
    """What the reader sees: the page without its tags and attributes (option values are codes)."""
    body = page.split("<main", 1)[-1]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def table_text(page: str) -> str:
    """The rows of the trail only, without the filter form's lists."""
    return visible_text(page.split("<table", 1)[-1])


def _assignment(task, unit):
    return _db.session.scalar(select(Assignment).where(Assignment.task_id == task.id, Assignment.unit_id == unit.id))


@pytest.fixture
def trail(db, tree, users, login):
    """A week of real work: the office creates and launches a campaign, a village reports, the
    township returns and approves, the office reminds and imports units, a village edits a water
    point and closes a hazard."""
    office, village, township = users.county_officer, users.village_reporter, users.township_officer
    campaign = create_campaign(
        actor=office, title=TITLE, theme="宣传造势防林火、群防群治保平安", description="",
        start_date=a_date(-5), end_date=a_date(25), deadline_date=a_date(30), deadline_time=time(17, 0),
        root_unit=tree.county,
    )
    leaflets = add_task(campaign, actor=office, title="逐户发放《禁火令》", unit_kinds=["village"], measure="done")
    sms = add_task(campaign, actor=office, title="发送公益短信", unit_kinds=["agency"], unit_category="carrier",
                   measure="quantity", target=2, measure_unit="message")
    update_task(sms, actor=office, title="发送公益短信", unit_kinds=["agency"], unit_category="carrier",
                measure="quantity", target=2, measure_unit="message", requires_document=True)
    launch_campaign(campaign, actor=office)
    db.session.commit()

    report = _assignment(leaflets, tree.village_a1)
    save_report(report, village, expected_version=report.version, note="已发放 420 户", done=True)
    submit_report(report, village, expected_version=report.version)
    return_report(report, township, expected_version=report.version, reason="请补充发放登记表")
    submit_report(report, village, expected_version=report.version)
    approve(report, township, expected_version=report.version)
    queue_manual_reminders(campaign, tree.county, actor=office)
    import_units("code,name,kind,parent_code\n330112002237,新溪村委会,village,330112002000\n".encode(),
                 "units.csv", actor=office)

    point = make_point(tree.village_a1, name="村口池塘")
    db.session.commit()
    update_water_point(point, actor=village, unit=tree.village_a1, name="村口池塘", kind="pond",
                       latitude=HOME[0], longitude=HOME[1], is_key=True, danger_level="high", sign_count=2)
    hazard = record_hazard(point, actor=village, found_on=a_date(-1), description="护栏破损",
                           rectify_by=a_date(5), owner_name="村委会")
    move_hazard(hazard, actor=village, status="in_progress")
    db.session.commit()
    closed = login("village_reporter").post_form(
        f"/water/hazards/{hazard.id}/status", {"status": "closed", "closing_note": "已修复护栏",
                                               "photos": photo_file()},
        content_type="multipart/form-data")
    assert closed.status_code == 302
    return campaign


def test_the_trail_reads_in_words_after_real_work(as_admin, trail):
    text = visible_text(as_admin.get("/audit/").get_data(as_text=True))
    for words in (
        "创建专项行动", f"专项行动“{TITLE}”", "启动专项行动", "状态 草稿 → 进行中",
        "修改任务", "需上传文件材料 否 → 是", "新增任务", "限定单位类别 通信运营商", "计量单位 条",
        "提交上报", "退回修改", "退回理由 — → 请补充发放登记表", "审核通过", "已上报 → 已审核通过",
        "任务填报“夏禹桥村委会 · 逐户发放《禁火令》”",
        "发送催报提醒", "导入单位", "新增 1",
        "修改水域信息", "水域“村口池塘”", "重点水域 否 → 是", "危险程度 低 → 高",
        "登记隐患", "变更隐患整改状态", "未整改 → 整改中", "整改中 → 已销号", "整改情况说明 — → 已修复护栏",
    ):
        assert words in re.sub(r"\s+", " ", text), words


def test_no_raw_code_reaches_the_reader(as_admin, trail):
    text = visible_text(as_admin.get("/audit/").get_data(as_text=True))
    for code in [*ACTION_LABELS, *ENTITY_LABELS, "requires_document", "draft", "active", "in_progress",
                 "True", "False", "None", "carrier", "message", "→active", "cli"]:
        assert not re.search(rf"(?<![\w.]){re.escape(code)}(?![\w.])", text), code
    typed_by_users = {"village_reporter", "county_officer", "township_officer"}  # the fixtures' user names
    codes = set(re.findall(r"\b[a-z]+_[a-z_]+\b", text)) - typed_by_users
    assert codes == set()


def test_the_trail_speaks_english_to_an_english_reader(as_admin, trail):
    as_admin.post_form("/language", {"locale": "en"})
    text = table_text(as_admin.get("/audit/").get_data(as_text=True))
    assert "Approved the report" in text and "Draft → Active" in text


def test_filters_are_selects_of_words(as_admin, trail):
    page = as_admin.get("/audit/").get_data(as_text=True)
    action_words = re.findall(r'<option value="[a-z_.]+">([^<]+)</option>', page.split('name="entity_type"')[0])
    assert len(action_words) == len(set(action_words)) >= len(ACTION_LABELS)
    assert '<option value="report.approve">审核通过</option>' in page
    assert '<option value="campaign">专项行动</option>' in page
    assert '<option value="hazard">隐患</option>' in page


def test_filtering_by_the_chosen_words(as_admin, trail):
    approvals = table_text(as_admin.get("/audit/?action=report.approve").get_data(as_text=True))
    assert "审核通过" in approvals and "退回修改" not in approvals and "启动专项行动" not in approvals
    campaigns = table_text(as_admin.get("/audit/?entity_type=campaign").get_data(as_text=True))
    assert "启动专项行动" in campaigns and "审核通过" not in campaigns and "登记隐患" not in campaigns


def test_a_filter_value_outside_the_lists_is_refused(as_admin, trail):
    response = as_admin.get("/audit/?entity_type=<b>nonsense</b>&action=report.approved")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("不是有效的选择") == 2 and "<b>nonsense</b>" not in page


def test_an_action_or_record_kind_not_in_the_list_still_reads(as_admin, users, db):
    record("inspection.create", "inspection", 3, after={"finding_note": "台账不全"}, actor=users.admin)
    record("oddity", "thing", None, after={"flag": True}, actor=users.admin)
    db.session.commit()
    text = re.sub(r"\s+", " ", visible_text(as_admin.get("/audit/").get_data(as_text=True)))
    assert "新增：inspection" in text and "inspection（编号 3）" in text and "finding note 台账不全" in text
    assert "oddity" in text and "flag 是" in text
    page = as_admin.get("/audit/").get_data(as_text=True)
    assert '<option value="inspection.create">新增：inspection</option>' in page


def test_a_deleted_record_is_named_from_its_last_values(as_admin, users, db):
    record("task.delete", "task", 999, before={"title": "已删除的任务", "requires_photo": False}, actor=users.admin)
    db.session.commit()
    text = visible_text(as_admin.get("/audit/").get_data(as_text=True))
    assert "删除任务" in text and "任务“已删除的任务”" in text


def test_the_page_costs_the_same_whatever_its_length(as_admin, users, tree, db):
    made = iter(range(1000))

    def add_rows(count):
        for number in (next(made) for _ in range(count)):
            unit = make_unit("village", tree.township_a, f"新村{number}")
            campaign = make_campaign(tree.county, title=f"行动{number}")
            task = make_task(campaign, title=f"任务{number}")
            record("unit.update", "unit", unit.id, before={"parent_id": tree.township_b.id},
                   after={"parent_id": tree.township_a.id}, actor=users.admin)
            record("campaign.create", "campaign", campaign.id, after={"root_unit_id": tree.county.id},
                   actor=users.admin)
            record("task.update", "task", task.id, before={"campaign_id": campaign.id}, after={"target": 3},
                   actor=users.admin)
            record("user.update", "user", users.viewer.id, after={"unit_id": unit.id}, actor=users.admin)
        db.session.commit()

    add_rows(2)
    few = queries_for_page(as_admin, "/audit/")
    add_rows(10)
    many = queries_for_page(as_admin, "/audit/")
    assert few == many
    text = visible_text(as_admin.get("/audit/").get_data(as_text=True))
    assert "上级单位 太湖源镇 → 玲珑街道" in re.sub(r"\s+", " ", text)


def _record_calls(tree):
    """(action, kind) pairs of every record() call in a module, names resolved within it."""
    assigned = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)

    def strings(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return strings(node.body) | strings(node.orelse)
        if isinstance(node, ast.Name):
            return set().union(*(strings(value) for value in assigned.get(node.id, [])))
        return set()

    actions, kinds = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("record", "_record") and node.args:
            actions |= strings(node.args[0])
            if node.func.id == "record" and len(node.args) > 1:
                kinds |= strings(node.args[1])
    return actions, kinds


def test_every_recorded_action_and_kind_has_words():
    actions, kinds = set(), set()
    for path in Path(campaign_package.__file__).parent.rglob("*.py"):
        found_actions, found_kinds = _record_calls(ast.parse(path.read_text(encoding="utf-8")))
        actions |= found_actions
        kinds |= found_kinds
    assert {"report.approve", "reminders.remind", "summary.return", "hazard.status"} <= actions
    assert actions - set(ACTION_LABELS) == set()
    assert kinds - set(ENTITY_LABELS) == set()


def test_a_townships_corrected_figures_read_against_their_tasks(as_admin, users, tree, db):
    campaign = make_campaign(tree.county, title=TITLE)
    signs = make_task(campaign, title="设置永久性宣传标牌")
    db.session.commit()
    record("summary.submit", "township_summary", 5, before={"status": "draft"}, after={
        "status": "submitted", "figures": {str(signs.id): [27, 35, "补录两处"]},
    }, actor=users.township_officer)
    db.session.commit()
    text = re.sub(r"\s+", " ", table_text(as_admin.get("/audit/").get_data(as_text=True)))
    assert "提交乡镇（街道）总结" in text and "状态 已暂存 → 已上报" in text
    assert "设置永久性宣传标牌：汇总 27，更正为 35（补录两处）" in text
