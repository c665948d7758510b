"""Factories: plain functions that build valid objects with sensible defaults."""
import itertools
from datetime import date, time, timedelta
from types import SimpleNamespace

from campaign.accounts.models import User
from campaign.accounts.services import hash_password
from campaign.campaigns.models import Campaign, Task
from campaign.extensions import db
from campaign.timeutil import local_to_utc, local_today
from campaign.units.models import Unit

DEFAULT_PASSWORD = "Passw0rd123"
_sequence = itertools.count(1)


def make_unit(kind="village", parent=None, name=None, code=None, **fields) -> Unit:
    unit = Unit(name=name or f"{kind}-{next(_sequence)}", kind=kind, code=code, **fields)
    db.session.add(unit)
    db.session.flush()
    unit.place_under(parent)
    db.session.flush()
    return unit


def make_tree() -> SimpleNamespace:
    county = make_unit("county", None, "临安区", "330112000000")
    township_a = make_unit("township", county, "玲珑街道", "330112002000")
    township_b = make_unit("township", county, "太湖源镇", "330112101000")
    tree = SimpleNamespace(
        county=county,
        township_a=township_a,
        township_b=township_b,
        village_a1=make_unit("village", township_a, "夏禹桥村委会", "330112002235", households=420),
        village_a2=make_unit("village", township_a, "前山村委会", "330112002236", households=310),
        community_a=make_unit("community", township_a, "玲珑山社区", "330112002001", households=1800),
        village_b1=make_unit("village", township_b, "白沙村委会", "330112101201", households=260),
        school_a=make_unit("school", township_a, "玲珑中学", students=900),
        kindergarten_b=make_unit("kindergarten", township_b, "太湖源幼儿园", students=120),
        carrier=make_unit("agency", county, "中国移动临安分公司", category="carrier"),
        weather=make_unit("agency", county, "区气象局", category="weather"),
    )
    db.session.commit()
    return tree


def make_user(role="village_reporter", unit=None, username=None, password=DEFAULT_PASSWORD, **fields) -> User:
    user = User(
        username=username or f"user{next(_sequence)}",
        role=role,
        unit=unit,
        password_hash=hash_password(password),
        display_name=fields.pop("display_name", "测试用户"),
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_campaign(root, title="森林防火宣传月", start=None, end=None, deadline=None, **fields) -> Campaign:
    start = start or local_today() - timedelta(days=5)
    end = end or start + timedelta(days=30)
    deadline = deadline or local_to_utc(end + timedelta(days=5), time(17, 0))
    campaign = Campaign(
        title=title,
        theme=fields.pop("theme", "宣传造势防林火、群防群治保平安"),
        start_date=start,
        end_date=end,
        deadline_at=deadline,
        root_unit=root,
        **fields,
    )
    db.session.add(campaign)
    db.session.flush()
    return campaign


def make_task(campaign, title="设置永久性宣传标牌", kinds=("village",), measure="quantity", target=10,
              measure_unit="board", **fields) -> Task:
    task = Task(
        campaign=campaign,
        title=title,
        measure=measure,
        target=target if measure == "quantity" else None,
        measure_unit=measure_unit if measure == "quantity" else None,
        position=len(campaign.tasks),
        **fields,
    )
    task.kinds = list(kinds)
    db.session.add(task)
    db.session.flush()
    return task


def a_date(days_from_today=0) -> date:
    return local_today() + timedelta(days=days_from_today)
