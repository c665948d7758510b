"""Every role against every API endpoint: the same rules as the pages. A changed id that points
outside the user's area gives 404; an action the user may not take on a visible report, 403."""
import io

import pytest

from campaign.campaigns.models import Assignment
from campaign.reporting import services
from tests.api.conftest import error_of
from tests.conftest import ROLE_HOMES
from tests.reporting.conftest import jpeg_bytes
from tests.reporting.test_permissions import attach_photo, submitted

ROLES = list(ROLE_HOMES)
REVIEWERS = {"admin", "county_officer", "township_officer"}
SEES_VILLAGE_A1 = {"admin", "county_officer", "township_officer", "inspector", "viewer", "village_reporter"}
SEES_VILLAGE_B1 = {"admin", "county_officer", "inspector", "viewer"}


def fresh(db, assignment_id):
    db.session.expire_all()
    return db.session.get(Assignment, assignment_id)


def reporter_status(role, created=False):
    if role == "village_reporter":
        return 201 if created else 200
    return 403 if role in SEES_VILLAGE_A1 else 404


def assert_status(response, status):
    if status >= 400:
        error_of(response, status)
    else:
        assert response.status_code == status, response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_itself(api, role):
    me = api(role).get("/me")
    assert me.status_code == 200
    assert me.get_json()["role"] == role


@pytest.mark.parametrize("role", ROLES)
def test_every_role_lists_its_own_units_tasks(api, running, role):
    response = api(role).get("/assignments")
    assert response.status_code == 200
    ids = {item["id"] for item in response.get_json()["items"]}
    expected = {
        "village_reporter": {running.signs_a1.id, running.leaflets_a1.id},
        "township_officer": {running.plan_a.id},
    }.get(role, set())
    assert ids == expected


@pytest.mark.parametrize("role", ROLES)
def test_a_village_report_is_read_by_its_village_and_the_offices_above_only(api, running, role):
    response = api(role).get(f"/assignments/{running.signs_a1.id}")
    assert_status(response, 200 if role in SEES_VILLAGE_A1 else 404)


@pytest.mark.parametrize("role", ROLES)
def test_another_townships_report_is_out_of_sight(api, running, role):
    response = api(role).get(f"/assignments/{running.signs_b1.id}")
    assert_status(response, 200 if role in SEES_VILLAGE_B1 else 404)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_villages_reporter_adds_an_instalment(api, db, running, role):
    report = running.signs_a1
    response = api(role).post(f"/assignments/{report.id}/instalments",
                              json={"quantity": 3, "reported_on": str(running.campaign.start_date)})
    assert_status(response, reporter_status(role, created=True))
    assert services.quantity_total(report) == (3 if role == "village_reporter" else 0)


@pytest.mark.parametrize("method", ["PUT", "POST"])
@pytest.mark.parametrize("role", ROLES)
def test_only_the_villages_reporter_saves_its_report(api, db, running, role, method):
    report = running.signs_a1
    response = api(role).open(method, f"/assignments/{report.id}/report",
                              json={"expected_version": report.version, "note": "已设置"})
    assert_status(response, reporter_status(role))
    assert fresh(db, report.id).note == ("已设置" if role == "village_reporter" else "")


@pytest.mark.parametrize("role", ROLES)
def test_only_the_villages_reporter_submits_its_report(api, db, users, running, role):
    report = running.signs_a1
    services.add_instalment(report, users.village_reporter, quantity=10, reported_on=running.campaign.start_date)
    attach_photo(report, users.village_reporter)
    db.session.commit()
    response = api(role).post(f"/assignments/{report.id}/submit", json={"expected_version": report.version})
    assert_status(response, reporter_status(role))
    assert fresh(db, report.id).status == ("submitted" if role == "village_reporter" else "draft")


