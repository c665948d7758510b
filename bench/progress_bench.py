"""Workbook compile time against the floor, dashboard requests per second, peak memory — in one run.

    .venv/bin/python bench/progress_bench.py [county|city] [--requests 300] [--database URL]

1. Generates the scale data (bench/scale_data.py) in a scratch database.
2. Workbook: gathering the figures (the SQL) and building the .xlsx, best of 3; the floor is xlsxwriter
   writing the very same cells (read back from the workbook into ready lists) with write_row, no formats.
3. Requests per second through the Flask test client (no network), logged in as an admin at the root:
   the county dashboard, a township drill-down and, as the yardstick, /healthz of the same app.
4. Peak memory: tracemalloc's peak while compiling the workbook, and the process's peak RSS.
"""
import argparse
import io
import os
import platform
import re
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402
import sqlalchemy  # noqa: E402
import xlsxwriter  # noqa: E402
from flask_babel import force_locale  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from bench.scale_data import BENCH_PASSWORD, BENCH_USER, generate  # noqa: E402
from campaign.campaigns.models import Campaign  # noqa: E402
from campaign.extensions import db  # noqa: E402
from campaign.summary.workbook import build_workbook  # noqa: E402
from campaign.summary.workbook_data import gather  # noqa: E402
from campaign.units.models import Unit  # noqa: E402

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def best_of(runs, action):
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def ready_lists(content: bytes):
    """The cells of every sheet, as lists of rows, read back from the workbook."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [(sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]) for sheet in book.worksheets]


def floor_workbook(sheets) -> bytes:
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    for title, rows in sheets:
        sheet = book.add_worksheet(title)
        for index, row in enumerate(rows):
            sheet.write_row(index, 0, row)
    book.close()
    return output.getvalue()


def log_in(client):
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    response = client.post("/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code


def requests_per_second(client, url, count):
    for _ in range(5):
        assert client.get(url).status_code == 200, url
    started = time.perf_counter()
    for _ in range(count):
        response = client.get(url)
        assert response.status_code == 200
    elapsed = time.perf_counter() - started
    return count / elapsed, elapsed / count * 1000


def query_count(app, client, url):
    statements = []

    def listener(*args):
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scale", nargs="?", default="city", choices=["county", "city"])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()

    started = time.perf_counter()
    app, campaign_id, counts = generate(args.scale, args.database)
    generated = time.perf_counter() - started
    with app.app_context():
        dialect = db.engine.dialect.name
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLAlchemy {sqlalchemy.__version__}, xlsxwriter {xlsxwriter.__version__}, database {dialect}")
    print(f"data ({args.scale}): {counts}, generated in {generated:.1f} s")

    with app.app_context(), force_locale("zh_Hans_CN"):
        campaign = db.session.get(Campaign, campaign_id)
        root = campaign.root_unit
        gather_best, gather_median, data = best_of(3, lambda: gather(campaign, root, "基准测试"))
        build_best, build_median, content = best_of(3, lambda: build_workbook(data))
        sheets = ready_lists(content)
        cells = sum(len(row) for _, rows in sheets for row in rows)
        floor_best, floor_median, _ = best_of(3, lambda: floor_workbook(sheets))

        db.session.expire_all()
        tracemalloc.start()
        build_workbook(gather(campaign, root, "基准测试"))
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        township = db.session.scalar(
            select(Unit).where(Unit.kind == "township", Unit.path.like(f"{root.path}%")).order_by(Unit.id)
        )
        township_id = township.id

    print(f"workbook: {len(content) / 1024:.0f} KiB, {cells:,} cells over {len(sheets)} sheets "
          f"({len(data.progress.rows)} summary rows, {len(data.progress.units)} detail rows, {len(data.late)} late rows)")
    print(f"  gather (SQL + figures): best {gather_best:.2f} s, median {gather_median:.2f} s")
    print(f"  build (xlsxwriter, formats): best {build_best:.2f} s, median {build_median:.2f} s")
    print(f"  compile total: best {gather_best + build_best:.2f} s")
    print(f"  floor (write_row of the same cells, no formats): best {floor_best:.2f} s, median {floor_median:.2f} s")
    print(f"  build / floor: {build_best / floor_best:.2f}×")
    print(f"  tracemalloc peak while compiling: {traced_peak / 2**20:.0f} MiB")

    client = app.test_client()
    log_in(client)
    pages = {
        "/healthz": "/healthz",
        "dashboard (county)": f"/progress/campaigns/{campaign_id}",
        "drill-down (one township)": f"/progress/campaigns/{campaign_id}/units/{township_id}",
    }
    for label, url in pages.items():
        rps, ms = requests_per_second(client, url, args.requests)
        queries = query_count(app, client, url)
        print(f"requests: {label}: {rps:.0f} req/s ({ms:.1f} ms each, {args.requests} requests, {queries} SQL)")
    few = max(10, args.requests // 30)
    for label, url in {"print page": f"/summary/campaigns/{campaign_id}/print",
                       "workbook download": f"/summary/campaigns/{campaign_id}/workbook.xlsx"}.items():
        rps, ms = requests_per_second(client, url, few)
        print(f"requests: {label}: {rps:.1f} req/s ({ms:.0f} ms each, {few} requests, "
              f"{query_count(app, client, url)} SQL)")
    print(f"peak RSS of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
