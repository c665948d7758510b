"""Nothing anyone reported is lost or silently overwritten: version conflicts, races between load
and write, instalments at the same moment, and a crash in the middle of a save."""
import threading

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from campaign.audit.models import AuditRecord
from campaign.campaigns.models import Assignment, Instalment
from campaign.reporting import services
from campaign.reporting.services import ReportConflict
from tests.conftest import log_in
from tests.factories import make_user


def page(response):
    return response.get_data(as_text=True)


def fresh(db, assignment_id):
    db.session.expire_all()
    return db.session.get(Assignment, assignment_id)


@pytest.fixture
def second_reporter(db, tree):
    """Another reporter of the same village (the secretary and the clerk both report)."""
    user = make_user(role="village_reporter", unit=tree.village_a1, username="village_clerk", display_name="李文书")
    db.session.commit()
    return user


def test_the_second_of_two_saves_on_the_same_version_is_refused_and_shows_the_first(
    app, db, users, running, second_reporter
):
    report = running.leaflets_a1
    secretary = log_in(app.test_client(), "village_reporter")
    clerk = log_in(app.test_client(), "village_clerk")
    for client in (secretary, clerk):
        assert 'name="version" type="hidden" value="1"' in page(client.get(f"/reports/{report.id}"))

    assert clerk.post_form(f"/reports/{report.id}",
                           {"note": "已向 420 户发放禁火令", "done": "y", "version": "1", "save": "y"}).status_code == 302
    response = secretary.post_form(f"/reports/{report.id}", {"note": "发放了 300 户", "version": "1", "save": "y"})

    html = page(response)
    assert response.status_code == 409
    assert "李文书 已于" in html and "保存了本报告" in html
    assert "已向 420 户发放禁火令" in html  # what the other saved
    assert "发放了 300 户</textarea>" in html  # what this user typed, kept
    assert 'name="version" type="hidden" value="2"' in html  # re-applying saves on the current version
    saved = fresh(db, report.id)
    assert saved.note == "已向 420 户发放禁火令" and saved.done is True and saved.version == 2

    assert secretary.post_form(f"/reports/{report.id}",
                               {"note": "已向 420 户发放禁火令；另补发 30 份", "done": "y", "version": "2",
                                "save": "y"}).status_code == 302
    assert fresh(db, report.id).note == "已向 420 户发放禁火令；另补发 30 份"
    saves = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "report.save")
                               .order_by(AuditRecord.id)).all()
    assert [entry.after["note"] for entry in saves] == ["已向 420 户发放禁火令", "已向 420 户发放禁火令；另补发 30 份"]


def test_a_reviewer_acting_on_an_old_version_gets_the_conflict_too(login, db, users, running):
    from tests.reporting.test_permissions import submitted

    report = submitted(db, running.signs_a1, users.village_reporter)
    stale = report.version
    county = login("county_officer")
    assert login("township_officer").post_form(f"/reports/{report.id}/return",
                                               {"version": str(stale), "reason": "照片不清"}).status_code == 302
    response = county.post_form(f"/reports/{report.id}/approve", {"version": str(stale)})
    assert response.status_code == 409
    assert fresh(db, report.id).status == "returned"


def test_a_write_racing_past_the_version_check_is_still_refused(db, users, running, monkeypatch):
    """Between the check and the UPDATE another worker commits: the ORM's version check catches it."""
    report = running.leaflets_a1
    report.version  # loaded at version 1
    db.session.execute(update(Assignment).where(Assignment.id == report.id)
                       .values(version=Assignment.version + 1, note="另一人保存的内容"))
    set_committed_value(report, "version", 1)  # this worker still holds version 1
    set_committed_value(report, "note", "")
    monkeypatch.setattr(services, "_lock_row", lambda assignment: None)

    with pytest.raises(ReportConflict) as conflict:
        services.save_report(report, users.village_reporter, expected_version=1, note="我的内容")
    assert conflict.value.details["version"] == 1  # the rollback undid the simulated write as well
    db.session.expire_all()
    assert db.session.get(Assignment, report.id).note != "我的内容"


def test_instalments_sent_at_the_same_moment_both_count(app, db, users, running):
    report_id = running.signs_a1.id
    day = str(running.campaign.start_date)
    clients = [log_in(app.test_client(), "village_reporter") for _ in range(2)]
    tokens = [client.csrf_token() for client in clients]
    db.session.commit()  # the test holds no transaction while the requests write
    start = threading.Barrier(2)
    statuses = []

    def report(client, token, quantity):
        start.wait()
        response = client.post(f"/reports/{report_id}/instalments",
                               data={"csrf_token": token, "quantity": str(quantity), "reported_on": day})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=report, args=(client, token, quantity))
               for client, token, quantity in zip(clients, tokens, (4, 6))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302, 302]
    quantities = sorted(db.session.scalars(select(Instalment.quantity).where(Instalment.assignment_id == report_id)))
    assert quantities == [4, 6]
    assert services.quantity_total(fresh(db, report_id)) == 10
    assert fresh(db, report_id).status == "draft"
    audited = db.session.scalar(select(func.count()).select_from(AuditRecord)
                                .where(AuditRecord.action == "report.instalment"))
    assert audited == 2


def test_a_crash_in_the_middle_of_a_save_leaves_nothing_behind(as_village_reporter, db, running, monkeypatch):
    report = running.leaflets_a1

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "record", crash)
    with pytest.raises(RuntimeError):
        as_village_reporter.post_form(f"/reports/{report.id}", {"note": "写了一半", "done": "y", "version": "1",
                                                               "save": "y"})
    saved = fresh(db, report.id)
    assert (saved.note, saved.done, saved.status, saved.version) == ("", False, "not_started", 1)
    assert db.session.scalar(select(func.count()).select_from(AuditRecord)
                             .where(AuditRecord.entity_type == "assignment")) == 0


def test_a_crash_after_the_instalment_row_is_written_leaves_no_instalment(as_village_reporter, db, running,
                                                                          monkeypatch):
    report = running.signs_a1

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(services, "record", crash)
    with pytest.raises(RuntimeError):
        as_village_reporter.post_form(f"/reports/{report.id}/instalments",
                                      {"quantity": "5", "reported_on": str(running.campaign.start_date)})
    assert db.session.scalar(select(func.count()).select_from(Instalment)) == 0
    assert fresh(db, report.id).status == "not_started"
