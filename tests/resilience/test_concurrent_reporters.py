"""Deadline afternoon in miniature: many reporters at the same instant lose nothing, and a
conflict is reported to the people who lost it, never swallowed. Each reporter has its own client
(its own session and database connection) and all are released together by a barrier."""
import hashlib
import io

from sqlalchemy import func, select

from campaign.audit.models import AuditRecord
from campaign.campaigns.models import Assignment, Instalment
from campaign.evidence.models import Evidence, StoredFile
from campaign.evidence.services import stored_path
from campaign.reporting.services import quantity_total
from tests.conftest import log_in

from .conftest import CROWD, all_at_once, jpeg_bytes


def logged_in(app, users):
    """A client per user, logged in, with the CSRF token of its session."""
    clients = []
    for user in users:
        client = log_in(app.test_client(), user.username)
        clients.append((client, client.csrf_token()))
    return clients


def audit_count(db, action, assignment_id=None):
    query = select(func.count()).select_from(AuditRecord).where(AuditRecord.action == action)
    if assignment_id is not None:
        query = query.where(AuditRecord.entity_id == str(assignment_id))
    return db.session.scalar(query)


def fresh(db, assignment_id):
    db.session.expire_all()
    return db.session.get(Assignment, assignment_id)


def test_twenty_instalments_added_to_one_report_at_once_all_count(app, db, crowd):
    report_id = crowd.signs_a1
    day = str(crowd.running.campaign.start_date)
    clients = logged_in(app, crowd.clerks)
    quantities = list(range(1, CROWD + 1))
    db.session.commit()

    def add(client, token, quantity):
        return lambda: client.post(f"/reports/{report_id}/instalments",
                                   data={"csrf_token": token, "quantity": str(quantity), "reported_on": day}).status_code

    statuses = all_at_once([add(client, token, quantity) for (client, token), quantity in zip(clients, quantities)])

    assert statuses == [302] * CROWD
    stored = sorted(db.session.scalars(select(Instalment.quantity).where(Instalment.assignment_id == report_id)))
    assert stored == quantities
    assert quantity_total(fresh(db, report_id)) == sum(quantities)
    reporters = set(db.session.scalars(select(Instalment.reported_by_id).where(Instalment.assignment_id == report_id)))
    assert reporters == {clerk.id for clerk in crowd.clerks}
    assert audit_count(db, "report.instalment", report_id) == CROWD
    assert fresh(db, report_id).status == "draft"


def test_twenty_saves_of_the_same_report_at_the_same_version_one_wins_the_rest_are_told(app, db, crowd):
    report_id = crowd.leaflets_a1
    clients = logged_in(app, crowd.clerks)
    notes = [f"第{index:02d}位文书：已发放禁火令{100 + index}份" for index in range(CROWD)]
    db.session.commit()

    def save(client, token, note):
        def post():
            response = client.post(f"/reports/{report_id}", data={
                "csrf_token": token, "version": "1", "note": note, "done": "y", "save": "y"})
            return response.status_code, response.get_data(as_text=True)
        return post

    results = all_at_once([save(client, token, note) for (client, token), note in zip(clients, notes)])

    statuses = [status for status, _ in results]
    assert sorted(statuses) == [302] + [409] * (CROWD - 1)
    winner = notes[statuses.index(302)]
    saved = fresh(db, report_id)
    assert (saved.note, saved.version, saved.status) == (winner, 2, "draft")
    for (status, html), note in zip(results, notes):
        if status == 409:
            assert "保存了本报告" in html  # the conflict, named, in Chinese
            assert winner in html  # what the winner saved is shown
            assert f"{note}</textarea>" in html  # what this clerk typed is kept in the form
            assert 'name="version" type="hidden" value="2"' in html  # ready to re-apply on the new version
    assert audit_count(db, "report.save", report_id) == 1


def test_twenty_units_submitting_at_once_are_all_submitted(app, db, crowd):
    clients = logged_in(app, crowd.reporters)
    db.session.commit()

    def submit(client, token, report_id, index):
        return lambda: client.post(f"/reports/{report_id}", data={
            "csrf_token": token, "version": "1", "note": f"已逐户发放，共{index + 1}户", "done": "y",
            "submit": "y"}).status_code

    statuses = all_at_once([submit(client, token, report_id, index)
                            for index, ((client, token), report_id) in enumerate(zip(clients, crowd.leaflets))])

    assert statuses == [302] * CROWD
    db.session.expire_all()
    reports = db.session.scalars(select(Assignment).where(Assignment.id.in_(crowd.leaflets))
                                 .order_by(Assignment.id)).all()
    assert [report.status for report in reports] == ["submitted"] * CROWD
    assert all(report.submitted_at is not None and report.done for report in reports)
    assert sorted(report.note for report in reports) == sorted(f"已逐户发放，共{index + 1}户" for index in range(CROWD))
    for report_id in crowd.leaflets:
        assert audit_count(db, "report.submit", report_id) == 1


def test_twenty_units_uploading_photos_at_once_each_photo_is_stored_exactly_once(app, db, crowd):
    """Ten distinct photos and the same photo ten times (a circulated picture): one stored file per
    content, one evidence row per upload, every file on disk with its content."""
    clients = logged_in(app, crowd.reporters)
    shared = jpeg_bytes((10, 120, 10), (80, 60))
    photos = [jpeg_bytes((index * 12, 40, 200 - index * 9), (64 + index, 48)) for index in range(CROWD // 2)]
    photos += [shared] * (CROWD - len(photos))
    db.session.commit()

    def upload(client, token, report_id, photo, index):
        def post():
            return client.post(f"/reports/{report_id}/evidence", content_type="multipart/form-data", data={
                "csrf_token": token, "photos": (io.BytesIO(photo), f"IMG_{index:04d}.jpg")}).status_code
        return post

    statuses = all_at_once([upload(client, token, report_id, photo, index) for index, ((client, token), report_id, photo)
                            in enumerate(zip(clients, crowd.signs, photos))])

    assert statuses == [302] * CROWD
    db.session.expire_all()
    files = db.session.scalars(select(StoredFile)).all()
    assert len(files) == len(set(photos)) == CROWD // 2 + 1
    for stored in files:
        assert stored_path(stored).exists()
    evidence = db.session.scalars(select(Evidence).order_by(Evidence.assignment_id)).all()
    assert sorted(item.assignment_id for item in evidence) == sorted(crowd.signs)
    by_report = {item.assignment_id: item.stored_file.sha256 for item in evidence}
    for report_id, photo in zip(crowd.signs, photos):
        assert by_report[report_id] == hashlib.sha256(photo).hexdigest()
