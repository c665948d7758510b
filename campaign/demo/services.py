"""Loading the demo county: 临安区's real unit tree, schools and agencies, a user of every role,
and an active forest-fire month with some reports in it. Loaded once; a second run changes nothing."""
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from ..accounts.models import Role, User
from ..accounts.services import create_user
from ..audit.services import record
from ..campaigns.models import Assignment, AssignmentStatus, Instalment, Task
from ..campaigns.playbooks import get_playbook
from ..campaigns.services import create_campaign, launch_campaign
from ..extensions import db
from ..timeutil import local_today
from ..units.models import Unit
from ..units.importing import import_units_from_path
from ..water.services import create_water_point, record_hazard, record_patrol

DATA = Path(__file__).parent / "data"
UNIT_FILES = ("linan-district-units.csv", "linan-demo-schools-agencies.csv")
DEMO_PASSWORD = "Linan2026"
COUNTY_CODE = "330112000000"

# username, role, how to find the unit (division code, or name for code-less units)
DEMO_USERS = (
    ("admin", Role.ADMIN.value, COUNTY_CODE, "系统管理员"),
    ("county", Role.COUNTY_OFFICER.value, COUNTY_CODE, "区森林防火指挥部办公室"),
    ("township", Role.TOWNSHIP_OFFICER.value, "330112002000", "玲珑街道应急办"),
    ("village", Role.VILLAGE_REPORTER.value, "330112002235", "夏禹桥村文书"),
    ("school", Role.SCHOOL_REPORTER.value, "玲珑中心小学", "玲珑中心小学安全办"),
    ("agency", Role.AGENCY_REPORTER.value, "中国移动临安分公司", "临安移动客服部"),
    ("inspector", Role.INSPECTOR.value, COUNTY_CODE, "区督导组"),
    ("viewer", Role.VIEWER.value, COUNTY_CODE, "区应急管理局"),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = "建国志强明华伟芳秀英桂兰海军丽娟敏静立新春燕红霞永福德胜晓东国平玉兰文斌金凤"
LINAN_CENTRE = (30.2336, 119.7248)


@dataclass
class DemoResult:
    loaded: bool
    units: int = 0
    users: int = 0
    assignments: int = 0
    campaign_id: int | None = None
    water_points: int = 0


def demo_is_loaded() -> bool:
    return db.session.scalar(select(Unit.id).limit(1)) is not None


def load_demo(today: date | None = None, seed: int = 2026) -> DemoResult:
    """Load everything once, in the caller's transaction. Refuses a database that has units already."""
    if demo_is_loaded():
        return DemoResult(loaded=False)
    today = today or local_today()
    rng = random.Random(seed)
    units = _load_units(rng)
    users = _create_users()
    campaign, assignments = _launch_forest_fire_month(today, users["county"])
    _report_some(campaign.id, users, today, rng)
    points = _register_water_points(users["county"], today, rng)
    record("demo.load", "demo", after={"units": units, "users": len(users), "campaign": campaign.id})
    return DemoResult(loaded=True, units=units, users=len(users), assignments=assignments,
                      campaign_id=campaign.id, water_points=points)


def _load_units(rng: random.Random) -> int:
    count = 0
    for name in UNIT_FILES:
        result = import_units_from_path(DATA / name)
        if not result.ok:
            raise RuntimeError(f"the demo file {name} does not import: {result.errors[:3]}")
        count += result.created
    _add_contacts_and_places(rng)
    return count


def _add_contacts_and_places(rng: random.Random):
    """Contacts, households, students and positions: invented, but shaped like a real county's."""
    units = db.session.scalars(select(Unit).order_by(Unit.depth, Unit.id)).all()
    places = {}
    for unit in units:
        unit.contact_name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
        unit.phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        centre = places.get(unit.parent_id, LINAN_CENTRE)
        spread = 0.12 if unit.kind == "township" else 0.03
        unit.latitude = round(centre[0] + rng.uniform(-spread, spread), 6)
        unit.longitude = round(centre[1] + rng.uniform(-spread, spread) * 1.5, 6)
        places[unit.id] = (unit.latitude, unit.longitude)
        if unit.kind == "village":
            unit.households = rng.randrange(180, 1200)
        elif unit.kind == "community":
            unit.households = rng.randrange(800, 4000)
        elif unit.kind == "school":
            unit.students = rng.randrange(300, 1600)
        elif unit.kind == "kindergarten":
            unit.students = rng.randrange(60, 320)
    db.session.flush()


def _create_users() -> dict[str, User]:
    users = {}
    for username, role, unit_key, display_name in DEMO_USERS:
        column = Unit.code if unit_key.isdigit() else Unit.name
        unit = db.session.scalars(select(Unit).where(column == unit_key)).one()
        users[username] = create_user(
            username=username, password=DEMO_PASSWORD, role=role, unit=unit, display_name=display_name
        )
    return users


def _launch_forest_fire_month(today: date, county_officer: User):
    """The playbook's month shifted around today, so the demo always has work in progress."""
    start = today - timedelta(days=12)
    end = today + timedelta(days=18)
    playbook = get_playbook("forest-fire-month")
    campaign = create_campaign(
        actor=county_officer,
        title=f"{today.year}年森林防火宣传月活动",
        theme=playbook.theme,
        description=playbook.description,
        start_date=start,
        end_date=end,
        deadline_date=end + timedelta(days=5),
        deadline_time=time(17, 0),
        root_unit=county_officer.unit,
        playbook=playbook,
    )
    assignments = launch_campaign(campaign, actor=county_officer)
    return campaign, assignments


def _report_some(campaign_id: int, users: dict[str, User], today: date, rng: random.Random):
    """About half the villages have reported their signs and slogans; some are approved."""
    rows = db.session.execute(
        select(Assignment, Task)
        .join(Task, Assignment.task_id == Task.id)
        .where(Assignment.campaign_id == campaign_id, Task.measure == "quantity", Task.target.is_not(None))
        .order_by(Assignment.id)
    ).all()
    township_officer = users["township"]
    demo_village_id = users["village"].unit_id
    for assignment, task in rows:
        if assignment.unit_id == demo_village_id:
            if task.measure_unit == "board":  # the demo reporter has one draft under way
                _add_instalment(assignment, 4, today - timedelta(days=3), users["village"])
                assignment.move_to(AssignmentStatus.DRAFT.value)
            continue
        if rng.random() > 0.55:
            continue
        first = rng.randrange(1, task.target + 1)
        _add_instalment(assignment, first, today - timedelta(days=rng.randrange(4, 10)), None)
        if rng.random() < 0.6:
            _add_instalment(assignment, rng.randrange(0, task.target + 1), today - timedelta(days=rng.randrange(0, 4)), None)
        assignment.note = "已按方案完成，照片见附件。"
        assignment.move_to(AssignmentStatus.SUBMITTED.value)
        if rng.random() < 0.5:
            assignment.move_to(AssignmentStatus.APPROVED.value)
            assignment.reviewed_by_id = township_officer.id
    db.session.flush()


WATER_NAMES = {
    "river": ("溪", "河段"), "pond": ("塘", "山塘"), "reservoir": ("水库",), "canal": ("渠",),
    "ditch": ("沟",), "construction_pit": ("工地积水坑",), "other": ("水潭",),
}
WATER_PLACES = "上下前后东西南北大小"


def _register_water_points(county_officer: User, today: date, rng: random.Random) -> int:
    """A few water areas in about a third of the villages, with patrols and some hazards, for the map."""
    villages = db.session.scalars(
        select(Unit).where(Unit.kind.in_(("village", "community"))).order_by(Unit.id)
    ).all()
    now = datetime.now(timezone.utc)
    count = 0
    for village in villages:
        if rng.random() > 0.35:
            continue
        for number in range(rng.randrange(1, 5)):
            kind = rng.choice(list(WATER_NAMES))
            stem = village.name.replace("村委会", "").replace("社区", "")
            point = create_water_point(
                actor=county_officer, unit=village,
                name=f"{stem}{rng.choice(WATER_PLACES)}{rng.choice(WATER_NAMES[kind])}",
                kind=kind,
                latitude=round(village.latitude + rng.uniform(-0.01, 0.01), 6),
                longitude=round(village.longitude + rng.uniform(-0.012, 0.012), 6),
                is_key=rng.random() < 0.4,
                danger_level=rng.choice(("high", "medium", "medium", "low", "low")),
                has_permanent_sign=(signed := rng.random() < 0.7),
                sign_count=rng.randrange(1, 4) if signed else 0,
                life_buoys=rng.randrange(0, 3), poles=rng.randrange(0, 2), ropes=rng.randrange(0, 2),
                has_fence=rng.random() < 0.3,
                responsible_name=village.contact_name or "",
                responsible_phone=village.phone or "",
                notes="",
            )
            count += 1
            for days in sorted(rng.sample(range(1, 20), rng.randrange(0, 3)), reverse=True):
                record_patrol(point, actor=county_officer, patrolled_at=now - timedelta(days=days, hours=3),
                              patroller_name=village.contact_name or "巡查员",
                              sign_intact=rng.random() < 0.9, people_swimming=0, findings="未发现异常")
            if rng.random() < 0.15:
                found_on = today - timedelta(days=rng.randrange(6, 15))
                record_hazard(point, actor=county_officer, found_on=found_on,
                              description=rng.choice(("护栏破损", "警示牌缺失", "岸边塌陷", "救生圈缺失")),
                              rectify_by=found_on + timedelta(days=rng.randrange(3, 20)),
                              owner_name=f"{village.name}两委")
    return count


def _add_instalment(assignment, quantity, on, reporter):
    assignment.instalments.append(
        Instalment(quantity=quantity, reported_on=on, reported_by_id=reporter.id if reporter else None)
    )


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, unit name) of the demo users that exist."""
    usernames = [username for username, *_ in DEMO_USERS]
    rows = db.session.execute(
        select(User.username, User.role, Unit.name).join(Unit, User.unit_id == Unit.id)
        .where(User.username.in_(usernames))
    ).all()
    order = {username: position for position, username in enumerate(usernames)}
    return sorted(((u, r, n) for u, r, n in rows), key=lambda row: order[row[0]])
