"""Reporting through the API: the same numbers as the pages, conflicts, the deadline lock,
evidence uploads, the review cycle, and JSON errors for everything a client can get wrong."""
import io
import re
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditRecord
from campaign.campaigns.models import Assignment
from campaign.reporting import services
from campaign.timeutil import local_to_utc, local_today
from tests.api.conftest import API, error_of
from tests.reporting.conftest import (
    assignment_of,
    jpeg_bytes,
    make_running_campaign,
    pdf_bytes,
)
from tests.reporting.test_permissions import attach_photo, submitted

ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def fresh(db, assignment_id):
    db.session.expire_all()
    return db.session.get(Assignment, assignment_id)


def upload(client, assignment, *files):
    return client.post(f"/assignments/{assignment.id}/evidence",
                       data={"files": [(io.BytesIO(data), name) for name, data in files]},
                       content_type="multipart/form-data")


def instalment(client, assignment, quantity, day, note=""):
    return client.post(f"/assignments/{assignment.id}/instalments",
                       json={"quantity": quantity, "reported_on": str(day), "note": note})


# --- reading -----------------------------------------------------------------------------------

def test_the_total_after_two_instalments_is_the_one_the_page_shows(api, login, db, running):
    client = api("village_reporter")
    report = running.signs_a1
    start = running.campaign.start_date
    assert instalment(client, report, 4, start, "村口").status_code == 201
    response = instalment(client, report, 9, start + timedelta(days=2))
    assert response.status_code == 201
    body = response.get_json()
    assert body["instalment"]["quantity"] == 9
    detail = client.get(f"/assignments/{report.id}").get_json()
    assert (detail["total"], detail["target"], detail["percent"]) == (13, 10, 130)
    assert [(item["quantity"], item["reported_on"], item["note"]) for item in detail["instalments"]] == [
        (4, str(start), "村口"), (9, str(start + timedelta(days=2)), "")]
    assert detail["status"] == "draft" and detail == body["assignment"]
    page = login("village_reporter").get(f"/reports/{report.id}").get_data(as_text=True)
    assert "13 / 10 块 · 130%" in page
    listed = {item["id"]: item for item in client.get("/assignments").get_json()["items"]}
    assert (listed[report.id]["total"], listed[report.id]["percent"]) == (13, 130)
    assert listed[running.leaflets_a1.id]["total"] is None


