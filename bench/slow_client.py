"""A village phone on 3G uploads two camera photos (~5 MB) over ≥ 60 s: saved under `make serve`'s
gunicorn configuration, killed under gunicorn's old default (sync workers, 30 s timeout).

    .venv/bin/python bench/slow_client.py [--seconds 65] [--photo-mb 2.5] [--only conf|sync]

Prepares a scratch instance (SQLite, the demo county: user ``village``, the forest-fire month), starts

* ``conf``: gunicorn --config gunicorn.conf.py  (what `make serve` and deploy/ run), and
* ``sync``: gunicorn --workers 4 wsgi:app with an empty config file (the old `make serve`),

each on a free loopback port, logs in as the village reporter through the login form, opens the report
page, and posts the two photos to its upload form from a raw socket, writing the body in small chunks
paced to take ``--seconds`` (Fast 3G's ~750 kbit/s is ~60 s for 5 MB). Both runs go in parallel.
Afterwards it reads the answer, gunicorn's log (``WORKER TIMEOUT``) and the database (the evidence rows
with the photos' SHA-256), prints the figures, stops both servers, deletes the scratch folder. Exit
status 0 when the configured server saved both photos; 1 otherwise. Everything is bounded in time.
"""
import argparse
import hashlib
import html.parser
import http.client
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
USERNAME, PASSWORD = "village", "Linan2026"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
CHUNK = 8 * 1024
HARD_LIMIT_SECONDS = 600


# --- data -----------------------------------------------------------------------------------------

def make_photo(seed: int, megabytes: float) -> bytes:
    """A 4000 × 3000 JPEG of about ``megabytes`` (a gradient with noise: compresses like a photo)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    height, width = 3000, 4000
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    base = np.stack(np.broadcast_arrays((y * 0.6 + x * 0.3) % 256, x * 0.7 + y * 0, (255 - y) * 0.8 + x * 0), axis=-1)
    amplitude = 5.2 * megabytes  # ≈ 0.19 MB per unit of noise at quality 80, measured
    pixels = np.clip(base + rng.normal(0, amplitude, (height, width, 3)).astype(np.float32), 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(out, "JPEG", quality=80)
    return out.getvalue()


def prepare(scratch: Path) -> tuple[dict, int]:
    """The demo county in a scratch SQLite file; returns the environment and the report's id."""
    env = {
        **os.environ,
        "CAMPAIGN_DESK_ENV": "production",
        "SECRET_KEY": "slow-client-bench-" + uuid.uuid4().hex,
        "INSTANCE_PATH": str(scratch / "instance"),
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "UPLOAD_DIR": str(scratch / "uploads"),
    }
    os.environ.update({key: env[key] for key in ("CAMPAIGN_DESK_ENV", "SECRET_KEY", "INSTANCE_PATH",
                                                  "DATABASE_URL", "UPLOAD_DIR")})
    from flask_migrate import upgrade
    from sqlalchemy import select

    from campaign import create_app
    from campaign.accounts.models import User
    from campaign.campaigns.models import Assignment, Task
    from campaign.demo.services import load_demo
    from campaign.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        village = db.session.scalar(select(User).where(User.username == USERNAME))
        assignment_id = db.session.scalar(
            select(Assignment.id).join(Task, Task.id == Assignment.task_id)
            .where(Assignment.unit_id == village.unit_id, Task.requires_photo.is_(True),
                   Assignment.status.in_(("draft", "returned")))
            .order_by(Assignment.id).limit(1)
        )
    if assignment_id is None:
        raise SystemExit("the demo village has no report that takes photos")
    return env, assignment_id


def evidence_hashes(env: dict, assignment_id: int) -> set[str]:
    from sqlalchemy import select

    from campaign import create_app
    from campaign.evidence.models import Evidence, StoredFile

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    with app.app_context():
        from campaign.extensions import db

        return set(db.session.scalars(
            select(StoredFile.sha256).join(Evidence, Evidence.stored_file_id == StoredFile.id)
            .where(Evidence.assignment_id == assignment_id)
        ))


