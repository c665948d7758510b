"""Province-scale unit import: generate a tree, import it through the same service, import it again.

    .venv/bin/python bench/unit_import.py
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/scratch .venv/bin/python bench/unit_import.py

The tree: 1 province, 11 cities, 9 counties each (99), 15 townships per county (1,485), 15 villages per
township (22,275) and one code-less school per township (1,485): 25,356 units. The SQLite run uses
a fresh file; BENCH_DATABASE_URL must name a scratch PostgreSQL database: its schema is dropped.
"""
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from campaign import create_app  # noqa: E402
from campaign.extensions import db  # noqa: E402
from campaign.units.models import Unit  # noqa: E402
from campaign.units.importing import import_units  # noqa: E402

CITIES, COUNTIES, TOWNSHIPS, VILLAGES = 11, 9, 15, 15


def province_csv() -> bytes:
    out = io.StringIO()
    out.write("code,name,kind,parent_code,households,students\n")
    province = "330000000000"
    out.write(f"{province},浙江省,province,,,\n")
    for c in range(1, CITIES + 1):
        city = f"33{c:02d}00000000"
        out.write(f"{city},第{c}市,city,{province},,\n")
        for k in range(1, COUNTIES + 1):
            county = f"33{c:02d}{k:02d}000000"
            out.write(f"{county},第{c}市第{k}县,county,{city},,\n")
            for t in range(1, TOWNSHIPS + 1):
                township = f"33{c:02d}{k:02d}{t:03d}000"
                out.write(f"{township},{c}-{k}-{t}镇,township,{county},,\n")
                out.write(f",{c}-{k}-{t}镇中心小学,school,{township},,{300 + t}\n")
                for v in range(1, VILLAGES + 1):
                    out.write(f"33{c:02d}{k:02d}{t:03d}{v:03d},{c}-{k}-{t}-{v}村,village,{township},{200 + v},\n")
    return out.getvalue().encode("utf-8")


def fresh_app(url):
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        with db.engine.begin() as connection:
            if db.engine.dialect.name == "postgresql":
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


def timed_import(app, data):
    with app.app_context():
        started = time.perf_counter()
        result = import_units(data, "province.csv")
        assert result.ok, result.errors[:5]
        db.session.commit()
        seconds = time.perf_counter() - started
        total = db.session.scalar(select(func.count(Unit.id)))
    return result, seconds, total


def run(label, url, data):
    app = fresh_app(url)
    first, first_seconds, total = timed_import(app, data)
    second, second_seconds, _ = timed_import(app, data)
    # One county (15 townships, 255 units below it) moves to another city.
    row = "330101000000,第1市第1县,county,{}"
    moved = data.replace(row.format("330100000000").encode(), row.format("330200000000").encode())
    assert moved != data
    third, third_seconds, _ = timed_import(app, moved)
    print(f"{label:<11} rows {first.rows:>6}  first import {first_seconds:6.2f} s "
          f"(created {first.created})  re-import {second_seconds:6.2f} s "
          f"(created {second.created}, updated {second.updated}, unchanged {second.unchanged})  "
          f"move a county {third_seconds:6.2f} s (updated {third.updated}, moved {third.moved})  units {total}")


def main():
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    started = time.perf_counter()
    data = province_csv()
    rows = data.count(b"\n") - 1
    print(f"generated {rows} rows, {len(data) / 1e6:.1f} MB in {time.perf_counter() - started:.2f} s")
    with tempfile.TemporaryDirectory() as directory:
        run("SQLite", f"sqlite:///{directory}/bench.sqlite3", data)
    if os.environ.get("BENCH_DATABASE_URL"):
        run("PostgreSQL", os.environ["BENCH_DATABASE_URL"], data)


if __name__ == "__main__":
    main()
