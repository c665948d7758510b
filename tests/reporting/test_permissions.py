"""Who may do what on the reporting pages: every role against every route, and changed ids."""
import io

import pytest

from campaign.campaigns.models import Assignment
from campaign.evidence.services import store_bytes
from campaign.reporting import services
from tests.conftest import ROLE_HOMES
from tests.reporting.conftest import jpeg_bytes

ROLES = list(ROLE_HOMES)
REVIEWERS = {"admin", "county_officer", "township_officer"}
OFFICE = {"admin", "county_officer"}
SEES_VILLAGE_A1 = {"admin", "county_officer", "township_officer", "inspector", "viewer", "village_reporter"}


def attach_photo(assignment, actor, name="标牌.jpg"):
    [evidence] = services.add_evidence(assignment, actor, [store_bytes(jpeg_bytes(), name)])
    return evidence


def submitted(db, assignment, reporter, instalment=True):
    if instalment:
        services.add_instalment(assignment, reporter, quantity=10, reported_on=assignment.campaign.start_date)
    attach_photo(assignment, reporter)
    services.submit_report(assignment, reporter, expected_version=assignment.version)
    db.session.commit()
    return assignment


def status_of(db, assignment_id):
    db.session.expire_all()
    return db.session.get(Assignment, assignment_id)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_open_my_tasks(login, running, role):
    assert login(role).get("/reports/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_a_village_report_is_seen_by_its_village_and_the_offices_above_only(login, running, role):
    response = login(role).get(f"/reports/{running.signs_a1.id}")
    assert response.status_code == (200 if role in SEES_VILLAGE_A1 else 404)


@pytest.mark.parametrize("role", ROLES)
def test_another_townships_report_is_out_of_sight_below_the_county(login, running, role):
    response = login(role).get(f"/reports/{running.signs_b1.id}")
    assert response.status_code == (200 if role in {"admin", "county_officer", "inspector", "viewer"} else 404)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_villages_reporter_may_save_its_report(login, db, running, role):
    report = running.signs_a1
    response = login(role).post_form(f"/reports/{report.id}", {"note": "已设置", "version": "1", "save": "y"})
    expected = 302 if role == "village_reporter" else (404 if role not in SEES_VILLAGE_A1 else 403)
    assert response.status_code == expected
    assert status_of(db, report.id).note == ("已设置" if role == "village_reporter" else "")


@pytest.mark.parametrize("role", ROLES)
def test_only_the_villages_reporter_may_add_an_instalment(login, db, running, role):
    report = running.signs_a1
    response = login(role).post_form(f"/reports/{report.id}/instalments",
                                     {"quantity": "3", "reported_on": str(running.campaign.start_date)})
    expected = 302 if role == "village_reporter" else (404 if role not in SEES_VILLAGE_A1 else 403)
    assert response.status_code == expected
    assert services.quantity_total(report) == (3 if role == "village_reporter" else 0)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_villages_reporter_may_upload_evidence(login, db, running, role):
    report = running.signs_a1
    response = login(role).post_form(f"/reports/{report.id}/evidence",
                                     {"photos": (io.BytesIO(jpeg_bytes()), "photo.jpg")},
                                     content_type="multipart/form-data")
    expected = 302 if role == "village_reporter" else (404 if role not in SEES_VILLAGE_A1 else 403)
    assert response.status_code == expected
    assert len(services.evidence_of(report)) == (1 if role == "village_reporter" else 0)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_villages_reporter_may_remove_evidence(login, db, users, running, role):
    report = running.signs_a1
    evidence = attach_photo(report, users.village_reporter)
    db.session.commit()
    client = login(role)
    url = f"/reports/{report.id}/evidence/{evidence.id}/remove"
    expected = 200 if role == "village_reporter" else (404 if role not in SEES_VILLAGE_A1 else 403)
    assert client.get(url).status_code == expected
    assert client.post_form(url, {}).status_code == (302 if role == "village_reporter" else expected)
    assert len(services.evidence_of(report)) == (0 if role == "village_reporter" else 1)


@pytest.mark.parametrize("role", ROLES)
def test_only_reviewers_above_the_village_may_approve(login, db, users, running, role):
    report = submitted(db, running.signs_a1, users.village_reporter)
    response = login(role).post_form(f"/reports/{report.id}/approve", {"version": str(report.version)})
    assert response.status_code == (302 if role in REVIEWERS else 403)
    assert status_of(db, report.id).status == ("approved" if role in REVIEWERS else "submitted")


@pytest.mark.parametrize("role", ROLES)
def test_only_reviewers_above_the_village_may_return(login, db, users, running, role):
    report = submitted(db, running.signs_a1, users.village_reporter)
    response = login(role).post_form(f"/reports/{report.id}/return",
                                     {"version": str(report.version), "reason": "照片不清楚"})
    assert response.status_code == (302 if role in REVIEWERS else 403)
    assert status_of(db, report.id).status == ("returned" if role in REVIEWERS else "submitted")


@pytest.mark.parametrize("role", ROLES)
def test_only_reviewers_open_the_review_queue(login, running, role):
    assert login(role).get("/reports/review").status_code == (200 if role in REVIEWERS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_county_office_manages_lock_exceptions(login, db, tree, running, role):
    client = login(role)
    url = f"/reports/campaigns/{running.campaign.id}/exceptions"
    assert client.get(url).status_code == (200 if role in OFFICE else 403)
    response = client.post_form(url, {"unit_id": str(tree.village_a1.id), "until": "2099-01-01T17:00",
                                      "reason": "网络中断"})
    assert response.status_code == (302 if role in OFFICE else 403)
    assert len(services.lock_exceptions_of(running.campaign)) == (1 if role in OFFICE else 0)


def test_a_township_officer_cannot_reach_another_townships_report_by_its_id(as_township_officer, db, users,
                                                                              running):
    report = submitted(db, running.signs_b1, _reporter_of(db, running.signs_b1.unit))
    for url in (f"/reports/{report.id}", f"/reports/{report.id}/approve", f"/reports/{report.id}/return"):
        response = (as_township_officer.get(url) if url.endswith(str(report.id))
                    else as_township_officer.post_form(url, {"version": str(report.version), "reason": "x"}))
        assert response.status_code == 404, url
    assert status_of(db, report.id).status == "submitted"


def test_a_reporter_cannot_reach_a_neighbouring_villages_report_by_its_id(as_village_reporter, db, running):
    report = running.signs_a2
    assert as_village_reporter.get(f"/reports/{report.id}").status_code == 404
    response = as_village_reporter.post_form(f"/reports/{report.id}", {"note": "篡改", "version": "1", "save": "y"})
    assert response.status_code == 404
    response = as_village_reporter.post_form(f"/reports/{report.id}/instalments",
                                             {"quantity": "99", "reported_on": str(running.campaign.start_date)})
    assert response.status_code == 404
    assert status_of(db, report.id).note == "" and services.quantity_total(report) == 0


def test_evidence_of_another_report_cannot_be_removed_through_ones_own(as_village_reporter, db, users, running):
    other_reporter = _reporter_of(db, running.signs_a2.unit)
    foreign = attach_photo(running.signs_a2, other_reporter)
    db.session.commit()
    url = f"/reports/{running.signs_a1.id}/evidence/{foreign.id}/remove"
    assert as_village_reporter.get(url).status_code == 404
    assert as_village_reporter.post_form(url, {}).status_code == 404
    assert len(services.evidence_of(running.signs_a2)) == 1


def test_an_unknown_report_is_not_found(as_county_officer, running):
    assert as_county_officer.get("/reports/999999").status_code == 404


def test_a_township_officer_reports_the_townships_own_task_but_cannot_approve_it(
    login, db, users, running
):
    plan = running.plan_a
    township = login("township_officer")
    response = township.post_form(f"/reports/{plan.id}", {"note": "实施方案已印发", "version": "1", "save": "y"})
    assert response.status_code == 302
    services.add_evidence(plan, users.township_officer, [store_bytes(b"%PDF-1.4\n%%EOF\n", "实施方案.pdf")])
    db.session.commit()
    response = township.post_form(f"/reports/{plan.id}", {"note": "实施方案已印发", "version": "2", "submit": "y"})
    assert response.status_code == 302
    assert status_of(db, plan.id).status == "submitted"
    assert township.post_form(f"/reports/{plan.id}/approve", {"version": "3"}).status_code == 403
    assert login("county_officer").post_form(f"/reports/{plan.id}/approve", {"version": "3"}).status_code == 302
    assert status_of(db, plan.id).status == "approved"


def test_a_campaign_of_another_county_has_no_exceptions_page_here(as_county_officer, db, tree):
    from tests.factories import make_campaign, make_unit

    other = make_unit("county", None, "桐庐县", "330122000000")
    campaign = make_campaign(other, title="桐庐县防溺水专项行动")
    db.session.commit()
    assert as_county_officer.get(f"/reports/campaigns/{campaign.id}/exceptions").status_code == 404


def _reporter_of(db, unit):
    from tests.factories import make_user

    user = make_user(role="village_reporter", unit=unit)
    db.session.commit()
    return user
