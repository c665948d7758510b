"""Campaign rules: the window and deadline, launching into assignments, what a launch freezes."""
from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import String, cast, func, insert, literal, select, update

from campaign.audit.models import AuditRecord
from campaign.campaigns import services
from campaign.campaigns.models import Assignment, Campaign, Task
from campaign.campaigns.services import CampaignError
from campaign.timeutil import to_local
from campaign.units.models import Unit
from tests.campaigns.conftest import WINDOW, draft_from_playbook
from tests.factories import make_campaign, make_task, make_unit


def create(actor, root, **overrides):
    fields = {"title": "2026年森林防火宣传月", "theme": "", "description": "", **WINDOW, **overrides}
    return services.create_campaign(actor=actor, root_unit=root, **fields)


def assignments_of(db, campaign, task_title=None):
    query = select(Unit.name).join(Assignment, Assignment.unit_id == Unit.id).join(Task, Assignment.task_id == Task.id)
    query = query.where(Assignment.campaign_id == campaign.id)
    if task_title:
        query = query.where(Task.title == task_title)
    return sorted(db.session.scalars(query))


# --- window and deadline ----------------------------------------------------------------------

def test_a_start_after_the_end_is_refused(db, tree, users):
    with pytest.raises(CampaignError) as refused:
        create(users.county_officer, tree.county, start_date=date(2026, 11, 1))
    assert refused.value.code == "start_after_end"


def test_a_one_day_campaign_is_fine(db, tree, users):
    campaign = create(users.county_officer, tree.county, start_date=date(2026, 10, 31))
    assert campaign.start_date == campaign.end_date


def test_a_deadline_before_the_end_date_is_refused(db, tree, users):
    with pytest.raises(CampaignError) as refused:
        create(users.county_officer, tree.county, deadline_date=date(2026, 10, 30), deadline_time=time(23, 59))
    assert refused.value.code == "deadline_before_end"


def test_a_deadline_on_the_end_date_is_fine(db, tree, users):
    campaign = create(users.county_officer, tree.county, deadline_date=date(2026, 10, 31), deadline_time=time(9, 0))
    assert to_local(campaign.deadline_at).date() == date(2026, 10, 31)


def test_a_title_is_required(db, tree, users):
    with pytest.raises(CampaignError) as refused:
        create(users.county_officer, tree.county, title="   ")
    assert refused.value.code == "title_required"


def test_the_deadline_entered_in_beijing_time_is_stored_in_utc(db, tree, users):
    campaign = create(users.county_officer, tree.county)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Campaign, campaign.id).deadline_at
    assert stored == datetime(2026, 11, 5, 9, 0, tzinfo=timezone.utc)
    assert to_local(stored).strftime("%Y-%m-%d %H:%M") == "2026-11-05 17:00"


def test_a_campaign_cannot_be_rooted_outside_the_creators_area(db, tree, users, other_county):
    with pytest.raises(CampaignError) as refused:
        create(users.county_officer, other_county.county)
    assert refused.value.code == "unit_out_of_scope"


def test_a_township_officer_cannot_create_a_campaign(db, tree, users):
    with pytest.raises(CampaignError) as refused:
        create(users.township_officer, tree.township_a)
    assert refused.value.code == "not_allowed"


# --- from a playbook ----------------------------------------------------------------------------

def test_a_playbook_campaign_copies_the_tasks_and_dates(db, tree, users):
    campaign = draft_from_playbook(users.county_officer, tree.county, year=2027)
    assert campaign.status == "draft"
    assert (campaign.start_date, campaign.end_date) == (date(2027, 10, 1), date(2027, 10, 31))
    assert to_local(campaign.deadline_at).strftime("%m-%d %H:%M") == "11-05 17:00"
    assert campaign.playbook_key == "forest-fire-month"
    assert campaign.theme == "宣传造势防林火、群防群治保平安"
    titles = [task.title for task in campaign.tasks]
    assert "设置永久性宣传标牌" in titles and len(titles) == 12
    signs = next(task for task in campaign.tasks if task.title == "设置永久性宣传标牌")
    assert (signs.kinds, signs.target, signs.measure_unit, signs.requires_photo) == (["village"], 10, "board", True)
    summary = next(task for task in campaign.tasks if task.title == "报送活动总结材料及报表")
    assert summary.due_date == date(2027, 11, 5) and summary.requires_document


# --- launching ---------------------------------------------------------------------------------

