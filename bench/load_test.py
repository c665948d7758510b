"""Deadline afternoon: 300 village reporters log in, upload a photo, add a figure and submit at once,
while county users load the campaign, the progress dashboard and the workbook. Then the database
is checked: every submission and every file exactly once, no 5xx, no "database is locked".

    .venv/bin/python bench/load_test.py                       # SQLite (WAL) in a scratch folder
    .venv/bin/python bench/load_test.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench_load

The app runs under gunicorn (``--workers``, default 4) on 127.0.0.1; the data is prepared with the
app's own code (the demo county, one village_reporter per village, a few county officers).
A PostgreSQL URL must name a scratch database: its schema is dropped. Exit status 0 when the
checks pass, 1 otherwise. Everything is bounded: one pass per reporter, ``--county-rounds`` per
county user, ``--time-limit`` for the whole run.
"""
import argparse
import hashlib
import http.client
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
PASSWORD = "Load-test-2026"
REQUEST_TIMEOUT = 120
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
VERSION = re.compile(r'<input[^>]*name="version"[^>]*value="(\d+)"')
LOCKED = b"database is locked"
REPORTER_KINDS = ("login_page", "login", "home", "report_page", "upload", "instalment", "report_reload", "submit")
COUNTY_PAGES = (
    ("campaign_page", "/campaigns/{id}"),
    ("progress_page", "/progress/campaigns/{id}"),
    ("workbook", "/summary/campaigns/{id}/workbook.xlsx"),
)


# --- preparing the data through the app's own code -------------------------------------------

@dataclass
class Reporter:
    index: int
    username: str
    user_id: int
    assignment_id: int
    quantity: int
    photo: bytes
    sha256: str = ""

    def __post_init__(self):
        self.sha256 = hashlib.sha256(self.photo).hexdigest()


@dataclass
class Plan:
    campaign_id: int
    reporters: list
    county_users: list


def make_photo(index: int) -> bytes:
    """A small JPEG, different for every reporter (noise seeded by the index)."""
    from PIL import Image, ImageDraw

    rng = random.Random(index)
    noise = Image.frombytes("RGB", (80, 60), rng.randbytes(80 * 60 * 3)).resize((640, 480))
    draw = ImageDraw.Draw(noise)
    draw.rectangle((20, 20, 300, 80), fill=(index % 256, (index * 7) % 256, 90))
    draw.text((30, 40), f"reporter {index}", fill=(255, 255, 255))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def drop_everything(engine):
    from sqlalchemy import inspect, text

    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            for table in inspect(connection).get_table_names():
                connection.execute(text(f'DROP TABLE "{table}"'))


def prepare(app, reporters: int, county_users: int) -> Plan:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from campaign.accounts.models import Role
    from campaign.accounts.services import create_user
    from campaign.campaigns.models import Assignment, AssignmentStatus, Task
    from campaign.demo.services import load_demo
    from campaign.extensions import db
    from campaign.units.models import Unit

    with app.app_context():
        drop_everything(db.engine)
        upgrade()
        result = load_demo()
        campaign_id = result.campaign_id
        villages = db.session.scalars(select(Unit).where(Unit.kind.in_(("village", "community")))
                                      .order_by(Unit.path)).all()
        if len(villages) < reporters:
            raise SystemExit(f"the demo has {len(villages)} villages and communities, fewer than --reporters "
                             f"{reporters}")
        # A task each village has not started: the quantity task with a photo and the lowest position.
        open_tasks = dict(db.session.execute(
            select(Assignment.unit_id, Assignment.id)
            .join(Task, Assignment.task_id == Task.id)
            .where(Assignment.campaign_id == campaign_id, Assignment.status == AssignmentStatus.NOT_STARTED.value,
                   Task.measure == "quantity", Task.requires_photo.is_(True))
            .order_by(Task.position.desc(), Assignment.id.desc())
        ).all())
        plan_reporters = []
        for index, village in enumerate(villages[:reporters]):
            user = create_user(username=f"load-v{index:03d}", password=PASSWORD,
                               role=Role.VILLAGE_REPORTER.value, unit=village, display_name=f"{village.name}文书")
            plan_reporters.append(Reporter(index, user.username, user.id, open_tasks[village.id],
                                           quantity=1 + (index * 7) % 40, photo=make_photo(index)))
        county = db.session.scalars(select(Unit).where(Unit.kind == "county")).first()
        plan_county = []
        for index in range(county_users):
            user = create_user(username=f"load-county-{index}", password=PASSWORD,
                               role=Role.COUNTY_OFFICER.value, unit=county, display_name=f"区防火办{index}")
            plan_county.append(user.username)
        db.session.commit()
        return Plan(campaign_id, plan_reporters, plan_county)


