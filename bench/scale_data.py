"""Scale data for the progress and workbook benchmarks (the table in docs/stack-traps.md) in a scratch database.

    .venv/bin/python bench/scale_data.py county|city|province [DATABASE_URL]

county:   1 county, 15 townships, 300 villages, 80 schools, ~2,000 water points, ~20,000 patrols.
city:     1 city, 10 counties of the above: 150 townships, 3,000 villages, 800 schools, ~20,000 water points,
          ~200,000 patrols.
province: 1 province, 84 counties of the above: 1,260 townships, 25,200 villages, 6,048 schools (72 per
          county), ~150,000 water points, ~1.5 million patrols (the table in docs/stack-traps.md).
Then a launched campaign with 12 tasks (9 for villages, 3 for schools) — one assignment per task per
unit — and reports in every state with 1–3 instalments each, and hazards on some water points.
Without DATABASE_URL a fresh SQLite file in the temp folder is used; a PostgreSQL URL must name a
scratch database: its schema is dropped.
"""
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import bindparam, insert, select, text, update  # noqa: E402

from campaign import create_app  # noqa: E402
from campaign.accounts.models import User  # noqa: E402
from campaign.accounts.services import hash_password  # noqa: E402
from campaign.campaigns.models import Assignment, Campaign, Instalment, Task  # noqa: E402
from campaign.campaigns.services import launch_campaign  # noqa: E402
from campaign.extensions import db  # noqa: E402
from campaign.units.models import Unit  # noqa: E402
from campaign.progress.counters import rebuild_all  # noqa: E402
from campaign.water.models import Hazard, Patrol, WaterPoint  # noqa: E402

PATROLS_PER_POINT = 10
CHUNK = 50_000

SCALES = {
    "county": {"counties": 1, "townships": 15, "villages": 300, "schools": 80, "points_per_village": 6.67},
    "city": {"counties": 10, "townships": 15, "villages": 300, "schools": 80, "points_per_village": 6.67},
    "province": {"counties": 84, "townships": 15, "villages": 300, "schools": 72, "points_per_village": 6,
                 "top": "province"},
}
BENCH_USER = "bench-admin"
BENCH_PASSWORD = "Bench-passw0rd"
VILLAGE_TASKS = [
    ("设置永久性森林防火宣传标牌", "quantity", 10, "board"),
    ("悬挂森林防火宣传横幅", "quantity", 10, "slogan"),
    ("发放森林防火宣传资料", "quantity", 200, "copy"),
    ("组织森林防火应急演练", "quantity", 1, "time"),
    ("召开村民森林防火会议", "quantity", 2, "time"),
    ("签订森林防火责任书", "quantity", 100, "household"),
    ("清理林缘可燃物", "quantity", 3, "place"),
    ("制定村级森林防火实施方案", "done", None, None),
    ("落实护林员巡山制度", "done", None, None),
]
SCHOOL_TASKS = [
    ("开展森林防火安全教育课", "quantity", 2, "lesson"),
    ("发放《致家长的一封信》", "quantity", 300, "copy"),
    ("开展疏散演练", "done", None, None),
]


def fresh_app(url):
    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        with db.engine.begin() as connection:
            if db.engine.dialect.name == "postgresql":
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


def unit_rows(scale):
    """The tree as rows with ids and paths set, parents before children."""
    shape = SCALES[scale]
    rows = []
    next_id = iter(range(1, 10_000_000))

    def add(kind, name, parent=None, **extra):
        unit_id = next(next_id)
        path = f"{parent['path'] if parent else '/'}{unit_id}/"
        row = {"id": unit_id, "name": name, "kind": kind, "parent_id": parent["id"] if parent else None,
               "path": path, "depth": (parent["depth"] + 1) if parent else 0, "code": None, "category": None,
               "contact_name": None, "phone": None, "households": None, "students": None}
        row.update(extra)
        rows.append(row)
        return row

    top = None
    if shape["counties"] > 1:
        top = add(shape.get("top", "city"), "第一省" if shape.get("top") == "province" else "第一市")
    for k in range(1, shape["counties"] + 1):
        county = add("county", f"第{k}县", top)
        townships = [add("township", f"{k}-{t}镇", county) for t in range(1, shape["townships"] + 1)]
        for v in range(shape["villages"]):
            township = townships[v % len(townships)]
            add("village", f"{township['name']}{v + 1}村", township, contact_name=f"村干部{v}",
                phone=f"138{k:02d}{v:06d}", households=200 + v % 300)
        for s in range(shape["schools"]):
            township = townships[s % len(townships)]
            add("school", f"{township['name']}第{s + 1}小学", township, contact_name=f"校长{s}",
                phone=f"139{k:02d}{s:06d}", students=300 + s)
    return rows


