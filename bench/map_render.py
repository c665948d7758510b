"""City-scale water map: 20,000 water points in 600 villages, drawn through the real routes.

    .venv/bin/python bench/map_render.py
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/scratch .venv/bin/python bench/map_render.py

Prints the time to query the points, to build and render the folium map, the whole /water/map.js and
/water/map requests, and the sizes of what the browser downloads. For comparison it renders 2,000
points the naive way (one folium Marker with a popup per point). The SQLite run uses a fresh file;
BENCH_DATABASE_URL must name a scratch PostgreSQL database: its schema is dropped.
"""
import gzip
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import folium  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from campaign import create_app  # noqa: E402
from campaign.accounts.models import User  # noqa: E402
from campaign.accounts.services import hash_password  # noqa: E402
from campaign.database import utcnow  # noqa: E402
from campaign.extensions import db  # noqa: E402
from campaign.units.models import Unit  # noqa: E402
from campaign.water import maps  # noqa: E402
from campaign.water.models import Hazard, WaterPoint  # noqa: E402

POINTS, TOWNSHIPS, VILLAGES = 20_000, 20, 30
PASSWORD = "bench-password-1"
KINDS = ["river", "pond", "reservoir", "canal", "ditch", "construction_pit", "other"]


def fresh_app(url):
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        with db.engine.begin() as connection:
            if db.engine.dialect.name == "postgresql":
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


def add_unit(name, kind, parent):
    unit = Unit(name=name, kind=kind)
    db.session.add(unit)
    db.session.flush()
    unit.place_under(parent)
    return unit


def populate():
    random.seed(4)
    county = add_unit("临安区", "county", None)
    villages = []
    for t in range(TOWNSHIPS):
        township = add_unit(f"第{t + 1}镇", "township", county)
        villages += [add_unit(f"{t + 1}-{v + 1}村", "village", township) for v in range(VILLAGES)]
    db.session.add(User(username="bench", role="county_officer", unit=county, display_name="bench",
                        password_hash=hash_password(PASSWORD)))
    now = utcnow()
    points = []
    for number in range(POINTS):
        village = villages[number % len(villages)]
        points.append(WaterPoint(
            unit_id=village.id, name=f"{village.name}水域{number}" + ("<b>`${x}`</b>" if number % 100 == 0 else ""),
            kind=random.choice(KINDS),
            latitude=29.9 + random.random() * 0.6, longitude=119.2 + random.random() * 0.8,
            is_key=number % 5 == 0, danger_level=random.choice(["high", "medium", "low"]),
            has_permanent_sign=number % 7 != 0, responsible_name="张三", responsible_phone="13800000000",
            last_patrol_at=now - timedelta(days=number % 15),
        ))
    db.session.add_all(points)
    db.session.flush()
    db.session.add_all(
        Hazard(water_point_id=point.id, found_on=date.today(), description="护栏破损",
               rectify_by=date.today() + timedelta(days=10), owner_name="李四")
        for point in points[::50]
    )
    db.session.commit()


def timed(label, action, repeat=3):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"  {label:<44} {best * 1000:8.0f} ms")
    return result


def size(label, data: bytes):
    print(f"  {label:<44} {len(data) / 1024:8.0f} KiB  (gzip {len(gzip.compress(data)) / 1024:.0f} KiB)")


def run(url):
    app = fresh_app(url)
    with app.app_context():
        start = time.perf_counter()
        populate()
        print(f"{db.engine.dialect.name}: {POINTS:,} points in {TOWNSHIPS * VILLAGES} villages "
              f"(made in {time.perf_counter() - start:.1f} s)")
        user = db.session.scalar(db.select(User).where(User.username == "bench"))
        with app.test_request_context():
            data = timed("query the points (map_points)", lambda: maps.map_points(user, user.unit))
            tiles = maps.tile_settings()
            fmap = timed("build the folium map", lambda: maps.build_map(data, tiles, "/water/{id}"))
            script = timed("render its script", lambda: maps.render_script(maps.build_map(data, tiles, "/w/{id}")))
            size("map script", script.encode())

    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": PASSWORD})
    js = timed("GET /water/map.js (whole request)", lambda: client.get("/water/map.js").data)
    page = timed("GET /water/map (the page)", lambda: client.get("/water/map").data)
    size("/water/map.js", js)
    size("/water/map", page)

    with app.test_request_context():
        few = data.points[:2000]

        def naive():
            fmap = folium.Map(location=[30.2, 119.6], zoom_start=10)
            cluster = folium.plugins.MarkerCluster().add_to(fmap)
            for point in few:
                folium.Marker([point.latitude, point.longitude], popup=point.name).add_to(cluster)
            return fmap.get_root().render()

        html = timed("naive: 2,000 folium Markers with popups", naive, repeat=1)
        size("naive HTML for 2,000 points", html.encode())
        small = maps.MapData(data.unit, few, data.counts)
        script = timed("this map: 2,000 points", lambda: maps.render_script(maps.build_map(small, tiles, "/w/{id}")))
        size("this map's script for 2,000 points", script.encode())


if __name__ == "__main__":
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-map-')}/bench.sqlite3"
    run(url)
