"""Deadlines lock reports to the second; the county reopens one unit with a logged exception;
a closed campaign is locked for everyone."""
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditRecord
from campaign.campaigns.models import Assignment
from campaign.campaigns.services import close_campaign
from campaign.evidence.services import store_bytes
from campaign.reporting import services
from campaign.reporting.services import ReportError
from campaign.timeutil import local_to_utc, local_today
from tests.reporting.conftest import assignment_of, jpeg_bytes, make_running_campaign

SHANGHAI = timezone(timedelta(hours=8))


def page(response):
    return response.get_data(as_text=True)


@pytest.fixture
def due_at_five(db, tree, users):
    """A campaign whose deadline is 17:00 Beijing time on a given day, for the village's sign task."""
    made = make_running_campaign(tree)
    deadline_day = made.campaign.end_date + timedelta(days=5)
    made.campaign.deadline_at = local_to_utc(deadline_day, time(17, 0))
    db.session.commit()
    made.report = assignment_of(made.signs, tree.village_a1)
    made.on_time = datetime.combine(deadline_day, time(16, 59, 59), tzinfo=SHANGHAI)
    made.late = datetime.combine(deadline_day, time(17, 0, 0), tzinfo=SHANGHAI)
    return made


@pytest.fixture
def past_deadline(db, tree, users):
    """A campaign whose deadline passed yesterday."""
    made = make_running_campaign(tree, title="2026年防溺水专项行动")
    made.campaign.start_date = local_today() - timedelta(days=40)
    made.campaign.end_date = local_today() - timedelta(days=5)
    made.campaign.deadline_at = local_to_utc(local_today() - timedelta(days=1), time(17, 0))
    db.session.commit()
    made.report = assignment_of(made.signs, tree.village_a1)
    return made


def test_the_deadline_boundary_is_exact_to_the_second(due_at_five):
    report = due_at_five.report
    assert due_at_five.late - due_at_five.on_time == timedelta(seconds=1)
    assert services.is_locked(report, due_at_five.on_time) is False
    assert services.is_locked(report, due_at_five.late) is True


def test_one_second_before_the_deadline_every_change_is_accepted(db, users, due_at_five):
    report, reporter, now = due_at_five.report, users.village_reporter, due_at_five.on_time
    services.add_instalment(report, reporter, quantity=10, reported_on=due_at_five.campaign.end_date, now=now)
    services.add_evidence(report, reporter, [store_bytes(jpeg_bytes(), "标牌.jpg")], now=now)
    services.save_report(report, reporter, expected_version=report.version, note="按时", now=now)
    services.submit_report(report, reporter, expected_version=report.version, now=now)
    assert report.status == "submitted"


@pytest.mark.parametrize("write", ["save", "instalment", "submit", "evidence_add", "evidence_remove"])
def test_at_the_deadline_second_every_change_by_the_unit_is_refused(db, users, due_at_five, write):
    report, reporter = due_at_five.report, users.village_reporter
    [photo] = services.add_evidence(report, reporter, [store_bytes(jpeg_bytes(), "标牌.jpg")],
                                    now=due_at_five.on_time)
    db.session.commit()
    now = due_at_five.late
    attempts = {
        "save": lambda: services.save_report(report, reporter, expected_version=report.version, note="迟了",
                                             now=now),
        "instalment": lambda: services.add_instalment(report, reporter, quantity=1,
                                                      reported_on=due_at_five.campaign.end_date, now=now),
        "submit": lambda: services.submit_report(report, reporter, expected_version=report.version, now=now),
        "evidence_add": lambda: services.add_evidence(report, reporter, [store_bytes(jpeg_bytes((1, 2, 3)), "x.jpg")],
                                                      now=now),
        "evidence_remove": lambda: services.remove_evidence_from(report, photo, reporter, now=now),
    }
    with pytest.raises(ReportError) as refused:
        attempts[write]()
    assert refused.value.code == "locked"
    assert refused.value.details["deadline"] == due_at_five.campaign.deadline_at


def test_review_stays_open_after_the_deadline(db, users, due_at_five):
    report, reporter = due_at_five.report, users.village_reporter
    services.add_evidence(report, reporter, [store_bytes(jpeg_bytes(), "标牌.jpg")], now=due_at_five.on_time)
    services.submit_report(report, reporter, expected_version=report.version, now=due_at_five.on_time)
    services.return_report(report, users.township_officer, expected_version=report.version, reason="补充照片",
                           now=due_at_five.late)
    assert report.status == "returned"
    with pytest.raises(ReportError) as refused:
        services.save_report(report, reporter, expected_version=report.version, note="补", now=due_at_five.late)
    assert refused.value.code == "locked"


