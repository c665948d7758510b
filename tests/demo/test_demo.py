"""The demo county loads once, with the real 临安区 tree, every role and a campaign in progress."""
from datetime import date

from sqlalchemy import func, select

from campaign.accounts.models import Role, User
from campaign.campaigns.models import Assignment, Campaign
from campaign.demo.services import DEMO_PASSWORD, load_demo
from campaign.units.models import Unit
from tests.conftest import log_in


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_demo_loads_the_real_tree_with_schools_and_agencies(db):
    result = load_demo(today=date(2026, 10, 13))
    db.session.commit()
    assert result.loaded
    assert count(db, Unit, Unit.kind == "township") == 18
    assert count(db, Unit, Unit.kind.in_(["village", "community"])) == 319
    assert count(db, Unit, Unit.kind == "school") > 18
    assert count(db, Unit, Unit.kind == "agency", Unit.category == "carrier") == 3
    assert db.session.scalar(select(Unit.name).where(Unit.code == "330112002235")) == "夏禹桥村委会"
    assert count(db, Unit, Unit.kind == "village", Unit.households.is_(None)) == 0


def test_the_demo_has_a_user_of_every_role_and_an_active_campaign_with_reports(db):
    load_demo(today=date(2026, 10, 13))
    db.session.commit()
    assert {role for (role,) in db.session.execute(select(User.role))} == set(Role.values())
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.status == "active"
    assert campaign.title == "2026年森林防火宣传月活动"
    assert campaign.start_date <= date(2026, 10, 13) <= campaign.end_date
    assert count(db, Assignment, Assignment.status == "submitted") > 0
    assert count(db, Assignment, Assignment.status == "approved") > 0
    assert count(db, Assignment, Assignment.status == "not_started") > 0


def test_the_demo_has_water_points_with_patrols_and_hazards_for_the_map(db):
    from campaign.water.models import Hazard, Patrol, WaterPoint

    result = load_demo(today=date(2026, 7, 13))
    db.session.commit()
    assert result.water_points == count(db, WaterPoint) > 100
    assert count(db, WaterPoint, WaterPoint.is_key.is_(True)) > 0
    assert count(db, Patrol) > 0 and count(db, Hazard) > 0


def test_loading_twice_changes_nothing(db):
    load_demo()
    db.session.commit()
    units = count(db, Unit)
    assert load_demo().loaded is False
    assert count(db, Unit) == units


def test_the_demo_reporter_logs_in_and_sees_the_village_tasks(app, db):
    load_demo()
    db.session.commit()
    client = log_in(app.test_client(), "village", DEMO_PASSWORD)
    page = client.get("/").get_data(as_text=True)
    assert "我的任务" in page
    assert "设置永久性宣传标牌" in page
    assert "4 / 10 块" in page


def test_the_demo_command_prints_the_logins(app, db):
    output = app.test_cli_runner().invoke(args=["demo"]).output
    assert "admin" in output and "village" in output and DEMO_PASSWORD in output
    again = app.test_cli_runner().invoke(args=["demo"]).output
    assert "没有重复加载" in again or "未重复加载" in again
    assert "village" in again