def test_a_report_reads_with_its_campaign_task_evidence_and_history(api, db, users, running):
    report = running.signs_a1
    evidence = attach_photo(report, users.village_reporter, "村口标牌.jpg")
    services.add_instalment(report, users.village_reporter, quantity=2, reported_on=running.campaign.start_date)
    db.session.commit()
    detail = api("township_officer").get(f"/assignments/{report.id}").get_json()
    assert detail["campaign"]["title"] == "2026年森林防火宣传月活动"
    assert ISO_UTC.fullmatch(detail["campaign"]["deadline_at"])
    assert detail["campaign"]["deadline_at"] == (
        running.campaign.deadline_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert detail["campaign"]["start_date"] == str(running.campaign.start_date)
    assert detail["task"]["title"] == "设置永久性宣传标牌" and detail["task"]["measure_unit_label"] == "块"
    assert detail["unit"]["name"] == "夏禹桥村委会"
    assert detail["status_label"] == "已暂存"
    assert (detail["may_report"], detail["may_review"], detail["locked"]) == (False, True, False)
    [item] = detail["evidence"]
    assert item["name"] == "村口标牌.jpg" and item["kind"] == "image"
    assert item["url"] == f"{API}/evidence/{evidence.id}"
    assert item["thumbnail_url"] == f"{API}/evidence/{evidence.id}/thumbnail"
    assert item["page_url"] == f"/files/evidence/{evidence.id}"
    assert [entry["action"] for entry in detail["history"]] == ["report.evidence_add", "report.instalment"]
    assert detail["history"][1]["by"]["username"] == "village_reporter"
    assert detail["history"][1]["after"]["total"] == 2
    assert all(ISO_UTC.fullmatch(entry["at"]) for entry in detail["history"])


def test_the_review_queue_lists_the_submitted_reports_below_the_reviewer(api, db, users, running):
    from tests import factories

    submitted(db, running.signs_a1, users.village_reporter)
    reporter_b1 = factories.make_user(role="village_reporter", unit=running.signs_b1.unit, username="b1")
    submitted(db, running.signs_b1, reporter_b1)
    township = api("township_officer").get("/assignments?status=submitted").get_json()
    assert township["scope"] == "review" and township["count"] == 1
    assert [item["id"] for item in township["items"]] == [running.signs_a1.id]
    county = api("county_officer").get("/assignments?status=submitted").get_json()
    assert {item["id"] for item in county["items"]} == {running.signs_a1.id, running.signs_b1.id}
    everything = api("county_officer").get("/assignments?status=all&per_page=2").get_json()
    assert everything["count"] > 2 and len(everything["items"]) == 2
    # A reporter's "status" filters their own tasks.
    mine = api("village_reporter").get("/assignments?status=submitted").get_json()
    assert mine["scope"] == "mine" and [item["id"] for item in mine["items"]] == [running.signs_a1.id]


@pytest.mark.parametrize("query,parameter", [
    ("status=done", "status"),
    ("status=all&page=0", "page"),
    ("status=all&per_page=abc", "per_page"),
    ("campaign=-1", "campaign"),
    ("task=1e3", "task"),
])
def test_bad_list_parameters_are_refused(api, running, query, parameter):
    error = error_of(api("county_officer").get(f"/assignments?{query}"), 400)
    assert error["code"] == "bad_parameter" and error["details"]["parameter"] == parameter


def test_lists_and_reports_cost_a_fixed_number_of_queries(api, db, users, tree, running, count_queries):
    client = api("village_reporter")
    client.get("/me")  # the token's first use is recorded once; later requests only read
    report = running.signs_a1
    services.add_instalment(report, users.village_reporter, quantity=1, reported_on=running.campaign.start_date)
    attach_photo(report, users.village_reporter, "第一张.jpg")
    db.session.commit()

    def statements(path):
        with count_queries() as executed:
            assert client.get(path).status_code == 200
        return len(executed)

    list_before, detail_before = statements("/assignments"), statements(f"/assignments/{report.id}")
    for number in range(3):
        make_running_campaign(tree, title=f"专项行动{number}")
    for day in range(4):
        services.add_instalment(report, users.village_reporter, quantity=1,
                                reported_on=running.campaign.start_date + timedelta(days=day))
        attach_photo(report, users.village_reporter, f"照片{day}.jpg")
    db.session.commit()
    assert len(client.get("/assignments").get_json()["items"]) == 8
    assert statements("/assignments") == list_before
    assert statements(f"/assignments/{report.id}") == detail_before


# --- writing -----------------------------------------------------------------------------------

def test_a_report_is_saved_submitted_returned_resubmitted_and_approved(api, db, running):
    reporter, township = api("village_reporter"), api("township_officer")
    report = running.leaflets_a1
    saved = reporter.put(f"/assignments/{report.id}/report",
                         json={"expected_version": 1, "note": "已逐户发放", "done": True}).get_json()["assignment"]
    assert (saved["status"], saved["done"], saved["note"], saved["version"]) == ("draft", True, "已逐户发放", 2)
    sent = reporter.post(f"/assignments/{report.id}/submit", json={"expected_version": 2}).get_json()["assignment"]
    assert sent["status"] == "submitted" and ISO_UTC.fullmatch(sent["submitted_at"])
    back = township.post(f"/assignments/{report.id}/return",
                         json={"expected_version": sent["version"], "reason": "请补充发放户数"}).get_json()["assignment"]
    assert back["status"] == "returned" and back["return_reason"] == "请补充发放户数"
    assert back["reviewed_by"]["id"] is not None
    again = reporter.post(f"/assignments/{report.id}/report",
                          json={"expected_version": back["version"], "note": "已发放420户"}).get_json()["assignment"]
    assert again["done"] is True  # "done" left out keeps what was saved
    resent = reporter.post(f"/assignments/{report.id}/submit", json={"expected_version": again["version"]})
    approved = township.post(f"/assignments/{report.id}/approve",
                             json={"expected_version": resent.get_json()["assignment"]["version"]})
    assert approved.status_code == 200 and approved.get_json()["assignment"]["status"] == "approved"
    actions = [entry["action"] for entry in approved.get_json()["assignment"]["history"]]
    assert actions == ["report.save", "report.submit", "report.return", "report.save", "report.submit",
                       "report.approve"]
    assert fresh(db, report.id).status == "approved"


def test_a_note_left_out_keeps_the_saved_note(api, db, running):
    client = api("village_reporter")
    report = running.leaflets_a1
    client.put(f"/assignments/{report.id}/report", json={"expected_version": 1, "note": "第一稿"})
    client.put(f"/assignments/{report.id}/report", json={"expected_version": 2, "done": True})
    assert (fresh(db, report.id).note, fresh(db, report.id).done) == ("第一稿", True)


def test_every_api_write_is_audited_with_the_tokens_user(api, db, running):
    client = api("village_reporter")
    report = running.signs_a1
    instalment(client, report, 5, running.campaign.start_date)
    records = db.session.scalars(select(AuditRecord).where(AuditRecord.entity_type == "assignment",
                                                           AuditRecord.entity_id == str(report.id))).all()
    assert [(entry.action, entry.username) for entry in records] == [("report.instalment", "village_reporter")]


def test_a_stale_version_is_refused_with_what_the_other_saved(api, db, users, running):
    report = running.leaflets_a1
    services.save_report(report, users.village_reporter, expected_version=1, note="张三写的说明", done=True)
    db.session.commit()
    response = api("village_reporter").put(f"/assignments/{report.id}/report",
                                           json={"expected_version": 1, "note": "李四的修改"})
    error = error_of(response, 409)
    assert error["code"] == "conflict"
    details = error["details"]
    assert (details["note"], details["done"], details["status"], details["version"]) == ("张三写的说明", True,
                                                                                          "draft", 2)
    assert details["by"] == "测试用户" and ISO_UTC.fullmatch(details["at"])
    assert "测试用户" in error["message"] and "2" in error["message"]
    assert fresh(db, report.id).note == "张三写的说明"


def test_a_stale_approval_is_a_conflict_too(api, db, users, running):
    report = submitted(db, running.signs_a1, users.village_reporter)
    error = error_of(api("township_officer").post(f"/assignments/{report.id}/approve",
                                                  json={"expected_version": report.version - 1}), 409)
    assert error["code"] == "conflict" and error["details"]["status"] == "submitted"


def test_a_submitted_report_cannot_be_changed(api, db, users, running):
    report = submitted(db, running.signs_a1, users.village_reporter)
    client = api("village_reporter")
    error = error_of(instalment(client, report, 1, running.campaign.start_date), 409)
    assert error["code"] == "not_editable" and error["details"]["status"] == "submitted"
    assert error_of(client.put(f"/assignments/{report.id}/report",
                               json={"expected_version": report.version, "note": "x"}), 409)["code"] == "not_editable"


def test_submitting_without_the_required_photo_says_what_is_missing(api, db, running):
    client = api("village_reporter")
    report = running.signs_a1
    instalment(client, report, 10, running.campaign.start_date)
    detail = client.get(f"/assignments/{report.id}").get_json()
    assert detail["missing_evidence"] == ["photo"]
    error = error_of(client.post(f"/assignments/{report.id}/submit",
                                 json={"expected_version": detail["version"]}), 409)
    assert error["code"] == "evidence_missing" and error["details"]["missing"] == ["photo"]
    assert "照片" in error["message"]
    assert fresh(db, report.id).status == "draft"


def test_a_return_needs_a_reason(api, db, users, running):
    report = submitted(db, running.signs_a1, users.village_reporter)
    error = error_of(api("township_officer").post(f"/assignments/{report.id}/return",
                                                  json={"expected_version": report.version, "reason": " "}), 400)
    assert error["code"] == "reason_required" and error["details"]["field"] == "reason"
    assert fresh(db, report.id).status == "submitted"


# --- deadline ----------------------------------------------------------------------------------

@pytest.fixture
def overdue(db, tree, users):
    """A campaign whose deadline was yesterday at 17:00."""
    made = make_running_campaign(tree, title="防溺水专项行动",
                                 deadline=local_to_utc(local_today() - timedelta(days=1), time(17, 0)))
    return assignment_of(made.signs, tree.village_a1)


def test_after_the_deadline_the_report_is_locked(api, db, users, overdue):
    client = api("village_reporter")
    detail = client.get(f"/assignments/{overdue.id}").get_json()
    assert detail["locked"] is True and detail["may_edit"] is False
    for response in (
        instalment(client, overdue, 3, overdue.campaign.start_date),
        client.put(f"/assignments/{overdue.id}/report", json={"expected_version": 1, "note": "迟报"}),
        client.post(f"/assignments/{overdue.id}/submit", json={"expected_version": 1}),
        upload(client, overdue, ("photo.jpg", jpeg_bytes())),
    ):
        error = error_of(response, 423)
        assert error["code"] == "locked" and ISO_UTC.fullmatch(error["details"]["deadline"])
        assert "截止时间" in error["message"]
    assert services.quantity_total(overdue) == 0 and services.evidence_of(overdue) == []


def test_a_lock_exception_reopens_the_report(api, db, users, overdue):
    services.grant_lock_exception(overdue.campaign, overdue.unit, users.county_officer,
                                  until=local_to_utc(local_today() + timedelta(days=2), time(17, 0)),
                                  reason="暴雨断网")
    db.session.commit()
    client = api("village_reporter")
    detail = client.get(f"/assignments/{overdue.id}").get_json()
    assert detail["locked"] is False and ISO_UTC.fullmatch(detail["lock_exception_until"])
    assert instalment(client, overdue, 3, overdue.campaign.start_date).status_code == 201


# --- evidence ----------------------------------------------------------------------------------

def test_photos_and_documents_are_uploaded_in_one_request(api, db, running):
    client = api("village_reporter")
    report = running.signs_a1
    response = upload(client, report, ("村口标牌.jpg", jpeg_bytes()), ("方案.pdf", pdf_bytes()))
    assert response.status_code == 201
    body = response.get_json()
    assert [(item["name"], item["kind"]) for item in body["evidence"]] == [("村口标牌.jpg", "image"),
                                                                          ("方案.pdf", "pdf")]
    assert body["evidence"][1]["thumbnail_url"] is None
    assert len(body["assignment"]["evidence"]) == 2
    downloaded = client.get(body["evidence"][1]["url"])
    assert downloaded.status_code == 200 and downloaded.data == pdf_bytes()


@pytest.mark.parametrize("name,data,status,code", [
    ("photo.jpg", b"this is only text", 415, "bad_type"),
    ("photo.jpg", jpeg_bytes()[:200], 400, "corrupt_image"),
    ("empty.jpg", b"", 400, "empty"),
])
def test_a_bad_file_is_refused_with_the_upload_code_and_nothing_is_kept(api, db, running, name, data, status,
                                                                        code):
    report = running.signs_a1
    response = upload(api("village_reporter"), report, ("good.jpg", jpeg_bytes()), (name, data))
    error = error_of(response, status)
    assert error["code"] == code and error["details"]["name"] == name
    assert name in error["message"]
    assert services.evidence_of(report) == []


def test_a_file_over_the_per_file_limit_is_refused(app, api, db, running, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FILE_MB", 1)
    error = error_of(upload(api("village_reporter"), running.signs_a1, ("big.pdf", pdf_bytes() + b"0" * 1_100_000)),
                     413)
    assert error["code"] == "too_large" and error["details"]["limit_mb"] == 1


def test_a_request_over_the_size_limit_gets_a_json_413(app, api, db, running, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    error = error_of(upload(api("village_reporter"), running.signs_a1, ("big.pdf", pdf_bytes() + b"0" * 60_000)),
                     413)
    assert error["code"] == "too_large"
    assert services.evidence_of(running.signs_a1) == []


def test_an_upload_without_files_is_refused(api, running):
    response = api("village_reporter").post(f"/assignments/{running.signs_a1.id}/evidence", data={},
                                            content_type="multipart/form-data")
    assert error_of(response, 400)["code"] == "no_files"


def test_a_path_in_the_file_name_is_dropped(api, db, running):
    body = upload(api("village_reporter"), running.signs_a1, ("../../etc/标牌.jpg", jpeg_bytes())).get_json()
    assert body["evidence"][0]["name"] == "标牌.jpg"


def test_evidence_is_removed_through_the_api(api, db, users, running):
    report = running.signs_a1
    evidence = attach_photo(report, users.village_reporter)
    db.session.commit()
    client = api("village_reporter")
    response = client.delete(f"/assignments/{report.id}/evidence/{evidence.id}")
    assert response.status_code == 200 and response.get_json()["assignment"]["evidence"] == []
    assert error_of(client.delete(f"/assignments/{report.id}/evidence/{evidence.id}"), 404)
    assert error_of(client.get(f"/evidence/{evidence.id}"), 404)


# --- bad requests ------------------------------------------------------------------------------

BAD_INSTALMENTS = [
    ("not json at all", "invalid_json", None),
    ("[1, 2]", "invalid_json", None),
    ('"quantity"', "invalid_json", None),
    ("{}", "field_required", "quantity"),
    ('{"quantity": "4", "reported_on": "%(day)s"}', "field_invalid", "quantity"),
    ('{"quantity": 4.5, "reported_on": "%(day)s"}', "field_invalid", "quantity"),
    ('{"quantity": true, "reported_on": "%(day)s"}', "field_invalid", "quantity"),
    ('{"quantity": 1e400, "reported_on": "%(day)s"}', "field_invalid", "quantity"),
    ('{"quantity": -1, "reported_on": "%(day)s"}', "quantity_invalid", "quantity"),
    ('{"quantity": 99999999999999999999999, "reported_on": "%(day)s"}', "quantity_too_large", "quantity"),
    ('{"quantity": 1%(zeros)s, "reported_on": "%(day)s"}', "invalid_json", None),
    ('{"quantity": 4}', "field_required", "reported_on"),
    ('{"quantity": 4, "reported_on": "03/10/2026"}', "field_invalid", "reported_on"),
    ('{"quantity": 4, "reported_on": "2026-02-30"}', "field_invalid", "reported_on"),
    ('{"quantity": 4, "reported_on": 20261003}', "field_invalid", "reported_on"),
    ('{"quantity": 4, "reported_on": "2000-01-01"}', "date_outside_window", "reported_on"),
    ('{"quantity": 4, "reported_on": "%(day)s", "note": ["a"]}', "field_invalid", "note"),
    ('{"quantity": 4, "reported_on": "%(day)s", "note": "%(long)s"}', "note_too_long", "note"),
]


@pytest.mark.parametrize("body,code,field", BAD_INSTALMENTS)
def test_bad_instalment_bodies_get_a_400_naming_the_problem(api, db, running, body, code, field):
    raw = body % {"day": running.campaign.start_date, "zeros": "0" * 5000, "long": "长" * 5001}
    response = api("village_reporter").post(f"/assignments/{running.signs_a1.id}/instalments", data=raw,
                                            content_type="application/json")
    error = error_of(response, 400)
    assert error["code"] == code
    if field:
        assert error["details"]["field"] == field
    assert services.quantity_total(running.signs_a1) == 0


@pytest.mark.parametrize("path,body,field", [
    ("report", {"note": "x"}, "expected_version"),
    ("report", {"expected_version": "1", "note": "x"}, "expected_version"),
    ("report", {"expected_version": 1, "note": 5}, "note"),
    ("report", {"expected_version": 1, "done": "yes"}, "done"),
    ("submit", {}, "expected_version"),
    ("submit", {"expected_version": None}, "expected_version"),
])
def test_bad_report_bodies_get_a_400(api, db, running, path, body, field):
    response = api("village_reporter").post(f"/assignments/{running.leaflets_a1.id}/{path}", json=body)
    error = error_of(response, 400)
    assert error["code"] in {"field_required", "field_invalid"} and error["details"]["field"] == field
    assert fresh(db, running.leaflets_a1.id).version == 1


@pytest.mark.parametrize("body", [{"reason": "x"}, {"expected_version": [1], "reason": "x"},
                                  {"expected_version": 2, "reason": 7}])
def test_bad_review_bodies_get_a_400(api, db, users, running, body):
    report = submitted(db, running.signs_a1, users.village_reporter)
    response = api("township_officer").post(f"/assignments/{report.id}/return", json=body)
    assert error_of(response, 400)["code"] in {"field_required", "field_invalid"}
    assert fresh(db, report.id).status == "submitted"


def test_an_unknown_api_url_is_a_json_404(api):
    error = error_of(api("viewer").get("/nothing/here"), 404)
    assert error["code"] == "not_found"


def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(api, running):
    response = api("viewer").delete(f"/assignments/{running.signs_a1.id}")
    error = error_of(response, 405)
    assert error["code"] == "method_not_allowed" and "GET" in error["details"]["allowed"]
    assert "GET" in response.headers["Allow"]


def test_pages_outside_the_api_keep_their_html_errors(as_viewer):
    response = as_viewer.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_a_server_error_is_json_without_a_stack_trace(app, api, running, monkeypatch):
    def broken(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "my_assignments", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = api("village_reporter").get("/assignments")
    error = error_of(response, 500)
    assert error["code"] == "server_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


# --- language ----------------------------------------------------------------------------------

def test_error_messages_are_chinese_by_default(api, running):
    error = error_of(api("village_reporter").get("/assignments/999999"), 404)
    assert error["message"] == "未找到，或不在您的管辖范围内。"
    raw = api("village_reporter").post(f"/assignments/{running.signs_a1.id}/instalments", json={"quantity": -1,
                                       "reported_on": str(running.campaign.start_date)})
    assert "整数" in error_of(raw, 400)["message"]


def test_error_messages_are_english_on_request(api, running):
    client = api("village_reporter", language="en")
    assert error_of(client.get("/assignments/999999"), 404)["message"] == "Not found, or not in your area."
    detail = client.get(f"/assignments/{running.signs_a1.id}").get_json()
    assert detail["status_label"] == "Not started" and detail["task"]["measure_unit_label"] == "boards"


def test_the_json_is_utf8_and_never_cached(api, running):
    response = api("village_reporter").get("/assignments")
    assert "设置永久性宣传标牌" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_full_disk_answers_507_and_stores_nothing(api, db, running, monkeypatch):
    from campaign.evidence import services as evidence_services
    from campaign.evidence.models import Evidence
    from tests.resilience.test_faults import FullDiskOs

    monkeypatch.setattr(evidence_services, "os", FullDiskOs())
    never_stored_before = jpeg_bytes((17, 201, 99), (97, 61))  # content already on disk would not be rewritten
    response = upload(api("village_reporter"), running.signs_a1, ("标牌.jpg", never_stored_before))
    assert error_of(response, 507)["code"] == "storage_failed"
    assert db.session.scalar(select(Evidence.id).limit(1)) is None