def test_after_the_deadline_the_page_says_locked_and_nothing_is_saved(as_village_reporter, db, past_deadline):
    report = past_deadline.report
    html = page(as_village_reporter.get(f"/reports/{report.id}"))
    assert "本报告已锁定" in html and 'name="note"' not in html
    response = as_village_reporter.post_form(f"/reports/{report.id}", {"note": "迟报", "version": "1", "save": "y"})
    assert "本报告已锁定" in page(response)
    db.session.expire_all()
    assert db.session.get(Assignment, report.id).note == ""


def test_a_lock_exception_reopens_one_unit_and_is_audited(login, db, tree, users, past_deadline):
    report = past_deadline.report
    county = login("county_officer")
    url = f"/reports/campaigns/{past_deadline.campaign.id}/exceptions"
    form = page(county.get(url))
    assert "夏禹桥村委会" in form
    until = (datetime.now(SHANGHAI) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = county.post_form(url, {"unit_id": str(tree.village_a1.id), "until": until,
                                      "reason": "山区停电三天，无法按时上报"})
    assert response.status_code == 302
    listing = page(county.get(url))
    assert "山区停电三天，无法按时上报" in listing and until.replace("T", " ") in listing

    entry = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "lock_exception.grant"))
    assert entry.username == "county_officer"
    assert entry.after["unit_id"] == tree.village_a1.id and entry.after["reason"] == "山区停电三天，无法按时上报"

    db.session.expire_all()
    assert services.is_locked(db.session.get(Assignment, report.id)) is False
    neighbour = assignment_of(past_deadline.signs, tree.village_a2)
    assert services.is_locked(neighbour) is True

    reporter = login("village_reporter")
    assert "已为本单位开放补报" in page(reporter.get(f"/reports/{report.id}"))
    assert reporter.post_form(f"/reports/{report.id}", {"note": "补报", "version": "1", "save": "y"}) \
        .status_code == 302


def test_a_lock_exception_ends_at_its_own_time(db, tree, users, past_deadline):
    now = datetime.now(timezone.utc)
    services.grant_lock_exception(past_deadline.campaign, tree.village_a1, users.county_officer,
                                  until=now + timedelta(hours=1), reason="补报", now=now)
    report = past_deadline.report
    assert services.is_locked(report, now + timedelta(minutes=59)) is False
    assert services.is_locked(report, now + timedelta(hours=1)) is True


@pytest.mark.parametrize("until, reason, message", [
    ("", "停电", "请填写日期和时间。"),
    ("2001-01-01T08:00", "停电", "开放截止时间须晚于当前时间。"),
    ("2099-01-01T08:00", "", "请填写理由。"),
])
def test_a_bad_exception_is_refused_and_keeps_what_was_typed(as_county_officer, db, tree, past_deadline, until,
                                                            reason, message):
    url = f"/reports/campaigns/{past_deadline.campaign.id}/exceptions"
    response = as_county_officer.post_form(url, {"unit_id": str(tree.village_a1.id), "until": until,
                                                 "reason": reason})
    html = page(response)
    assert response.status_code == 200 and message in html
    if reason:
        assert reason in html
    assert services.lock_exceptions_of(past_deadline.campaign) == []


def test_an_exception_is_only_for_units_of_the_campaign_within_the_office(db, tree, users, past_deadline):
    from tests.factories import make_unit

    elsewhere = make_unit("county", None, "桐庐县", "330122000000")
    with pytest.raises(ReportError) as refused:
        services.grant_lock_exception(past_deadline.campaign, elsewhere, users.county_officer,
                                      until=datetime.now(timezone.utc) + timedelta(days=1), reason="x")
    assert refused.value.code == "unit_out_of_scope"
    with pytest.raises(ReportError) as refused:
        services.grant_lock_exception(past_deadline.campaign, tree.village_a1, users.township_officer,
                                      until=datetime.now(timezone.utc) + timedelta(days=1), reason="x")
    assert refused.value.code == "not_allowed"


def test_a_closed_campaign_is_locked_for_everyone(db, users, running):
    from tests.reporting.test_permissions import submitted

    report = submitted(db, running.signs_a1, users.village_reporter)
    close_campaign(running.campaign)
    db.session.commit()
    assert services.is_locked(report) is True
    with pytest.raises(ReportError) as refused:
        services.approve(report, users.township_officer, expected_version=report.version)
    assert refused.value.code == "campaign_closed"
    with pytest.raises(ReportError) as refused:
        services.save_report(running.leaflets_a1, users.village_reporter, expected_version=1, note="x")
    assert refused.value.code == "campaign_closed"
    with pytest.raises(ReportError):
        services.grant_lock_exception(running.campaign, running.signs_a1.unit, users.county_officer,
                                      until=datetime.now(timezone.utc) + timedelta(days=1), reason="x")
