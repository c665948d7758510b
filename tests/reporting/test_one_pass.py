"""The report page in one pass: figure, note, photos and documents sent together, then 暂存 or 上报;
a resent form (same idempotency key) counts once; scripts get JSON answers."""
import io
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from campaign.campaigns.models import Assignment, Instalment
from campaign.fieldforms.models import IdempotencyKey
from campaign.reporting import services
from tests.reporting.conftest import jpeg_bytes, pdf_bytes

JSON = {"Accept": "application/json"}


def fresh(db, assignment_id):
    db.session.expire_all()
    return db.session.get(Assignment, assignment_id)


def one_pass(client, report, *, key=None, photos=(), documents=(), headers=None, **fields):
    data = {"version": "1", "idempotency_key": key or uuid4().hex, **fields}
    if photos:
        data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    if documents:
        data["documents"] = [(io.BytesIO(content), name) for name, content in documents]
    return client.post_form(f"/reports/{report.id}", data, content_type="multipart/form-data", headers=headers)


def test_figure_note_and_two_photos_are_submitted_in_one_pass(as_village_reporter, db, running):
    report = running.signs_a1
    response = one_pass(as_village_reporter, report, quantity="10", reported_on=str(running.campaign.start_date),
                        place="村口和进山路口", note="标牌已全部安装", submit="y",
                        photos=[("标牌1.jpg", jpeg_bytes()), ("标牌2.jpg", jpeg_bytes(color=(0, 90, 200)))])
    assert response.status_code == 302 and response.location.endswith(f"/reports/{report.id}")
    saved = fresh(db, report.id)
    assert saved.status == "submitted" and saved.note == "标牌已全部安装"
    assert services.quantity_total(saved) == 10
    assert sorted(item.original_name for item in services.evidence_of(saved)) == ["标牌1.jpg", "标牌2.jpg"]
    html = as_village_reporter.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "报告已上报，等待审核。" in html


def test_a_new_figure_adds_to_the_running_total_in_the_same_pass(as_village_reporter, db, running):
    report = running.signs_a1
    day = str(running.campaign.start_date)
    one_pass(as_village_reporter, report, quantity="4", reported_on=day, save="y")
    one_pass(as_village_reporter, report, quantity="3", reported_on=day, note="第二批", version="2", save="y")
    saved = fresh(db, report.id)
    assert services.quantity_total(saved) == 7 and saved.status == "draft" and saved.note == "第二批"


def test_submitting_without_the_required_photo_keeps_the_draft_and_says_what_is_missing(as_village_reporter, db,
                                                                                         running):
    report = running.signs_a1
    response = one_pass(as_village_reporter, report, quantity="5", reported_on=str(running.campaign.start_date),
                        note="先报数量", submit="y")
    assert response.status_code == 302
    saved = fresh(db, report.id)
    assert saved.status == "draft" and services.quantity_total(saved) == 5 and saved.note == "先报数量"
    html = as_village_reporter.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "已暂存，但未上报" in html and "缺少照片" in html


def test_a_figure_without_its_date_is_refused_and_nothing_is_saved(as_village_reporter, db, running):
    report = running.signs_a1
    response = one_pass(as_village_reporter, report, quantity="5", reported_on="", note="数量", save="y")
    assert response.status_code == 200
    assert "请按 YYYY-MM-DD 格式填写日期。" in response.get_data(as_text=True)
    assert fresh(db, report.id).status == "not_started"


def test_a_resent_form_adds_its_figure_once_and_answers_like_the_first_time(as_village_reporter, db, running):
    report = running.signs_a1
    key = uuid4().hex
    fields = {"quantity": "6", "reported_on": str(running.campaign.start_date), "save": "y"}
    first = one_pass(as_village_reporter, report, key=key, photos=[("标牌.jpg", jpeg_bytes())], **fields)
    again = one_pass(as_village_reporter, report, key=key, photos=[("标牌.jpg", jpeg_bytes())], **fields)
    assert first.status_code == again.status_code == 302 and first.location == again.location
    saved = fresh(db, report.id)
    assert services.quantity_total(saved) == 6
    assert len(services.evidence_of(saved)) == 1
    assert db.session.scalar(select(func.count()).select_from(Instalment)) == 1


def test_a_refused_form_does_not_use_up_its_key(as_village_reporter, db, running):
    report = running.signs_a1
    key = uuid4().hex
    day = str(running.campaign.start_date)
    assert one_pass(as_village_reporter, report, key=key, quantity="abc", reported_on=day).status_code == 200
    assert one_pass(as_village_reporter, report, key=key, quantity="8", reported_on=day, save="y").status_code == 302
    assert services.quantity_total(fresh(db, report.id)) == 8


def test_keys_belong_to_one_user_and_one_form(as_village_reporter, db, running, users):
    report = running.signs_a1
    key = uuid4().hex
    day = str(running.campaign.start_date)
    one_pass(as_village_reporter, report, key=key, quantity="2", reported_on=day, save="y")
    other_form = one_pass(as_village_reporter, running.leaflets_a1, key=key, quantity="2", reported_on=day,
                          save="y", headers=JSON)
    assert other_form.status_code == 400 and other_form.get_json()["ok"] is False
    assert services.quantity_total(fresh(db, running.leaflets_a1.id)) == 0
    [row] = db.session.scalars(select(IdempotencyKey)).all()
    assert row.user_id == users.village_reporter.id