# --- gunicorn -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(kind: str, env: dict, port: int, scratch: Path) -> tuple[subprocess.Popen, Path]:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    if kind == "conf":
        command = [gunicorn, "--config", str(ROOT / "gunicorn.conf.py"), "--bind", f"{HOST}:{port}"]
    else:
        empty = scratch / "empty.conf.py"
        empty.write_text("")  # gunicorn would otherwise read ./gunicorn.conf.py by itself
        command = [gunicorn, "--config", str(empty), "--workers", "4", "--bind", f"{HOST}:{port}",
                   "--no-control-socket", "wsgi:app"]
    log_path = scratch / f"gunicorn-{kind}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    started = time.monotonic()
    while time.monotonic() - started < 60:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn ({kind}) exited with {process.returncode}; see {log_path}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                return process, log_path
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise SystemExit(f"gunicorn ({kind}) did not answer within 60 s; see {log_path}")


def stop(process: subprocess.Popen):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- the phone ------------------------------------------------------------------------------------

class Forms(html.parser.HTMLParser):
    """The page's forms: action, enctype and their inputs (name, type, value)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "enctype": attrs.get("enctype") or "",
                               "inputs": []})
        elif tag in ("input", "button", "textarea") and self.forms:
            self.forms[-1]["inputs"].append((attrs.get("name"), attrs.get("type") or tag, attrs.get("value") or ""))


@dataclass
class Phone:
    port: int
    cookies: dict = field(default_factory=dict)
    csrf: str = ""

    def request(self, method, path, body=None, content_type=None):
        headers = {"Accept-Language": "zh-CN,zh;q=0.9"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        self.keep_cookies(response.msg.get_all("Set-Cookie") or [])
        match = CSRF.search(data.decode("utf-8", "replace"))
        if match:
            self.csrf = match.group(1)
        return response.status, response.headers, data

    def keep_cookies(self, headers):
        for header in headers:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value

    def log_in(self):
        self.request("GET", "/login")
        status, headers, _ = self.request("POST", "/login", urlencode(
            {"csrf_token": self.csrf, "username": USERNAME, "password": PASSWORD}).encode(),
            "application/x-www-form-urlencoded")
        if status != 302:
            raise SystemExit(f"login refused: HTTP {status}")

    def upload_form(self, report_path: str) -> tuple[str, list[tuple[str, str]], str]:
        """(action, the other fields to send, the file field's name) of the report page's upload form."""
        status, _, page = self.request("GET", report_path)
        if status != 200:
            raise SystemExit(f"report page: HTTP {status}")
        parser = Forms()
        parser.feed(page.decode("utf-8", "replace"))
        for form in parser.forms:
            files = [name for name, kind, _ in form["inputs"] if kind == "file" and name]
            if "multipart" in form["enctype"] and files:
                fields = [(name, value) for name, kind, value in form["inputs"]
                          if name and kind in ("hidden",)]
                action = urlsplit(urljoin(report_path, form["action"] or report_path)).path
                return action, fields, files[0]
        raise SystemExit("the report page has no upload form")


def multipart(fields, file_field, photos) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields]
    for filename, data in photos:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"'
                     f"\r\nContent-Type: image/jpeg\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class Outcome:
    kind: str
    body_bytes: int = 0
    sent_bytes: int = 0
    send_seconds: float = 0.0
    answer_seconds: float = 0.0
    status: str = ""
    answer: str = ""
    error: str = ""
    worker_timeouts: int = 0
    saved: int = 0


def slow_post(phone: Phone, path: str, body: bytes, content_type: str, seconds: float, outcome: Outcome,
              deadline: float):
    """Headers at once, then the body in CHUNK pieces paced over ``seconds``; then the answer."""
    head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}:{phone.port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nAccept-Language: zh-CN\r\nConnection: close\r\n"
            f"Cookie: {'; '.join(f'{k}={v}' for k, v in phone.cookies.items())}\r\n\r\n").encode()
    pause = seconds / max(1, len(body) // CHUNK)
    outcome.body_bytes = len(body)
    started = time.monotonic()
    with socket.create_connection((HOST, phone.port), timeout=15) as connection:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)  # no big kernel buffer in between
        try:
            connection.sendall(head)
            for offset in range(0, len(body), CHUNK):
                if time.monotonic() > deadline:
                    raise TimeoutError("bench time limit")
                connection.sendall(body[offset:offset + CHUNK])
                outcome.sent_bytes = offset + len(body[offset:offset + CHUNK])
                next_at = started + pause * (offset // CHUNK + 1)
                time.sleep(max(0.0, next_at - time.monotonic()))
        except OSError as error:
            outcome.error = f"{type(error).__name__} after {time.monotonic() - started:.1f} s"
        outcome.send_seconds = time.monotonic() - started
        answer = b""
        try:
            connection.settimeout(60)
            while len(answer) < 200_000:
                data = connection.recv(65536)
                if not data:
                    break
                answer += data
        except OSError as error:
            outcome.error = outcome.error or f"{type(error).__name__} while reading the answer"
        outcome.answer_seconds = time.monotonic() - started
    first_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    outcome.status = first_line or "(no answer)"
    text = answer.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
    location = re.search(rb"\r\nLocation: ([^\r]+)", answer)
    outcome.answer = location.group(1).decode() if location else re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))[:120]


def run(kind: str, env: dict, assignment_id: int, photos, seconds: float, scratch: Path, deadline: float,
        results: dict):
    outcome = Outcome(kind)
    results[kind] = outcome
    port = free_port()
    process, log_path = start_gunicorn(kind, env, port, scratch)
    try:
        phone = Phone(port)
        phone.log_in()
        report_path = f"/reports/{assignment_id}"
        action, fields, file_field = phone.upload_form(report_path)
        fields = [(name, phone.csrf if name == "csrf_token" else value) for name, value in fields]
        body, content_type = multipart(fields, file_field, photos)
        slow_post(phone, action, body, content_type, seconds, outcome, deadline)
    finally:
        stop(process)
        log = log_path.read_text(errors="replace")
        outcome.worker_timeouts = log.count("WORKER TIMEOUT")


def out_of_time(*_):
    raise TimeoutError("bench time limit")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=65.0, help="how long the body takes to send (≥ 60)")
    parser.add_argument("--photo-mb", type=float, default=2.5, help="size of each of the two photos")
    parser.add_argument("--only", choices=("conf", "sync"), help="run one server only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, database)")
    args = parser.parse_args()
    if args.seconds * 1.5 + 200 > HARD_LIMIT_SECONDS:
        raise SystemExit(f"--seconds too long for the {HARD_LIMIT_SECONDS} s limit of this bench")
    deadline = time.monotonic() + HARD_LIMIT_SECONDS
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(HARD_LIMIT_SECONDS + 60)

    scratch = Path(tempfile.mkdtemp(prefix="slow-client-"))
    try:
        started = time.monotonic()
        env, assignment_id = prepare(scratch)
        print(f"scratch instance ready in {time.monotonic() - started:.1f} s (demo county, report {assignment_id})")
        kinds = [args.only] if args.only else ["conf", "sync"]
        photos = {kind: [(f"IMG_2026{index}{number}.jpg", make_photo(index * 10 + number, args.photo_mb))
                         for number in (1, 2)] for index, kind in enumerate(kinds)}
        for kind in kinds:
            sizes = " + ".join(f"{len(data) / 1e6:.2f} MB" for _, data in photos[kind])
            print(f"{kind}: two 4000 × 3000 photos, {sizes}")
        results: dict[str, Outcome] = {}
        threads = [threading.Thread(target=run, args=(kind, env, assignment_id, photos[kind], args.seconds,
                                                      scratch, deadline, results)) for kind in kinds]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=HARD_LIMIT_SECONDS)
        saved_hashes = evidence_hashes(env, assignment_id)
        ok = True
        print()
        print("| server | body | sent | send time | answer after | answer | WORKER TIMEOUT | photos saved |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for kind in kinds:
            outcome = results[kind]
            outcome.saved = sum(hashlib.sha256(data).hexdigest() in saved_hashes for _, data in photos[kind])
            label = "gunicorn.conf.py (gthread)" if kind == "conf" else "old default (4 sync workers)"
            answer = f"{outcome.status} {outcome.answer}".strip()
            if outcome.error:
                answer += f" [{outcome.error}]"
            print(f"| {label} | {outcome.body_bytes / 1e6:.2f} MB | {outcome.sent_bytes / 1e6:.2f} MB "
                  f"| {outcome.send_seconds:.1f} s | {outcome.answer_seconds:.1f} s | {answer} "
                  f"| {outcome.worker_timeouts} | {outcome.saved}/2 |")
            if kind == "conf":
                status_code = (outcome.status.split(" ") + ["", ""])[1]
                ok = outcome.saved == 2 and outcome.worker_timeouts == 0 and status_code in ("200", "302")
        if args.keep:
            print(f"\nscratch kept: {scratch}")
        return 0 if ok else 1
    finally:
        signal.alarm(0)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
