"""Builders for the dashboard and workbook tests: a campaign whose reports are set by hand."""
from datetime import timedelta
from types import SimpleNamespace

from campaign.campaigns.models import Assignment, Instalment
from campaign.extensions import db
from campaign.timeutil import local_today
from tests.factories import make_campaign, make_task, make_unit

SECOND = timedelta(seconds=1)


def make_report(campaign, task, unit, status="not_started", first_submitted_at=None, quantities=(), done=False):
    assignment = Assignment(
        campaign=campaign, task=task, unit=unit, status=status, done=done,
        first_submitted_at=first_submitted_at,
        submitted_at=first_submitted_at if status in ("submitted", "approved") else None,
    )
    db.session.add(assignment)
    db.session.flush()
    for quantity in quantities:
        db.session.add(Instalment(assignment=assignment, quantity=quantity, reported_on=local_today()))
    db.session.flush()
    return assignment


def hand_built(tree):
    """The county's forest-fire month with every kind of report:

    signs (quantity, target 10 per village/community):
      village_a1  approved,  first submitted exactly at the deadline, 6 + 5 = 11  → on time, reached
      village_a2  submitted, first submitted 1 s after the deadline (lock exception), 4 → late
      community_a returned,  first submitted a day early, 20 → on time, returned, not counted
      village_b1  not started → missing
    plan (yes/no, villages):
      village_a1  submitted done, an hour early → on time, reached
      village_a2  draft marked done, never submitted → missing
      village_b1  approved, not done → on time, not reached
    lessons (quantity, target 2, kindergartens only): kindergarten_b submitted 3 → township_a has none
    broadcast (agency of category "nothing"): no assignment at all → zero expected
    """
    campaign = make_campaign(tree.county, status="active")
    deadline = campaign.deadline_at
    signs = make_task(campaign, "设置永久性宣传标牌", kinds=("village", "community"), target=10)
    plan = make_task(campaign, "制定实施方案", kinds=("village",), measure="done")
    lessons = make_task(campaign, "开展安全教育课", kinds=("kindergarten",), target=2, measure_unit="lesson")
    broadcast = make_task(campaign, "发送公益短信", kinds=("agency",), unit_category="nothing", target=1)
    reports = SimpleNamespace(
        a1_signs=make_report(campaign, signs, tree.village_a1, "approved", deadline, (6, 5)),
        a2_signs=make_report(campaign, signs, tree.village_a2, "submitted", deadline + SECOND, (4,)),
        community_signs=make_report(campaign, signs, tree.community_a, "returned", deadline - timedelta(days=1), (20,)),
        b1_signs=make_report(campaign, signs, tree.village_b1),
        a1_plan=make_report(campaign, plan, tree.village_a1, "submitted", deadline - timedelta(hours=1), done=True),
        a2_plan=make_report(campaign, plan, tree.village_a2, "draft", done=True),
        b1_plan=make_report(campaign, plan, tree.village_b1, "approved", deadline - timedelta(days=2)),
        kg_lessons=make_report(campaign, lessons, tree.kindergarten_b, "submitted", deadline - timedelta(days=3), (3,)),
    )
    db.session.commit()
    return SimpleNamespace(campaign=campaign, signs=signs, plan=plan, lessons=lessons, broadcast=broadcast,
                           reports=reports)


def scaled_campaign(county, villages, tasks=3):
    """``villages`` new villages under two new townships of ``county``, every task reported in part."""
    townships = [make_unit("township", county, f"{villages}镇{index}") for index in range(2)]
    campaign = make_campaign(county, title=f"规模测试{villages}", status="active")
    made_tasks = [make_task(campaign, f"任务{index}", kinds=("village",), target=5) for index in range(tasks)]
    deadline = campaign.deadline_at
    for index in range(villages):
        village = make_unit("village", townships[index % 2], f"村{villages}-{index}", contact_name="张三",
                            phone="13800000000")
        for position, task in enumerate(made_tasks):
            choice = (index + position) % 4
            if choice == 0:
                make_report(campaign, task, village)
            elif choice == 1:
                make_report(campaign, task, village, "submitted", deadline - SECOND, (index % 7,))
            elif choice == 2:
                make_report(campaign, task, village, "approved", deadline + SECOND, (5, 1))
            else:
                make_report(campaign, task, village, "returned", deadline, (2,))
    db.session.commit()
    return campaign