# --- the HTTP side: stdlib only, one connection per request (gunicorn's sync workers close) ----

@dataclass
class Sample:
    kind: str
    status: int
    seconds: float
    started: float
    error: str = ""


class Recorder:
    def __init__(self):
        self.samples: list[Sample] = []
        self.problems: list[str] = []
        self.lock = threading.Lock()

    def add(self, sample: Sample):
        with self.lock:
            self.samples.append(sample)

    def problem(self, text: str):
        with self.lock:
            self.problems.append(text)


class Browser:
    """Cookies, a CSRF token read from the last page, and every request timed and scanned."""

    def __init__(self, port: int, recorder: Recorder, who: str, deadline: float):
        self.port = port
        self.recorder = recorder
        self.who = who
        self.deadline = deadline
        self.cookies: dict[str, str] = {}
        self.csrf = None

    def request(self, kind, method, path, body=None, content_type=None):
        if time.monotonic() > self.deadline:
            raise TimeoutError("time limit reached")
        headers = {"Accept-Language": "zh-CN,zh;q=0.9", "User-Agent": "campaign-desk-load-test"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        started = time.monotonic()
        connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            elapsed = time.monotonic() - started
            self.recorder.add(Sample(kind, 0, elapsed, started, error=type(error).__name__))
            self.recorder.problem(f"{self.who} {kind} {method} {path}: {type(error).__name__}: {error}")
            raise
        finally:
            connection.close()
        elapsed = time.monotonic() - started
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["expires"] and "1970" in morsel["expires"] or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self.recorder.add(Sample(kind, response.status, elapsed, started))
        if response.status >= 500:
            self.recorder.problem(f"{self.who} {kind} {method} {path}: HTTP {response.status}: {data[:300]!r}")
        if LOCKED in data.lower():
            self.recorder.problem(f"{self.who} {kind} {method} {path}: 'database is locked' in the response")
        if response.headers.get_content_type() == "text/html":
            match = CSRF.search(data.decode("utf-8", "replace"))
            if match:
                self.csrf = match.group(1)
        return response.status, response.headers, data

    def get(self, kind, path):
        return self.request(kind, "GET", path)

    def post_form(self, kind, path, fields):
        body = urlencode({"csrf_token": self.csrf or "", **fields}).encode()
        return self.request(kind, "POST", path, body, "application/x-www-form-urlencoded")

    def post_files(self, kind, path, fields, files):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in {"csrf_token": self.csrf or "", **fields}.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, data, mimetype) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         f"Content-Type: {mimetype}\r\n\r\n".encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(kind, "POST", path, b"".join(parts), f"multipart/form-data; boundary={boundary}")


def expect(browser: Browser, step: str, outcome, status: int, location: str | None = None) -> bytes:
    got, headers, data = outcome
    if got != status or (location and location not in (headers.get("Location") or "")):
        flashes = re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', data.decode("utf-8", "replace"))
        raise StepFailed(f"{browser.who} {step}: HTTP {got} (expected {status}"
                         f"{' to ' + location if location else ''}) {flashes[:3]}")
    return data


class StepFailed(Exception):
    pass


