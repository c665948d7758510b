"""Reporting a task: instalments add up, drafts and submissions, required evidence, the review
cycle, and the audit trail of every write."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditRecord
from campaign.campaigns.models import Assignment, Instalment
from campaign.evidence.services import store_bytes
from campaign.reporting import services
from campaign.reporting.services import ReportError
from campaign.timeutil import local_today
from tests.reporting.conftest import jpeg_bytes, pdf_bytes


def page(response):
    return response.get_data(as_text=True)


def fresh(db, assignment_id):
    db.session.expire_all()
    return db.session.get(Assignment, assignment_id)


def audit_of(db, assignment, action=None):
    query = select(AuditRecord).where(AuditRecord.entity_type == "assignment",
                                      AuditRecord.entity_id == str(assignment.id))
    if action:
        query = query.where(AuditRecord.action == action)
    return list(db.session.scalars(query.order_by(AuditRecord.id)))


def upload(client, assignment, *files, field="photos"):
    return client.post_form(f"/reports/{assignment.id}/evidence",
                            {field: [(io.BytesIO(data), name) for name, data in files]},
                            content_type="multipart/form-data")


# --- instalments ---------------------------------------------------------------------------------

def test_instalments_add_up_to_the_running_total_with_the_percentage(as_village_reporter, db, running):
    report = running.signs_a1
    start = running.campaign.start_date
    for quantity, day in ((4, start), (6, start + timedelta(days=2)), (3, local_today())):
        response = as_village_reporter.post_form(f"/reports/{report.id}/instalments",
                                                 {"quantity": str(quantity), "reported_on": str(day)})
        assert response.status_code == 302
    html = page(as_village_reporter.get(f"/reports/{report.id}"))
    assert "13 / 10 块 · 130%" in html
    assert services.quantity_total(report) == 13
    assert fresh(db, report.id).status == "draft"
    home = page(as_village_reporter.get("/"))
    assert "13 / 10 块" in home and f'href="/reports/{report.id}"' in home


def test_each_instalment_is_audited_with_its_quantity_and_the_new_total(db, users, running):
    report = running.signs_a1
    services.add_instalment(report, users.village_reporter, quantity=4, reported_on=running.campaign.start_date)
    services.add_instalment(report, users.village_reporter, quantity=6, reported_on=running.campaign.start_date,
                            note="进山路口")
    db.session.commit()
    first, second = audit_of(db, report, "report.instalment")
    assert first.before["status"] == "not_started" and first.before["quantity"] is None
    assert first.after["quantity"] == 4 and first.after["total"] == 4 and first.after["status"] == "draft"
    assert second.after["quantity"] == 6 and second.after["total"] == 10
    assert second.after["instalment_note"] == "进山路口"
    assert first.username == "village_reporter"


@pytest.mark.parametrize("quantity, message", [
    ("-1", "请填写数量：0 或正整数。"),
    ("abc", "请填写数量：0 或正整数。"),
    ("2.5", "请填写数量：0 或正整数。"),
])
def test_a_bad_quantity_is_refused_and_what_was_typed_is_kept(as_village_reporter, db, running, quantity,
                                                             message):
    report = running.signs_a1
    response = as_village_reporter.post_form(f"/reports/{report.id}",
                                             {"quantity": quantity, "reported_on": str(running.campaign.start_date),
                                              "place": "村口", "note": "已全部安装", "version": "1", "save": "y"})
    html = page(response)
    assert response.status_code == 200
    assert message in html
    assert 'value="村口"' in html and "已全部安装" in html
    assert fresh(db, report.id).note == ""
    assert db.session.scalar(select(Instalment).where(Instalment.assignment_id == report.id)) is None


def test_an_instalment_dated_in_the_future_or_outside_the_campaign_is_refused(as_village_reporter, db, running):
    report = running.signs_a1
    url = f"/reports/{report.id}"
    tomorrow = local_today() + timedelta(days=1)
    html = page(as_village_reporter.post_form(url, {"quantity": "2", "reported_on": str(tomorrow), "version": "1"}))
    assert "日期不能晚于今天" in html and f'value="{tomorrow}"' in html
    before_start = running.campaign.start_date - timedelta(days=1)
    html = page(as_village_reporter.post_form(url, {"quantity": "2", "reported_on": str(before_start),
                                                    "version": "1"}))
    assert "日期须在专项行动期间" in html
    assert services.quantity_total(report) == 0


def test_a_yes_no_task_takes_no_instalment(db, users, running):
    with pytest.raises(ReportError) as refused:
        services.add_instalment(running.leaflets_a1, users.village_reporter, quantity=1,
                                reported_on=running.campaign.start_date)
    assert refused.value.code == "not_a_quantity"


# --- drafts, submission, required evidence --------------------------------------------------------

def test_a_draft_is_saved_and_shown_again(as_village_reporter, db, running):
    report = running.leaflets_a1
    response = as_village_reporter.post_form(f"/reports/{report.id}",
                                             {"note": "已发放 420 户", "done": "y", "version": "1", "save": "y"})
    assert response.status_code == 302
    saved = fresh(db, report.id)
    assert (saved.status, saved.done, saved.note, saved.version) == ("draft", True, "已发放 420 户", 2)
    [entry] = audit_of(db, report, "report.save")
    assert entry.before == {"status": "not_started", "done": False, "note": "", "version": 1}
    assert entry.after == {"status": "draft", "done": True, "note": "已发放 420 户", "version": 2}
    assert "已发放 420 户" in page(as_village_reporter.get(f"/reports/{report.id}"))


def test_a_task_needing_photos_cannot_be_submitted_without_one(as_village_reporter, db, running):
    report = running.signs_a1
    response = as_village_reporter.post_form(f"/reports/{report.id}",
                                             {"note": "标牌已设置", "version": "1", "submit": "y"},
                                             follow_redirects=True)
    html = page(response)
    assert "缺少照片" in html
    saved = fresh(db, report.id)
    assert saved.status == "draft" and saved.note == "标牌已设置"  # the draft is kept, not submitted
    assert audit_of(db, report, "report.submit") == []


def test_a_document_does_not_stand_in_for_a_required_photo(db, users, running):
    report = running.signs_a1
    services.add_evidence(report, users.village_reporter, [store_bytes(pdf_bytes(), "说明.pdf")])
    with pytest.raises(ReportError) as refused:
        services.submit_report(report, users.village_reporter, expected_version=report.version)
    assert refused.value.details == {"missing": ["photo"]}


def test_a_task_needing_a_document_names_the_document_as_missing(as_township_officer, db, users, running):
    plan = running.plan_a
    services.add_evidence(plan, users.township_officer, [store_bytes(jpeg_bytes(), "会议.jpg")])
    db.session.commit()
    html = page(as_township_officer.post_form(f"/reports/{plan.id}", {"note": "", "version": "1", "submit": "y"},
                                              follow_redirects=True))
    assert "缺少文件（PDF、Word 或 Excel）" in html
    assert fresh(db, plan.id).status == "draft"


def test_with_a_photo_the_report_is_submitted(as_village_reporter, db, running):
    report = running.signs_a1
    assert upload(as_village_reporter, report, ("标牌1.jpg", jpeg_bytes()), ("标牌2.jpg", jpeg_bytes((0, 90, 0))))\
        .status_code == 302
    assert len(services.evidence_of(report)) == 2
    [added] = audit_of(db, report, "report.evidence_add")
    assert [item["name"] for item in added.after["evidence"]] == ["标牌1.jpg", "标牌2.jpg"]
    response = as_village_reporter.post_form(f"/reports/{report.id}",
                                             {"note": "两块标牌", "version": "1", "submit": "y"})
    assert response.status_code == 302
    saved = fresh(db, report.id)
    assert saved.status == "submitted" and saved.submitted_at is not None
    assert saved.first_submitted_at == saved.submitted_at
    html = page(as_village_reporter.get(f"/reports/{report.id}"))
    assert "已上报" in html
    assert 'name="note"' not in html  # a submitted report is read-only for the unit


def test_a_bad_file_among_several_adds_nothing(as_village_reporter, db, running):
    report = running.signs_a1
    response = upload(as_village_reporter, report, ("good.jpg", jpeg_bytes()), ("fake.jpg", b"not a photo"))
    assert response.status_code == 302
    html = page(as_village_reporter.get(f"/reports/{report.id}"))
    assert "fake.jpg" in html and "未添加任何文件" in html
    assert services.evidence_of(report) == []
    assert audit_of(db, report, "report.evidence_add") == []


def test_removing_evidence_asks_first_then_removes_and_records_it(as_village_reporter, db, users, running):
    report = running.signs_a1
    [evidence] = services.add_evidence(report, users.village_reporter, [store_bytes(jpeg_bytes(), "错拍.jpg")])
    db.session.commit()
    url = f"/reports/{report.id}/evidence/{evidence.id}/remove"
    confirm = as_village_reporter.get(url)
    assert confirm.status_code == 200 and "错拍.jpg" in page(confirm)
    assert len(services.evidence_of(report)) == 1
    assert as_village_reporter.post_form(url, {}).status_code == 302
    assert services.evidence_of(report) == []
    [entry] = audit_of(db, report, "report.evidence_remove")
    assert entry.before == {"evidence": [{"id": evidence.id, "name": "错拍.jpg"}]}


def test_the_photo_form_opens_the_camera_and_takes_several_files(as_village_reporter, running):
    html = page(as_village_reporter.get(f"/reports/{running.signs_a1.id}"))
    assert 'accept="image/*" capture="environment"' in html
    assert html.count(" multiple ") + html.count(" multiple>") >= 2
    assert 'enctype="multipart/form-data"' in html


# --- review ----------------------------------------------------------------------------------------

def test_return_then_resubmit_then_approve(login, db, users, running):
    report = running.signs_a1
    reporter, township = login("village_reporter"), login("township_officer")
    reporter.post_form(f"/reports/{report.id}/instalments",
                       {"quantity": "8", "reported_on": str(running.campaign.start_date)})
    upload(reporter, report, ("标牌.jpg", jpeg_bytes()))
    assert reporter.post_form(f"/reports/{report.id}", {"note": "8 块", "version": "2", "submit": "y"}) \
        .status_code == 302

    queue = page(township.get("/reports/review"))
    assert "夏禹桥村委会" in queue and "8 / 10 块" in queue

    version = str(fresh(db, report.id).version)
    refused = township.post_form(f"/reports/{report.id}/return", {"version": version, "reason": ""})
    assert "请填写理由。" in page(refused)
    assert fresh(db, report.id).status == "submitted"
    assert township.post_form(f"/reports/{report.id}/return",
                              {"version": version, "reason": "还差 2 块，请补齐后再报"}).status_code == 302
    returned = fresh(db, report.id)
    assert returned.status == "returned" and returned.reviewed_by_id == users.township_officer.id

    html = page(reporter.get(f"/reports/{report.id}"))
    assert "还差 2 块，请补齐后再报" in html and "已退回" in html
    reporter.post_form(f"/reports/{report.id}/instalments",
                       {"quantity": "2", "reported_on": str(local_today())})
    version = str(fresh(db, report.id).version)
    assert reporter.post_form(f"/reports/{report.id}", {"note": "已补齐 10 块", "version": version, "submit": "y"}) \
        .status_code == 302
    resubmitted = fresh(db, report.id)
    assert resubmitted.status == "submitted"
    assert resubmitted.first_submitted_at < resubmitted.submitted_at

    assert township.post_form(f"/reports/{report.id}/approve", {"version": str(resubmitted.version)}) \
        .status_code == 302
    assert fresh(db, report.id).status == "approved"

    actions = [entry.action for entry in audit_of(db, report)]
    assert actions == ["report.instalment", "report.evidence_add", "report.save", "report.submit",
                       "report.return", "report.instalment", "report.save", "report.submit", "report.approve"]
    [returned_entry] = audit_of(db, report, "report.return")
    assert returned_entry.before["status"] == "submitted"
    assert returned_entry.after["status"] == "returned"
    assert returned_entry.after["return_reason"] == "还差 2 块，请补齐后再报"
    assert returned_entry.username == "township_officer"
    history = page(township.get(f"/reports/{report.id}"))
    for label in ("填报数量", "已上报", "已退回", "审核通过", "还差 2 块，请补齐后再报"):
        assert label in history


def test_an_unsubmitted_report_cannot_be_approved(db, users, running):
    with pytest.raises(ReportError) as refused:
        services.approve(running.signs_a1, users.township_officer, expected_version=1)
    assert refused.value.code == "not_submitted"


def test_the_review_queue_filters_by_campaign_task_and_status(as_county_officer, db, users, running):
    from tests.reporting.test_permissions import submitted

    submitted(db, running.signs_a1, users.village_reporter)
    services.save_report(running.leaflets_a1, users.village_reporter, expected_version=1, note="草稿")
    db.session.commit()
    default = queue(as_county_officer.get("/reports/review"))
    assert "设置永久性宣传标牌" in default and "逐户发放《禁火令》" not in default
    drafts = queue(as_county_officer.get(f"/reports/review?campaign={running.campaign.id}&status=draft"))
    assert "逐户发放《禁火令》" in drafts and "设置永久性宣传标牌" not in drafts
    by_task = queue(as_county_officer.get(
        f"/reports/review?campaign={running.campaign.id}&task={running.plan.id}&status="))
    assert "玲珑街道" in by_task and "夏禹桥村委会" not in by_task


def queue(response):
    """The listed reports, without the filter form above them."""
    html = page(response)
    return html[html.index('<p class="muted">共'):]


def test_the_review_queue_costs_the_same_queries_for_more_units(as_township_officer, db, users, tree, running,
                                                                 count_queries):
    from tests.factories import make_unit
    from tests.reporting.test_permissions import submitted

    submitted(db, running.signs_a1, users.village_reporter)
    with count_queries() as few:
        assert as_township_officer.get("/reports/review").status_code == 200
    for number in range(6):
        village = make_unit("village", tree.township_a, f"新村{number}")
        db.session.add(Assignment(campaign_id=running.campaign.id, task_id=running.signs.id, unit_id=village.id,
                                  status="submitted", note="", return_reason=""))
    db.session.commit()
    with count_queries() as many:
        html = page(as_township_officer.get("/reports/review"))
    assert "新村5" in html
    assert len(many) == len(few)


def test_my_tasks_cost_one_query_whatever_the_number_of_tasks(db, users, running, count_queries):
    from tests.factories import make_task

    reporter = users.village_reporter
    reporter.unit_id  # loaded before counting
    with count_queries() as few:
        services.my_assignments(reporter)
    for number in range(5):
        task = make_task(running.campaign, title=f"任务{number}")
        db.session.add(Assignment(campaign_id=running.campaign.id, task_id=task.id,
                                  unit_id=reporter.unit_id, note="", return_reason=""))
    db.session.commit()
    reporter.unit_id
    with count_queries() as many:
        groups = services.my_assignments(reporter)
    assert [statement for statement in few if statement.startswith("SELECT")] == [
        statement for statement in many if statement.startswith("SELECT")]
    assert len([statement for statement in many if statement.startswith("SELECT")]) == 1
    assert len(groups[0].lines) == 7


def test_the_report_page_costs_the_same_queries_with_more_instalments_and_files(as_village_reporter, db, users,
                                                                                running, count_queries):
    report = running.signs_a1
    reporter = users.village_reporter
    services.add_instalment(report, reporter, quantity=1, reported_on=running.campaign.start_date)
    services.add_evidence(report, reporter, [store_bytes(jpeg_bytes(), "1.jpg")])
    db.session.commit()
    with count_queries() as few:
        as_village_reporter.get(f"/reports/{report.id}")
    for number in range(5):
        services.add_instalment(report, reporter, quantity=number, reported_on=running.campaign.start_date)
        services.add_evidence(report, reporter, [store_bytes(jpeg_bytes((number, 0, 0)), f"p{number}.jpg")])
    db.session.commit()
    with count_queries() as many:
        html = page(as_village_reporter.get(f"/reports/{report.id}"))
    assert "p4.jpg" in html and "11 / 10 块" in html
    assert len(many) == len(few)


def test_a_page_left_open_without_its_version_asks_to_reload(as_village_reporter, db, running):
    response = as_village_reporter.post_form(f"/reports/{running.leaflets_a1.id}", {"note": "无版本", "save": "y"})
    html = page(response)
    assert "页面已过期，请刷新后重试。" in html and "无版本</textarea>" in html
    assert fresh(db, running.leaflets_a1.id).note == ""


def test_saving_an_unchanged_report_leaves_no_empty_line_in_the_history(db, users, running):
    report = running.leaflets_a1
    services.save_report(report, users.village_reporter, expected_version=report.version, note="已发放", done=True)
    db.session.commit()
    services.save_report(report, users.village_reporter, expected_version=report.version, note="已发放", done=True)
    db.session.commit()
    saves = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "report.save")).all()
    assert len(saves) == 1