def test_launch_assigns_each_task_to_every_unit_of_its_kind(db, forest_fire, users):
    created = services.launch_campaign(forest_fire, actor=users.county_officer)
    db.session.commit()
    assert forest_fire.status == "active" and forest_fire.launched_at is not None
    # 4 township tasks × 2 townships, 2 village tasks × 3 villages, 2 village/community tasks × 4,
    # 2 school tasks × 1 school (not the kindergarten), 1 carrier task, 1 weather task.
    assert created == 8 + 6 + 8 + 2 + 1 + 1
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == created
    assert assignments_of(db, forest_fire, "设置永久性宣传标牌") == sorted(["夏禹桥村委会", "前山村委会", "白沙村委会"])
    assert assignments_of(db, forest_fire, "逐家逐户发放宣传单和《禁火令》") == sorted(
        ["夏禹桥村委会", "前山村委会", "白沙村委会", "玲珑山社区"])
    assert assignments_of(db, forest_fire, "开设森林防火安全教育课") == ["玲珑中学"]


def test_a_category_task_reaches_only_units_of_that_category(db, forest_fire, users):
    services.launch_campaign(forest_fire, actor=users.county_officer)
    assert assignments_of(db, forest_fire, "发送森林防火提醒短信") == ["中国移动临安分公司"]
    assert assignments_of(db, forest_fire, "发布火险天气等级、播放警示标语") == ["区气象局"]


def test_drowning_prevention_reaches_kindergartens_and_the_police(db, tree, users):
    make_unit("agency", tree.county, "区公安分局玲珑派出所", category="police")
    campaign = draft_from_playbook(users.county_officer, tree.county, key="drowning-prevention")
    created = services.launch_campaign(campaign, actor=users.county_officer)
    assert assignments_of(db, campaign, "与家长签订《责任书》") == sorted(["玲珑中学", "太湖源幼儿园"])
    assert assignments_of(db, campaign, "配合开展辖区水域排查") == ["区公安分局玲珑派出所"]
    assert assignments_of(db, campaign, "进校开展溺水急救培训") == []  # no hospital in this county
    # 3 township tasks × 2, 6 village/community tasks × 4, 4 school/kindergarten tasks × 2, 1 police.
    assert created == 6 + 24 + 8 + 1


def test_a_campaign_rooted_at_a_township_assigns_only_its_units(db, tree, users):
    campaign = draft_from_playbook(users.county_officer, tree.township_a)
    created = services.launch_campaign(campaign, actor=users.county_officer)
    units = set(assignments_of(db, campaign))
    assert units == {"玲珑街道", "夏禹桥村委会", "前山村委会", "玲珑山社区", "玲珑中学"}
    assert created == 4 * 1 + 2 * 2 + 2 * 3 + 2 * 1


def test_launching_twice_is_refused_and_creates_nothing_more(db, forest_fire, users):
    first = services.launch_campaign(forest_fire, actor=users.county_officer)
    db.session.commit()
    with pytest.raises(CampaignError) as refused:
        services.launch_campaign(forest_fire, actor=users.county_officer)
    assert refused.value.code == "already_launched"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == first


def test_a_launch_skips_assignments_that_already_exist(db, tree, users):
    campaign = make_campaign(tree.county, start=date(2026, 10, 1), end=date(2026, 10, 31))
    task = make_task(campaign, kinds=("village",))
    db.session.add(Assignment(campaign_id=campaign.id, task_id=task.id, unit_id=tree.village_a1.id))
    db.session.flush()
    assert services.launch_campaign(campaign, actor=users.county_officer) == 2
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 3


def test_a_campaign_without_tasks_cannot_be_launched(db, tree, users):
    campaign = create(users.county_officer, tree.county)
    with pytest.raises(CampaignError) as refused:
        services.launch_campaign(campaign, actor=users.county_officer)
    assert refused.value.code == "no_tasks"
    assert campaign.status == "draft"


def test_a_launch_reads_the_units_once_and_inserts_in_bulk(db, tree, users, count_queries):
    """25,000 villages (a province) under one township: one unit query, a handful of statements."""
    prefix = tree.township_b.path
    db.session.execute(
        insert(Unit),
        [{"name": f"测试村{number}", "kind": "village", "parent_id": tree.township_b.id, "path": "",
          "depth": tree.township_b.depth + 1} for number in range(25_000)],
    )
    db.session.execute(
        update(Unit).where(Unit.parent_id == tree.township_b.id, Unit.path == "")
        .values(path=literal(prefix) + cast(Unit.id, String) + "/")
    )
    campaign = make_campaign(tree.county, start=date(2026, 10, 1), end=date(2026, 10, 31))
    make_task(campaign, kinds=("village",))
    db.session.commit()

    with count_queries() as statements:
        created = services.launch_campaign(campaign, actor=users.county_officer)
        db.session.commit()
    assert created == 25_003
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 25_003
    unit_queries = [s for s in statements if "FROM unit" in s]
    assert len(unit_queries) == 1, unit_queries
    assert len(statements) < 20


# --- closing -------------------------------------------------------------------------------------

def test_close_moves_an_active_campaign_to_closed(db, active_forest_fire, users):
    services.close_campaign(active_forest_fire, actor=users.county_officer)
    assert active_forest_fire.status == "closed" and active_forest_fire.closed_at is not None