def run_reporter(reporter: Reporter, port: int, recorder: Recorder, start_at: float, deadline: float,
                 today: str, done: list):
    time.sleep(max(0.0, start_at - time.monotonic()))
    browser = Browser(port, recorder, reporter.username, deadline)
    report = f"/reports/{reporter.assignment_id}"
    try:
        expect(browser, "login page", browser.get("login_page", "/login"), 200)
        expect(browser, "login", browser.post_form("login", "/login", {"username": reporter.username,
                                                                      "password": PASSWORD}), 302)
        expect(browser, "home", browser.get("home", "/"), 200)
        expect(browser, "report page", browser.get("report_page", report), 200)
        photo = {"photos": (f"IMG_{reporter.index:04d}.jpg", reporter.photo, "image/jpeg")}
        expect(browser, "upload", browser.post_files("upload", f"{report}/evidence", {}, photo), 302, report)
        expect(browser, "instalment", browser.post_form("instalment", f"{report}/instalments", {
            "quantity": str(reporter.quantity), "reported_on": today, "place": "村口、主要进山路口"}), 302, report)
        page = expect(browser, "report reload", browser.get("report_reload", report), 200).decode("utf-8")
        version = VERSION.search(page)
        if not version:
            raise StepFailed(f"{reporter.username}: no version field on the report page")
        expect(browser, "submit", browser.post_form("submit", report, {
            "version": version.group(1), "note": f"已完成，共{reporter.quantity}处。", "submit": "y"}), 302, report)
        done.append(reporter.index)
    except StepFailed as failure:
        recorder.problem(str(failure))
    except (OSError, http.client.HTTPException, TimeoutError):
        pass  # already recorded


def run_county_user(username: str, port: int, recorder: Recorder, campaign_id: int, deadline: float,
                    rounds: int, reporters_done: threading.Event, skipped: set):
    browser = Browser(port, recorder, username, deadline)
    try:
        expect(browser, "login page", browser.get("login_page", "/login"), 200)
        expect(browser, "login", browser.post_form("login", "/login", {"username": username,
                                                                      "password": PASSWORD}), 302)
        for _ in range(rounds):
            for kind, template in COUNTY_PAGES:
                if kind in skipped:
                    continue
                status, headers, data = browser.get(kind, template.format(id=campaign_id))
                if status == 404:
                    skipped.add(kind)  # that page is not built yet
                elif status != 200:
                    recorder.problem(f"{username} {kind}: HTTP {status}")
                elif kind == "workbook" and not data.startswith(b"PK"):
                    recorder.problem(f"{username} workbook: not an XLSX file")
            if reporters_done.is_set():
                break
            reporters_done.wait(1.0)
    except StepFailed as failure:
        recorder.problem(str(failure))
    except (OSError, http.client.HTTPException, TimeoutError):
        pass


# --- gunicorn -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--bind", f"{HOST}:{port}",
         "--backlog", "2048", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    started = time.monotonic()
    while time.monotonic() - started < 60:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log_path}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log_path}")


def stop(process: subprocess.Popen):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- checking the database afterwards ---------------------------------------------------------

