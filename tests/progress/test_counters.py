"""Progress counters: after any sequence of report changes, the dashboard read from the counters shows exactly
the figures of ``campaign_progress`` (the reference), on SQLite and PostgreSQL, and a rebuild changes nothing."""
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from campaign.campaigns.models import Assignment
from campaign.campaigns.services import launch_campaign
from campaign.database import utcnow
from campaign.extensions import db as _db
from campaign.progress.counters import counted_progress, counter_rows, rebuild_all
from campaign.progress.models import ProgressCounter
from campaign.progress.services import campaign_progress
from campaign.reporting import services as reporting
from campaign.units.services import update_unit
from tests import factories
from tests.conftest import empty_all_tables

UNITS = ["village_a1", "village_a2", "community_a", "village_b1", "kindergarten_b"]
REPORTER_KINDS = {"village_a1": "village_reporter", "village_a2": "village_reporter",
                  "community_a": "village_reporter", "village_b1": "village_reporter",
                  "kindergarten_b": "school_reporter"}

steps = st.lists(
    st.one_of(
        st.tuples(st.just("instalment"), st.integers(0, 20), st.integers(0, 12)),
        st.tuples(st.just("save"), st.integers(0, 20), st.booleans()),
        st.tuples(st.just("submit"), st.integers(0, 20)),
        st.tuples(st.just("approve"), st.integers(0, 20)),
        st.tuples(st.just("return"), st.integers(0, 20)),
        st.tuples(st.just("deadline"), st.sampled_from([-2, 0, 2])),  # days from now, or a first submission
        st.tuples(st.just("target"), st.sampled_from([None, 1, 5, 12])),
        st.tuples(st.just("delete_instalment"), st.integers(0, 20)),
    ),
    max_size=25,
)


def campaign_with_reports(tree):
    campaign = factories.make_campaign(tree.county)
    signs = factories.make_task(campaign, "设置永久性宣传标牌", kinds=("village", "community"), target=10)
    plan = factories.make_task(campaign, "制定实施方案", kinds=("village", "kindergarten"), measure="done")
    lessons = factories.make_task(campaign, "开展安全教育课", kinds=("kindergarten",), target=2)
    reporters = {name: factories.make_user(REPORTER_KINDS[name], getattr(tree, name), username=f"r_{name}")
                 for name in UNITS}
    reviewer = factories.make_user("county_officer", tree.county, username="reviewer")
    _db.session.flush()
    launch_campaign(campaign, reviewer)  # assignments inserted in bulk: the counters are rebuilt
    return campaign, [signs, plan, lessons], reporters, reviewer


def assignments_of(campaign):
    return list(_db.session.scalars(select(Assignment).where(Assignment.campaign_id == campaign.id)
                                    .order_by(Assignment.id)))


def run(step, campaign, tasks, reporters, reviewer):
    kind, *args = step
    reports = assignments_of(campaign)
    report = reports[args[0] % len(reports)] if reports and kind not in ("deadline", "target") else None
    reporter = next((user for user in reporters.values() if report and user.unit_id == report.unit_id), None)
    if report is not None and reporting.is_locked(report) and kind in ("instalment", "save", "submit"):
        reporting.grant_lock_exception(campaign, report.unit, reviewer, until=utcnow() + timedelta(days=1),
                                       reason="补报")
    if kind == "instalment":
        reporting.add_instalment(report, reporter, quantity=args[1], reported_on=campaign.start_date)
    elif kind == "save":
        reporting.save_report(report, reporter, expected_version=report.version, note="已完成", done=args[1])
    elif kind == "submit":
        reporting.submit_report(report, reporter, expected_version=report.version)
    elif kind == "approve":
        reporting.approve(report, reviewer, expected_version=report.version)
    elif kind == "return":
        reporting.return_report(report, reviewer, expected_version=report.version, reason="照片不清楚")
    elif kind == "deadline":
        firsts = sorted(r.first_submitted_at for r in reports if r.first_submitted_at)
        campaign.deadline_at = firsts[0] if args[0] == 0 and firsts else utcnow() + timedelta(days=args[0])
    elif kind == "target":
        tasks[0].target = args[0]
    elif kind == "delete_instalment" and report.instalments:
        _db.session.delete(report.instalments[0])
    _db.session.flush()


def assert_counters_match_the_reference(tree, campaign):
    for scope in (tree.county, tree.township_a, tree.township_b, tree.village_a1):
        reference = campaign_progress(campaign, scope)
        counted = counted_progress(campaign, scope)
        assert [(row.unit_id, row.cells) for row in counted.rows] == \
            [(row.unit_id, row.cells) for row in reference.rows], scope.name
        assert counted.totals == reference.totals, scope.name
    stored = [{column: getattr(counter, column) for column in ("campaign_id", "task_id", "unit_id", "expected",
               "submitted", "approved", "returned", "on_time", "late", "missing", "reported", "reached")}
              for counter in _db.session.scalars(select(ProgressCounter).order_by(
                  ProgressCounter.campaign_id, ProgressCounter.task_id, ProgressCounter.unit_id))]
    assert [row for row in stored if row["expected"]] == counter_rows(_db.session.connection())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_counters_equal_the_reference_after_any_sequence_of_report_changes(db, sequence):
    try:
        tree = factories.make_tree()
        campaign, tasks, reporters, reviewer = campaign_with_reports(tree)
        _db.session.commit()
        for step in sequence:
            try:
                run(step, campaign, tasks, reporters, reviewer)
                _db.session.commit()
            except (reporting.ReportError, reporting.ReportConflict):
                _db.session.rollback()
        assert_counters_match_the_reference(tree, campaign)
    finally:
        _db.session.rollback()
        _db.session.remove()
        empty_all_tables(_db.engine)


def test_the_rebuild_command_restores_counters_lost_by_hand(app, db, tree):
    campaign, tasks, reporters, reviewer = campaign_with_reports(tree)
    report = assignments_of(campaign)[0]
    reporting.add_instalment(report, reporters["village_a1"], quantity=7, reported_on=campaign.start_date)
    _db.session.commit()
    _db.session.execute(ProgressCounter.__table__.delete())
    _db.session.commit()

    result = app.test_cli_runner().invoke(args=["progress", "rebuild-counters"])

    assert result.exit_code == 0, result.output
    assert_counters_match_the_reference(tree, campaign)
    assert counted_progress(campaign, tree.county).totals[tasks[0].id].expected == 4


def test_a_launch_fills_the_counters_of_every_unit_above_the_assigned_ones(db, tree):
    campaign, tasks, _, _ = campaign_with_reports(tree)
    _db.session.commit()

    county = counted_progress(campaign, tree.county)

    assert county.totals[tasks[0].id].expected == 4  # three villages and one community
    assert county.totals[tasks[0].id].missing == 4
    assert {row.name for row in county.rows} == {"玲珑街道", "太湖源镇"}
    assert rebuild_all() == len(counter_rows(_db.session.connection()))


def test_moving_a_village_to_another_township_moves_its_figures(db, tree, users):
    campaign, tasks, _, _ = campaign_with_reports(tree)
    _db.session.commit()
    admin = _db.session.merge(users.admin)

    update_unit(tree.village_a1, actor=admin, parent=tree.township_b, name=tree.village_a1.name, kind="village",
                code=tree.village_a1.code)
    _db.session.commit()

    assert_counters_match_the_reference(tree, campaign)
    township_b = counted_progress(campaign, tree.township_b)
    assert tree.village_a1.id in {row.unit_id for row in township_b.rows}