@pytest.mark.parametrize("role", ROLES)
def test_only_the_villages_reporter_uploads_evidence(api, db, running, role):
    report = running.signs_a1
    response = api(role).post(f"/assignments/{report.id}/evidence",
                              data={"files": (io.BytesIO(jpeg_bytes()), "photo.jpg")},
                              content_type="multipart/form-data")
    assert_status(response, reporter_status(role, created=True))
    assert len(services.evidence_of(report)) == (1 if role == "village_reporter" else 0)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_villages_reporter_removes_evidence(api, db, users, running, role):
    report = running.signs_a1
    evidence = attach_photo(report, users.village_reporter)
    db.session.commit()
    response = api(role).delete(f"/assignments/{report.id}/evidence/{evidence.id}")
    assert_status(response, reporter_status(role))
    assert len(services.evidence_of(report)) == (0 if role == "village_reporter" else 1)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_reviewers_above_approve(api, db, users, running, role):
    report = submitted(db, running.signs_a1, users.village_reporter)
    response = api(role).post(f"/assignments/{report.id}/approve", json={"expected_version": report.version})
    assert_status(response, 200 if role in REVIEWERS else 403)
    assert fresh(db, report.id).status == ("approved" if role in REVIEWERS else "submitted")


@pytest.mark.parametrize("role", ROLES)
def test_only_the_reviewers_above_return(api, db, users, running, role):
    report = submitted(db, running.signs_a1, users.village_reporter)
    response = api(role).post(f"/assignments/{report.id}/return",
                              json={"expected_version": report.version, "reason": "照片不清晰"})
    assert_status(response, 200 if role in REVIEWERS else 403)
    assert fresh(db, report.id).status == ("returned" if role in REVIEWERS else "submitted")


def test_a_township_cannot_review_another_townships_village(api, db, users, running):
    from tests import factories

    reporter_b1 = factories.make_user(role="village_reporter", unit=running.signs_b1.unit, username="b1")
    report = submitted(db, running.signs_b1, reporter_b1)
    client = api("township_officer")
    assert error_of(client.post(f"/assignments/{report.id}/approve", json={"expected_version": report.version}),
                    404)["code"] == "not_found"
    assert error_of(client.post(f"/assignments/{report.id}/return",
                                json={"expected_version": report.version, "reason": "x"}), 404)
    assert fresh(db, report.id).status == "submitted"


def test_a_township_does_not_review_its_own_report(api, db, users, running):
    report = running.plan_a
    assert error_of(api("township_officer").post(f"/assignments/{report.id}/approve",
                                                 json={"expected_version": report.version}), 403)


def test_a_reporter_cannot_reach_another_villages_report_by_changing_the_id(api, db, users, running):
    client = api("village_reporter")
    other = running.signs_a2
    assert error_of(client.get(f"/assignments/{other.id}"), 404)["code"] == "not_found"
    assert error_of(client.post(f"/assignments/{other.id}/instalments",
                                json={"quantity": 1, "reported_on": str(running.campaign.start_date)}), 404)
    assert error_of(client.put(f"/assignments/{other.id}/report", json={"expected_version": 1, "note": "x"}), 404)
    assert error_of(client.post(f"/assignments/{other.id}/evidence",
                                data={"files": (io.BytesIO(jpeg_bytes()), "p.jpg")},
                                content_type="multipart/form-data"), 404)
    assert error_of(client.get("/assignments/999999"), 404)
    assert services.quantity_total(other) == 0 and fresh(db, other.id).note == ""


def test_evidence_of_another_report_cannot_be_removed_through_ones_own(api, db, users, running):
    from tests import factories

    reporter_a2 = factories.make_user(role="village_reporter", unit=running.signs_a2.unit, username="a2")
    foreign = attach_photo(running.signs_a2, reporter_a2)
    db.session.commit()
    response = api("village_reporter").delete(f"/assignments/{running.signs_a1.id}/evidence/{foreign.id}")
    assert error_of(response, 404)["code"] == "not_found"
    assert len(services.evidence_of(running.signs_a2)) == 1


@pytest.mark.parametrize("role", ROLES)
def test_evidence_files_are_served_to_those_who_see_the_unit(api, db, users, running, role):
    evidence = attach_photo(running.signs_a1, users.village_reporter)
    db.session.commit()
    client = api(role)
    original = client.get(f"/evidence/{evidence.id}")
    thumbnail = client.get(f"/evidence/{evidence.id}/thumbnail")
    if role in SEES_VILLAGE_A1:
        assert original.status_code == 200 and original.mimetype == "image/jpeg"
        assert original.data == jpeg_bytes()
        assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    else:
        assert error_of(original, 404)["code"] == "not_found"
        assert error_of(thumbnail, 404)["code"] == "not_found"