def verify(app, plan: Plan, finished: set) -> list[str]:
    from sqlalchemy import func, select

    from campaign.audit.models import AuditRecord
    from campaign.campaigns.models import Assignment, Instalment
    from campaign.evidence.cli import find_orphans
    from campaign.evidence.models import Evidence, StoredFile
    from campaign.evidence.services import stored_path
    from campaign.extensions import db

    problems = []
    with app.app_context():
        ids = [reporter.assignment_id for reporter in plan.reporters]
        assignments = {row.id: row for row in db.session.scalars(select(Assignment).where(Assignment.id.in_(ids)))}
        instalments = defaultdict(list)
        for row in db.session.scalars(select(Instalment).where(Instalment.assignment_id.in_(ids))):
            instalments[row.assignment_id].append(row)
        evidence = defaultdict(list)
        for row in db.session.scalars(select(Evidence).where(Evidence.assignment_id.in_(ids))):
            evidence[row.assignment_id].append(row)
        submits = dict(db.session.execute(
            select(AuditRecord.entity_id, func.count()).where(AuditRecord.action == "report.submit",
                                                              AuditRecord.entity_id.in_([str(i) for i in ids]))
            .group_by(AuditRecord.entity_id)).all())
        files = defaultdict(list)
        for row in db.session.scalars(select(StoredFile)):
            files[row.sha256].append(row)
        for reporter in plan.reporters:
            name = reporter.username
            assignment = assignments[reporter.assignment_id]
            if reporter.index not in finished:
                problems.append(f"{name}: did not finish its run")
                continue
            if assignment.status != "submitted":
                problems.append(f"{name}: report {assignment.id} is {assignment.status}, not submitted")
            rows = instalments[assignment.id]
            if [(row.quantity, row.reported_by_id) for row in rows] != [(reporter.quantity, reporter.user_id)]:
                problems.append(f"{name}: instalments {[(r.quantity, r.reported_by_id) for r in rows]}, expected "
                                f"one of {reporter.quantity}")
            items = evidence[assignment.id]
            if len(items) != 1 or items[0].stored_file.sha256 != reporter.sha256:
                problems.append(f"{name}: {len(items)} evidence rows (expected 1 with its photo)")
            if submits.get(str(assignment.id), 0) != 1:
                problems.append(f"{name}: {submits.get(str(assignment.id), 0)} submit records in the audit trail")
            stored = files.get(reporter.sha256, [])
            if len(stored) != 1:
                problems.append(f"{name}: {len(stored)} stored_file rows for its photo")
                continue
            path = stored_path(stored[0])
            if not path.exists():
                problems.append(f"{name}: its photo is missing on disk ({path})")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != reporter.sha256:
                problems.append(f"{name}: its photo on disk has the wrong content")
        expected_files = {reporter.sha256 for reporter in plan.reporters if reporter.index in finished}
        extra = set(files) - expected_files
        if extra:
            problems.append(f"{len(extra)} stored_file rows that no reporter uploaded")
        report = find_orphans(older_than_seconds=0)
        if report.orphans or report.temp_files:
            problems.append(f"upload folder: {len(report.orphans)} orphan files, {len(report.temp_files)} temp files")
        from campaign.progress.counters import FIELDS, counter_rows
        from campaign.progress.models import ProgressCounter
        kept = {(c.campaign_id, c.task_id, c.unit_id): tuple(getattr(c, name) for name in FIELDS)
                for c in db.session.scalars(select(ProgressCounter)) if c.expected}
        computed = {(r["campaign_id"], r["task_id"], r["unit_id"]): tuple(r[name] for name in FIELDS)
                    for r in counter_rows(db.session.connection())}
        if kept != computed:
            wrong = sum(1 for key in kept.keys() | computed.keys() if kept.get(key) != computed.get(key))
            problems.append(f"progress counters: {wrong} rows differ from the counts computed afresh")
    return problems


# --- figures -----------------------------------------------------------------------------------

def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[position]


def summarise(samples: list[Sample], wall: float) -> list[dict]:
    by_kind = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    by_kind["all reporter"] = [sample for sample in samples if sample.kind in REPORTER_KINDS]
    order = [*REPORTER_KINDS, *(kind for kind, _ in COUNTY_PAGES), "all reporter"]
    rows = []
    for kind in [*order, *sorted(set(by_kind) - set(order))]:
        items = by_kind.get(kind)
        if not items:
            continue
        seconds = [item.seconds for item in items]
        rows.append({
            "kind": kind,
            "count": len(items),
            "errors": sum(1 for item in items if item.status == 0 or item.status >= 500),
            "per_second": len(items) / wall,
            "p50_ms": percentile(seconds, 0.50) * 1000,
            "p95_ms": percentile(seconds, 0.95) * 1000,
            "p99_ms": percentile(seconds, 0.99) * 1000,
            "max_ms": max(seconds) * 1000,
            "mean_ms": statistics.fmean(seconds) * 1000,
        })
    return rows


