"""Server time of the heavy pages right after a bulk load (no ANALYZE), then after ANALYZE, as ratios.

    .venv/bin/python bench/fresh_pages.py [county|city|province] [--database URL] [--requests 5]

1. Generates the scale data (bench/scale_data.py) in a scratch database: a PostgreSQL URL must name a
   scratch database (its schema is dropped); without one a fresh SQLite file is used.
2. Measures each page through the Flask test client (server time, no network), logged in as the admin at
   the root: best of ``--requests`` after one warm-up. The floor, measured in the same run, is the login
   page (GET /login, no session); every figure is printed as a ratio to it, never as a bare time to judge.
3. On PostgreSQL: the same pages once more after ``ANALYZE`` (the first pass had no planner statistics,
   the normal state after a launch or an import, and the permanent one where autovacuum is off).
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text  # noqa: E402

from bench.progress_bench import log_in  # noqa: E402
from bench.scale_data import generate  # noqa: E402
from campaign.extensions import db  # noqa: E402
from campaign.units.models import Unit  # noqa: E402


def pages(campaign_id, township_id):
    return {
        "dashboard (root)": f"/progress/campaigns/{campaign_id}",
        "dashboard (one township)": f"/progress/campaigns/{campaign_id}/units/{township_id}",
        "chasing list": f"/progress/campaigns/{campaign_id}/chasing",
        "water list": "/water/",
        "water list by hazards": "/water/?sort=hazards",
        "water list, open hazards only": "/water/?hazards=1",
        "hazards": "/water/hazards",
        "patrols": "/water/patrols",
        "audit": "/audit/",
        "water map page": "/water/map",
        "water points CSV export": "/water/export.csv",
        "registration form (one sheet per township)": "/water/forms?form=register&group=township",
        "water map points (map.js, built)": "/water/map.js",
    }


def best_time(client, url, runs) -> float:
    assert client.get(url).status_code == 200, url
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        best = min(best, time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return best


def measure(app, campaign_id, township_id, runs, label):
    runs = max(1, runs)
    anonymous = app.test_client()
    floor = best_time(anonymous, "/login", max(runs, 20))
    client = app.test_client()
    log_in(client)
    print(f"-- {label}: floor GET /login {floor * 1000:.1f} ms")
    for name, url in pages(campaign_id, township_id).items():
        seconds = best_time(client, url, runs)
        print(f"   {name:32s} {seconds * 1000:8.1f} ms  {seconds / floor:7.1f}× the login page")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scale", nargs="?", default="city", choices=["county", "city", "province"])
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    started = time.perf_counter()
    app, campaign_id, counts = generate(args.scale, args.database)
    with app.app_context():
        dialect = db.engine.dialect.name
        township_id = db.session.scalar(select(Unit.id).where(Unit.kind == "township").order_by(Unit.id))
    print(f"{args.scale} on {dialect}: {counts}, loaded in {time.perf_counter() - started:.0f} s")
    measure(app, campaign_id, township_id, args.requests, "right after the load, no ANALYZE")
    if dialect == "postgresql":
        with app.app_context():
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        measure(app, campaign_id, township_id, args.requests, "after ANALYZE")


if __name__ == "__main__":
    main()