def generate(scale="county", url=None, seed=20261031):
    """Build the scale data; returns (app, campaign_id, counts)."""
    url = url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-')) / f'{scale}.sqlite3'}"
    app = fresh_app(url)
    rng = random.Random(seed)
    with app.app_context():
        rows = unit_rows(scale)
        db.session.execute(insert(Unit), rows)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('unit', 'id'), (SELECT max(id) FROM unit))"))
        root_id = rows[0]["id"]
        root = db.session.get(Unit, root_id)
        db.session.add(User(username=BENCH_USER, role="admin", unit=root, display_name="基准测试",
                            password_hash=hash_password(BENCH_PASSWORD)))
        deadline = datetime(2026, 11, 5, 9, 0, tzinfo=timezone.utc)  # 17:00 in Shanghai
        campaign = Campaign(title="2026年森林防火宣传月", theme="宣传造势防林火、群防群治保平安",
                            start_date=date(2026, 10, 1), end_date=date(2026, 10, 31), deadline_at=deadline,
                            root_unit=root)
        db.session.add(campaign)
        db.session.flush()
        for position, (title, measure, target, unit, kind) in enumerate(
            [(*task, "village") for task in VILLAGE_TASKS] + [(*task, "school") for task in SCHOOL_TASKS]
        ):
            task = Task(campaign=campaign, position=position, title=title, measure=measure, target=target,
                        measure_unit=unit)
            task.kinds = [kind]
            db.session.add(task)
        db.session.flush()
        launch_campaign(campaign)
        db.session.flush()

        assignments = db.session.execute(
            select(Assignment.id, Task.measure).join(Task, Task.id == Assignment.task_id)
            .where(Assignment.campaign_id == campaign.id)
        ).all()
        updates, instalments = [], []
        for assignment_id, measure in assignments:
            status = rng.choices(["not_started", "draft", "submitted", "approved", "returned"],
                                 [15, 5, 40, 30, 10])[0]
            first = None
            if status in ("submitted", "approved", "returned"):
                first = deadline + timedelta(hours=rng.choice([-200, -50, -5, -1, 3, 30]))
            updates.append({"b_id": assignment_id, "status": status, "first": first,
                            "done": measure == "done" and status != "not_started" and rng.random() < 0.85})
            if measure == "quantity" and status != "not_started":
                for _ in range(rng.randint(1, 3)):
                    instalments.append({"assignment_id": assignment_id, "quantity": rng.randint(0, 120),
                                        "note": "", "reported_on": date(2026, 10, rng.randint(1, 31))})
        table = Assignment.__table__
        db.session.connection().execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                status=bindparam("status"), first_submitted_at=bindparam("first", type_=table.c.first_submitted_at.type),
                submitted_at=bindparam("first", type_=table.c.submitted_at.type), done=bindparam("done")),
            updates,
        )
        db.session.execute(insert(Instalment), instalments)

        villages = [row for row in rows if row["kind"] == "village"]
        points_per_village = SCALES[scale]["points_per_village"]
        points = []
        for index in range(int(len(villages) * points_per_village)):
            village = villages[index % len(villages)]
            points.append({"unit_id": village["id"], "name": f"水域{index}", "kind": rng.choice(["pond", "river", "ditch"]),
                           "latitude": 30 + rng.random(), "longitude": 119 + rng.random(),
                           "is_key": rng.random() < 0.2, "has_permanent_sign": rng.random() < 0.7})
        db.session.execute(insert(WaterPoint), points)
        point_ids = db.session.scalars(select(WaterPoint.id)).all()
        hazards = [
            {"water_point_id": point_id, "found_on": date(2026, 6, 1), "description": "护栏缺失",
             "rectify_by": date(2026, 6, 1) + timedelta(days=rng.randint(0, 300)), "owner_name": "责任人",
             "status": rng.choice(["open", "in_progress", "closed"])}
            for point_id in rng.sample(point_ids, len(point_ids) // 5)
        ]
        db.session.execute(insert(Hazard), hazards)
        patrols = 0
        batch = []
        for point_id in point_ids:
            for day in range(PATROLS_PER_POINT):
                batch.append({"water_point_id": point_id, "patroller_name": "巡查员", "sign_intact": True,
                              "patrolled_at": datetime(2026, 6, 1, 2, tzinfo=timezone.utc) + timedelta(days=7 * day)})
            if len(batch) >= CHUNK:
                db.session.execute(insert(Patrol), batch)
                patrols += len(batch)
                batch = []
        if batch:
            db.session.execute(insert(Patrol), batch)
            patrols += len(batch)
        rebuild_all()  # the reports above were written in bulk, past the counters' ORM hook
        db.session.commit()
        counts = {
            "units": len(rows),
            "villages": len(villages),
            "schools": sum(row["kind"] == "school" for row in rows),
            "townships": sum(row["kind"] == "township" for row in rows),
            "assignments": len(assignments),
            "instalments": len(instalments),
            "water_points": len(points),
            "hazards": len(hazards),
            "patrols": patrols,
        }
        return app, campaign.id, counts


if __name__ == "__main__":
    scale = sys.argv[1] if len(sys.argv) > 1 else "county"
    url = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_DATABASE_URL")
    started = time.perf_counter()
    _, campaign_id, counts = generate(scale, url)
    print(f"{scale}: campaign {campaign_id}, {counts} in {time.perf_counter() - started:.1f} s")