def print_table(rows):
    print(f"{'request':<15}{'count':>7}{'5xx/err':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for row in rows:
        print(f"{row['kind']:<15}{row['count']:>7}{row['errors']:>8}{row['per_second']:>8.1f}{row['p50_ms']:>9.0f}"
              f"{row['p95_ms']:>9.0f}{row['p99_ms']:>9.0f}{row['max_ms']:>9.0f}")


# --- main ---------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="a scratch database URL (default: a new SQLite file)")
    parser.add_argument("--reporters", type=int, default=300)
    parser.add_argument("--county-users", type=int, default=3)
    parser.add_argument("--county-rounds", type=int, default=20, help="page rounds per county user, at most")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--ramp", type=float, default=60.0, help="reporters start spread over this many seconds")
    parser.add_argument("--time-limit", type=float, default=900.0, help="the whole load phase, in seconds")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="campaign-load-"))
    url = args.database or f"sqlite:///{scratch / 'load.sqlite3'}"
    env = {
        **os.environ,
        "CAMPAIGN_DESK_ENV": "production",
        "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback; behind the proxy it is HTTPS
        "DATABASE_URL": url,
        "SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "UPLOAD_DIR": str(scratch / "uploads"),
        "INSTANCE_PATH": str(scratch / "instance"),
    }
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "SECRET_KEY", "UPLOAD_DIR", "INSTANCE_PATH")})
    from campaign import create_app
    from campaign.timeutil import local_today

    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": env["UPLOAD_DIR"],
                      "SECRET_KEY": env["SECRET_KEY"]})
    dialect = urlsplit(url).scheme.split("+")[0]
    print(f"database: {dialect}; scratch folder: {scratch}")
    began = time.monotonic()
    plan = prepare(app, args.reporters, args.county_users)
    with app.app_context():
        today = local_today().isoformat()
    print(f"prepared {len(plan.reporters)} reporters and {len(plan.county_users)} county users "
          f"in {time.monotonic() - began:.1f} s")

    load_before = os.getloadavg()[0]
    port = free_port()
    process = start_gunicorn(env, port, args.workers, scratch / "gunicorn.log")
    recorder = Recorder()
    finished: list[int] = []
    skipped: set[str] = set()
    reporters_done = threading.Event()
    try:
        start = time.monotonic()
        deadline = start + args.time_limit
        rng = random.Random(6)
        threads = [threading.Thread(target=run_reporter, daemon=True, args=(
            reporter, port, recorder, start + rng.uniform(0, args.ramp), deadline, today, finished))
            for reporter in plan.reporters]
        county = [threading.Thread(target=run_county_user, daemon=True, args=(
            username, port, recorder, plan.campaign_id, deadline, args.county_rounds, reporters_done, skipped))
            for username in plan.county_users]
        for thread in [*threads, *county]:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline + REQUEST_TIMEOUT - time.monotonic()))
        reporters_done.set()
        for thread in county:
            thread.join(max(0.0, deadline + REQUEST_TIMEOUT - time.monotonic()))
        wall = time.monotonic() - start
    finally:
        stop(process)

    rows = summarise(recorder.samples, wall)
    print(f"\n{len(finished)}/{len(plan.reporters)} reporters finished in {wall:.1f} s "
          f"({len(recorder.samples)} requests, {len(recorder.samples) / wall:.1f} req/s; "
          f"workers: {args.workers}; cores: {os.cpu_count()}; python {platform.python_version()}; "
          f"load average before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f})")
    if skipped:
        print(f"pages not built yet (404, skipped): {', '.join(sorted(skipped))}")
    print_table(rows)
    problems = list(recorder.problems) + verify(app, plan, set(finished))
    gunicorn_log = (scratch / "gunicorn.log").read_text(errors="replace")
    for marker in ("Traceback", "WORKER TIMEOUT", "database is locked"):
        if marker in gunicorn_log:
            problems.append(f"gunicorn log contains {marker!r} ({gunicorn_log.count(marker)}×)")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "database": dialect, "reporters": len(plan.reporters), "finished": len(finished),
            "workers": args.workers, "cores": os.cpu_count(), "python": platform.python_version(),
            "wall_seconds": wall, "load_average_before": load_before, "requests": len(recorder.samples), "rows": rows, "problems": problems,
        }, indent=2, ensure_ascii=False))
    print()
    if problems:
        print(f"FAILED: {len(problems)} problems")
        for problem in problems[:40]:
            print(" -", problem)
        print(f"scratch folder kept: {scratch}")
        return 1
    print("OK: every submission and every file is in the database exactly once; no 5xx; "
          "no 'database is locked' reached a user.")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