def test_a_draft_cannot_be_closed(db, forest_fire, users):
    with pytest.raises(CampaignError) as refused:
        services.close_campaign(forest_fire, actor=users.county_officer)
    assert refused.value.code == "not_active"


def test_a_closed_campaign_cannot_be_launched_again(db, active_forest_fire, users):
    services.close_campaign(active_forest_fire, actor=users.county_officer)
    with pytest.raises(CampaignError) as refused:
        services.launch_campaign(active_forest_fire, actor=users.county_officer)
    assert refused.value.code == "not_draft"


# --- tasks ---------------------------------------------------------------------------------------

TASK = {
    "title": "悬挂横幅", "description": "", "unit_kinds": ["village"], "unit_category": "",
    "measure": "quantity", "target": 2, "measure_unit": "slogan", "requires_photo": True,
    "requires_document": False, "due_date": date(2026, 10, 15),
}


def test_a_task_is_added_edited_and_deleted_while_draft(db, forest_fire, users):
    task = services.add_task(forest_fire, actor=users.county_officer, **TASK)
    assert task.position == 12 and task.kinds == ["village"]
    services.update_task(task, actor=users.county_officer, **{**TASK, "target": 5})
    assert task.target == 5
    services.delete_task(task, actor=users.county_officer)
    db.session.commit()
    assert db.session.get(Task, task.id) is None


@pytest.mark.parametrize(
    "change, code",
    [
        ({"unit_kinds": []}, "kinds_required"),
        ({"unit_kinds": ["hamlet"]}, "unknown_kind"),
        ({"measure_unit": None}, "quantity_needs_unit"),
        ({"due_date": date(2026, 9, 30)}, "due_outside_window"),
        ({"due_date": date(2026, 11, 6)}, "due_outside_window"),
        ({"title": ""}, "title_required"),
    ],
)
def test_a_bad_task_is_refused(db, forest_fire, users, change, code):
    with pytest.raises(CampaignError) as refused:
        services.add_task(forest_fire, actor=users.county_officer, **{**TASK, **change})
    assert refused.value.code == code


def test_a_done_task_keeps_no_target(db, forest_fire, users):
    task = services.add_task(forest_fire, actor=users.county_officer, **{**TASK, "measure": "done"})
    assert (task.target, task.measure_unit) == (None, None)


def test_tasks_and_fields_are_fixed_after_launch(db, active_forest_fire, users):
    task = active_forest_fire.tasks[0]
    for attempt in (
        lambda: services.add_task(active_forest_fire, actor=users.county_officer, **TASK),
        lambda: services.update_task(task, actor=users.county_officer, **TASK),
        lambda: services.delete_task(task, actor=users.county_officer),
        lambda: services.update_campaign(active_forest_fire, actor=users.county_officer, title="改名",
                                         theme="", description="", root_unit=active_forest_fire.root_unit,
                                         **WINDOW),
    ):
        with pytest.raises(CampaignError) as refused:
            attempt()
        assert refused.value.code == "not_draft"


# --- audit ---------------------------------------------------------------------------------------

def test_every_write_leaves_an_audit_record(db, forest_fire, users):
    task = services.add_task(forest_fire, actor=users.county_officer, **TASK)
    services.update_task(task, actor=users.county_officer, **{**TASK, "target": 7})
    services.delete_task(task, actor=users.county_officer)
    services.update_campaign(forest_fire, actor=users.county_officer, title="2026年森林防火宣传月（修订）",
                             theme=forest_fire.theme, description=forest_fire.description,
                             root_unit=forest_fire.root_unit, **WINDOW)
    created = services.launch_campaign(forest_fire, actor=users.county_officer)
    services.close_campaign(forest_fire, actor=users.county_officer)
    db.session.commit()
    records = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
    actions = [entry.action for entry in records]
    assert actions[0] == "campaign.create"
    assert actions.count("task.create") == 12 + 1
    assert actions[-5:] == ["task.update", "task.delete", "campaign.update", "campaign.launch", "campaign.close"]
    launch = records[-2]
    assert launch.after == {"status": "active", "assignments_created": created}
    assert launch.username == "county_officer"
    update = records[-3]
    assert update.after == {"title": "2026年森林防火宣传月（修订）"}


def test_a_launched_campaign_reads_upcoming_until_its_window_opens(db, tree):
    from datetime import timedelta

    from campaign.timeutil import local_today
    from tests.factories import make_campaign

    upcoming = make_campaign(tree.county, start=local_today() + timedelta(days=1), status="active")
    running = make_campaign(tree.county, title="本月", start=local_today(), status="active")
    draft = make_campaign(tree.county, title="草稿", start=local_today() + timedelta(days=1))
    assert (upcoming.phase, running.phase, draft.phase) == ("upcoming", "active", "draft")
