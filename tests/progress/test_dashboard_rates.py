"""The rates of campaign_progress on hand-built reports."""
from datetime import timedelta

import pytest

from campaign.progress.services import (
    Figures,
    campaign_progress,
    late_or_missing_assignments,
    progress_scope,
    unit_reports,
    within,
)
from campaign.reporting.models import LockException
from tests.progress.dashboard_helpers import hand_built


@pytest.fixture
def built(db, tree):
    return hand_built(tree)


def row_named(progress, name):
    return next(row for row in progress.rows if row.name == name)


def test_the_county_sees_one_row_per_township_with_the_counts_of_each_state(built, tree):
    progress = campaign_progress(built.campaign, tree.county)

    assert [row.name for row in progress.rows] == ["玲珑街道", "太湖源镇"]
    township_a = row_named(progress, "玲珑街道").cell(built.signs.id)
    assert (township_a.expected, township_a.submitted, township_a.approved, township_a.returned) == (3, 2, 1, 1)
    assert (township_a.on_time, township_a.late, township_a.missing) == (2, 1, 0)
    township_b = row_named(progress, "太湖源镇").cell(built.signs.id)
    assert (township_b.expected, township_b.submitted, township_b.missing, township_b.reported) == (1, 0, 1, 0)


def test_a_report_first_submitted_at_the_deadline_second_is_on_time_and_one_second_later_late(built, tree):
    village_a1 = campaign_progress(built.campaign, tree.village_a1).rows[0].cell(built.signs.id)
    village_a2 = campaign_progress(built.campaign, tree.village_a2).rows[0].cell(built.signs.id)

    assert (village_a1.on_time, village_a1.late) == (1, 0)
    assert (village_a2.on_time, village_a2.late) == (0, 1)


def test_a_lock_exception_lets_a_unit_submit_late_but_the_report_stays_late(db, built, tree):
    db.session.add(LockException(campaign=built.campaign, unit=tree.village_a2, reason="暴雨",
                                 until_at=built.campaign.deadline_at + timedelta(days=3)))
    db.session.commit()

    figures = campaign_progress(built.campaign, tree.village_a2).rows[0].cell(built.signs.id)

    assert (figures.submitted, figures.on_time, figures.late) == (1, 0, 1)


def test_a_resubmission_after_a_return_keeps_the_first_submission_time(db, built, tree):
    built.reports.community_signs.status = "submitted"
    built.reports.community_signs.submitted_at = built.campaign.deadline_at + timedelta(days=2)
    db.session.commit()

    figures = campaign_progress(built.campaign, tree.community_a).rows[0].cell(built.signs.id)

    assert (figures.on_time, figures.late, figures.reported) == (1, 0, 20)


def test_the_reported_quantity_sums_the_instalments_of_submitted_and_approved_reports_only(built, tree):
    totals = campaign_progress(built.campaign, tree.county).total(built.signs.id)

    assert totals.reported == 11 + 4  # the returned report's 20 is being corrected
    assert totals.target_total == 10 * 4
    assert totals.pct_reached == pytest.approx(15 / 40)


def test_a_unit_reached_the_target_when_its_own_sum_is_at_least_the_target(built, tree):
    township_a = row_named(campaign_progress(built.campaign, tree.county), "玲珑街道").cell(built.signs.id)

    assert township_a.reached == 1  # village_a1 with 11 ≥ 10; village_a2's 4 is short
    assert township_a.reached_share == pytest.approx(1 / 3)


def test_a_yes_no_task_counts_submitted_reports_marked_done(built, tree):
    plan = campaign_progress(built.campaign, tree.county).total(built.plan.id)

    assert (plan.expected, plan.submitted, plan.missing) == (3, 2, 1)
    assert (plan.reported, plan.target_total, plan.reached) == (1, 3, 1)  # the draft marked done does not count
    assert plan.pct_reached == pytest.approx(1 / 3)


def test_the_totals_are_the_sum_of_the_rows(built, tree):
    progress = campaign_progress(built.campaign, tree.county)

    for task in progress.tasks:
        summed = Figures()
        for row in progress.task_rows(task.id):
            summed.add(row.cell(task.id))
        assert summed == progress.total(task.id)