@pytest.mark.parametrize("key", ["short", "has spaces in it", "x" * 65, "<script>alert(1)</script>"])
def test_a_malformed_key_is_refused(as_village_reporter, db, running, key):
    response = one_pass(as_village_reporter, running.signs_a1, key=key, note="备注", save="y", headers=JSON)
    assert response.status_code == 400
    assert fresh(db, running.signs_a1.id).note == ""


# --- JSON answers (field-form.js, the offline outbox) ----------------------------------------------

def test_json_success_names_the_page_to_go_to_and_a_replay_answers_the_same(as_village_reporter, db, running):
    report = running.signs_a1
    key = uuid4().hex
    fields = {"quantity": "3", "reported_on": str(running.campaign.start_date), "save": "y"}
    first = one_pass(as_village_reporter, report, key=key, headers=JSON, **fields)
    again = one_pass(as_village_reporter, report, key=key, headers=JSON, **fields)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    body = first.get_json()
    assert body["ok"] is True and body["redirect"] == f"/reports/{report.id}" and "已暂存" in body["message"]
    assert services.quantity_total(fresh(db, report.id)) == 3


def test_json_validation_errors_name_the_fields_in_chinese(as_village_reporter, db, running):
    response = one_pass(as_village_reporter, running.signs_a1, quantity="-1", reported_on="2026-13-40",
                        note="村口", save="y", headers=JSON)
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and body["message"]
    assert body["errors"]["quantity"] == ["请填写数量：0 或正整数。"]
    assert "reported_on" in body["errors"]


def test_json_refuses_a_photo_that_is_not_one(as_village_reporter, db, running):
    response = one_pass(as_village_reporter, running.signs_a1, note="照片", save="y", headers=JSON,
                        photos=[("fake.jpg", b"not a photo")])
    assert response.status_code == 400
    assert "photos" in response.get_json()["errors"]
    assert fresh(db, running.signs_a1.id).note == ""


def test_json_conflict_returns_the_other_persons_saved_values(as_village_reporter, db, running, users):
    report = running.signs_a1
    services.save_report(report, users.village_reporter, expected_version=1, note="别人写的备注")
    db.session.commit()
    response = one_pass(as_village_reporter, report, note="我的备注", save="y", headers=JSON)
    assert response.status_code == 409
    body = response.get_json()
    assert body["ok"] is False and body["conflict"] is True
    assert body["theirs"]["note"] == "别人写的备注" and body["theirs"]["version"] == 2
    assert fresh(db, report.id).note == "别人写的备注"


def test_json_answers_403_and_404_as_json(as_village_reporter, as_township_officer, db, running):
    forbidden = one_pass(as_township_officer, running.signs_a1, note="代报", save="y", headers=JSON)
    assert forbidden.status_code == 403 and forbidden.get_json()["ok"] is False
    missing = as_village_reporter.post_form("/reports/999999", {"version": "1"}, headers=JSON)
    assert missing.status_code == 404 and missing.get_json() == {"ok": False,
                                                                 "message": "页面或记录不存在，或不在您的管辖范围内。"}


def test_the_other_villages_report_is_not_found(as_village_reporter, db, running):
    response = one_pass(as_village_reporter, running.signs_b1, note="越权", save="y", headers=JSON)
    assert response.status_code == 404
    assert fresh(db, running.signs_b1.id).note == ""


def test_the_page_offers_one_form_with_a_fresh_key_for_each_visit(as_village_reporter, db, running):
    url = f"/reports/{running.signs_a1.id}"
    first = as_village_reporter.get(url).get_data(as_text=True)
    second = as_village_reporter.get(url).get_data(as_text=True)
    assert first.count(f'action="{url}"') == 1 and first.count("data-field-form") == 1
    assert "/instalments" not in first and f'action="{url}/evidence"' not in first
    key = 'name="idempotency_key" type="hidden" value="'
    assert key in first and first.split(key)[1][:32] != second.split(key)[1][:32]


def test_json_413_names_the_limit(as_village_reporter, app, db, running, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    response = one_pass(as_village_reporter, running.signs_a1, save="y", headers=JSON,
                        photos=[("大照片.jpg", b"\xff" * (1024 * 1024 + 1))])
    assert response.status_code == 413
    answer = response.get_json()
    assert answer["ok"] is False and answer["limit_mb"] == 1
    assert "每次最多 1 MB" in answer["message"] and "本次没有保存任何内容" in answer["message"]


def test_a_yes_no_task_is_done_with_its_document_in_one_pass(as_township_officer, db, running):
    report = running.plan_a
    response = one_pass(as_township_officer, report, done="y", note="实施方案已印发", submit="y",
                        documents=[("实施方案.pdf", pdf_bytes())])
    assert response.status_code == 302
    saved = fresh(db, report.id)
    assert (saved.status, saved.done, saved.note) == ("submitted", True, "实施方案已印发")
    [document] = services.evidence_of(saved)
    assert document.original_name == "实施方案.pdf" and document.stored_file.kind == "pdf"