def test_rates_with_zero_expected_are_none_not_a_division_error(built, tree):
    progress = campaign_progress(built.campaign, tree.county)

    township_a = row_named(progress, "玲珑街道")
    assert built.lessons.id not in township_a.cells
    empty = township_a.cell(built.lessons.id)
    assert empty.expected == 0
    assert None is empty.submitted_rate is empty.on_time_rate is empty.pct_reached is empty.reached_share
    nobody = progress.total(built.broadcast.id)
    assert nobody.expected == 0 and nobody.on_time_rate is None


def test_rates_are_fractions_of_the_expected(built, tree):
    signs = campaign_progress(built.campaign, tree.county).total(built.signs.id)

    assert signs.submitted_rate == pytest.approx(2 / 4)
    assert signs.on_time_rate == pytest.approx(2 / 4)
    assert signs.late_rate == pytest.approx(1 / 4)
    assert signs.missing_rate == pytest.approx(1 / 4)


def test_a_township_scope_has_one_row_per_unit_below_it(built, tree):
    progress = campaign_progress(built.campaign, tree.township_a)

    assert {row.name for row in progress.rows} == {"夏禹桥村委会", "前山村委会", "玲珑山社区"}
    assert progress.total(built.signs.id).expected == 3
    assert progress.total(built.lessons.id).expected == 0


def test_days_left_count_local_dates_to_the_deadline(built, tree):
    deadline = built.campaign.deadline_at  # 17:00 in Shanghai
    assert campaign_progress(built.campaign, tree.county, now=deadline).days_left == 0
    assert campaign_progress(built.campaign, tree.county, now=deadline - timedelta(hours=20)).days_left == 1
    assert campaign_progress(built.campaign, tree.county, now=deadline + timedelta(days=2)).days_left == -2


def test_the_detail_has_one_row_per_unit_with_its_township_and_contact(built, tree):
    units = campaign_progress(built.campaign, tree.county, detail=True).units

    by_name = {row.name: row for row in units}
    assert set(by_name) == {"夏禹桥村委会", "前山村委会", "玲珑山社区", "白沙村委会", "太湖源幼儿园"}
    assert by_name["白沙村委会"].township_name == "太湖源镇"
    assert by_name["夏禹桥村委会"].cell(built.signs.id).reported == 11


def test_late_or_missing_lists_reports_not_in_with_contact_and_township(db, built, tree):
    tree.village_b1.contact_name = "李四"
    tree.village_b1.phone = "13900000000"
    db.session.commit()

    rows = late_or_missing_assignments(built.campaign, tree.county)

    assert {(row.unit_name, row.task_title, row.status) for row in rows} == {
        ("玲珑山社区", "设置永久性宣传标牌", "returned"),
        ("白沙村委会", "设置永久性宣传标牌", "not_started"),
        ("前山村委会", "制定实施方案", "draft"),
    }
    b1 = next(row for row in rows if row.unit_name == "白沙村委会")
    assert (b1.township_name, b1.contact_name, b1.phone) == ("太湖源镇", "李四", "13900000000")
    assert b1.assignment_id == built.reports.b1_signs.id


def test_late_or_missing_is_scoped_and_filtered_by_task(built, tree):
    in_a = late_or_missing_assignments(built.campaign, tree.township_a, task_id=built.signs.id)

    assert [(row.unit_name, row.township_name) for row in in_a] == [("玲珑山社区", "玲珑街道")]


def test_unit_reports_give_each_task_of_a_village_with_its_figure(built, tree):
    reports = unit_reports(built.campaign, tree.village_a2)

    assert [(r.task.title, r.status, r.quantity, r.on_time) for r in reports] == [
        ("设置永久性宣传标牌", "submitted", 4, False),
        ("制定实施方案", "draft", 0, None),
    ]


def test_the_scope_is_the_users_unit_or_the_campaign_root(built, users, tree):
    assert progress_scope(users.township_officer, built.campaign) == tree.township_a
    assert progress_scope(users.county_officer, built.campaign) == tree.county


def test_the_scope_range_on_the_path_selects_the_same_units_as_the_prefix_match(db, tree):
    from sqlalchemy import select

    from campaign.extensions import db as database
    from campaign.units.models import Unit
    from tests.factories import make_unit

    for index in range(12):  # ids past 10 put "/1/2/" next to "/1/20/" and "/1/21/"
        make_unit("township", tree.county, f"镇{index}")
    database.session.commit()
    for scope in database.session.scalars(select(Unit)).all():
        by_range = set(database.session.scalars(select(Unit.id).where(within(scope))))
        by_prefix = set(database.session.scalars(select(Unit.id).where(Unit.path.like(f"{scope.path}%"))))
        assert by_range == by_prefix
