"""A village secretary on a cheap phone over 3G: log in, report one quantity with two ordinary phone
photos (4000 × 3000, ~2.5 MB each), tap 上报 — under `make serve`'s gunicorn configuration.

    .venv/bin/python bench/phone_journey.py                 # Fast 3G and Slow 3G, plus the dropped link
    .venv/bin/python bench/phone_journey.py --profile fast3g
    .venv/bin/python bench/phone_journey.py --legacy        # the old `gunicorn --workers 4` (sync, 30 s)

Debian's Chromium (Playwright) at 360 × 740 with the network throttled through the DevTools protocol
(`Network.emulateNetworkConditions`); the app runs under gunicorn with the repository's
`gunicorn.conf.py` on a scratch instance holding the demo county. Between the browser and gunicorn a
small TCP relay counts the bytes each way, so "bytes sent for the photos" and "page weight" are what
went over the wire. Printed: machine time (what the user waits for, typing excluded), taps, bytes up
and down, and the outcome checked in the database. A second journey cuts the network right after 上报
and restores it 30 s later: the report must arrive exactly once.

Everything is bounded (``--time-limit`` per journey) and runs on loopback only.
"""
import argparse
import io
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-gpu"]
PASSWORD = "Linan2026"
# DevTools' throttling takes bytes per second.
PROFILES = {
    "fast3g": {"latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8},
    "slow3g": {"latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8},
}


# --- the photos: what a phone camera makes --------------------------------------------------------

def phone_photo(seed: int, target_bytes: int = 2_500_000) -> bytes:
    """A 4000 × 3000 JPEG of about ``target_bytes`` with the EXIF a phone writes (time, GPS)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:3000, 0:4000]
    base = np.stack([(x / 16 + seed * 40) % 256, (y / 12) % 256, ((x + y) / 28) % 256], axis=-1)
    noise = rng.normal(0, 7, size=(3000, 4000, 3))
    pixels = np.clip(base + noise, 0, 255).astype("uint8")
    image = Image.fromarray(pixels, "RGB")
    exif = Image.Exif()
    exif[0x0132] = "2026:10:12 09:30:00"
    exif.get_ifd(0x8769)[0x9003] = "2026:10:12 09:30:00"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (30.0, 14.0, 24.0), 3: "E", 4: (119.0, 43.0, 12.0)})
    for quality in (92, 88, 84, 80, 75, 70):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, exif=exif)
        if buffer.tell() <= target_bytes * 1.15:
            break
    return buffer.getvalue()


# --- a byte-counting relay between the browser and gunicorn ------------------------------------------

class Relay:
    """Loopback TCP relay counting bytes up (browser → server) and down."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.up = 0
        self.down = 0
        self.lock = threading.Lock()
        self.server = socket.create_server((HOST, 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            up, down, self.up, self.down = self.up, self.down, 0, 0
        return up, down

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection((HOST, self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, "up"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, "down"), daemon=True).start()

    def _pipe(self, source, sink, direction):
        try:
            while chunk := source.recv(65536):
                with self.lock:
                    setattr(self, direction, getattr(self, direction) + len(chunk))
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.server.close()


# --- the app under `make serve`'s configuration ---------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, folder: Path, legacy: bool):
        self.folder = folder
        self.port = free_port()
        self.database = folder / "bench.sqlite3"
        self.env = {**os.environ, "INSTANCE_PATH": str(folder), "DATABASE_URL": f"sqlite:///{self.database}",
                    "UPLOAD_DIR": str(folder / "uploads"), "SECRET_KEY": secrets.token_hex(32),
                    "FLASK_APP": "wsgi"}
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        for command in (["db", "upgrade"], ["demo"]):
            subprocess.run(flask + command, cwd=ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL)
        if legacy:
            command = [str(BIN / "gunicorn"), "--workers", "4", "--bind", f"{HOST}:{self.port}", "wsgi:app"]
        else:
            command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"{HOST}:{self.port}",
                       "wsgi:app"]
        self.log = open(folder / "gunicorn.log", "w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start: see " + str(folder / "gunicorn.log"))

    def query(self, sql: str, *args):
        with sqlite3.connect(self.database) as connection:
            return connection.execute(sql, args).fetchall()

    def worker_timeouts(self) -> int:
        return (self.folder / "gunicorn.log").read_text(errors="replace").count("WORKER TIMEOUT")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# --- the journey ------------------------------------------------------------------------------------

@dataclass
class Outcome:
    name: str
    ok: bool = False
    seconds: float = 0.0
    taps: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    notes: list = field(default_factory=list)


class Phone:
    """One phone: a Chromium context at 360 × 740 with throttling applied to its page."""

    def __init__(self, browser, base_url: str, profile: str | None):
        self.context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                           has_touch=True, locale="zh-CN", base_url=base_url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(240_000)
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        if profile:
            self.cdp.send("Network.emulateNetworkConditions", {"offline": False, **PROFILES[profile]})
        self.taps = 0
        self.typing = 0
        self.typing_seconds = 0.0

    def tap(self, locator):
        self.taps += 1
        locator.click()

    def type(self, locator, text):
        started = time.monotonic()
        self.typing += 1
        locator.fill(text)
        self.typing_seconds += time.monotonic() - started

    def pick_files(self, locator, files):
        """Opening the picker, one tap per photo, and 完成."""
        self.taps += 2 + len(files)
        locator.set_input_files(files)

    def close(self):
        self.context.close()


def quantity_assignment(server: Server, username: str):
    rows = server.query(
        "SELECT a.id FROM assignment a JOIN task t ON t.id = a.task_id JOIN user_account u ON u.unit_id = a.unit_id "
        "JOIN campaign c ON c.id = t.campaign_id WHERE lower(u.username) = ? AND t.measure = 'quantity' "
        "AND a.status IN ('not_started', 'draft') AND c.status = 'active' ORDER BY t.position, a.id", username.lower())
    if not rows:
        raise SystemExit(f"the demo gives {username} no open quantity task")
    return rows[0][0]


def report_with_photos(phone: Phone, server: Server, relay: Relay, photos, cut_after_submit: bool,
                       time_limit: float) -> Outcome:
    outcome = Outcome("dropped link" if cut_after_submit else "report")
    page = phone.page
    assignment_id = quantity_assignment(server, "village")
    before = server.query("SELECT count(*) FROM instalment WHERE assignment_id = ?", assignment_id)[0][0]
    relay.reset()
    started = time.monotonic()
    page.goto("/login")
    phone.type(page.get_by_label("用户名"), "Village")  # the phone keyboard capitalises the first letter
    phone.type(page.get_by_label("密码"), PASSWORD)
    phone.tap(page.get_by_role("button", name="登录"))
    page.wait_for_url("**/")
    phone.tap(page.locator(f"a[href$='/reports/{assignment_id}']").first)
    page.wait_for_url(f"**/reports/{assignment_id}")
    form = page.locator("form.report-form")
    phone.type(form.locator("input[name=quantity]"), "12")
    phone.pick_files(form.locator("input[type=file][name=photos]"), photos)
    phone.type(form.locator("textarea[name=note]"), "村口、水库大坝各一块")
    phone.tap(form.locator("button[name=submit]"))
    if cut_after_submit:
        time.sleep(1.0)
        phone.context.set_offline(True)
        time.sleep(30)
        phone.context.set_offline(False)
    deadline = time.monotonic() + time_limit
    while time.monotonic() < deadline:
        status = server.query("SELECT status FROM assignment WHERE id = ?", assignment_id)[0][0]
        if status == "submitted":
            break
        time.sleep(0.25)
    outcome.seconds = time.monotonic() - started - phone.typing_seconds - (30 if cut_after_submit else 0)
    outcome.taps = phone.taps
    outcome.bytes_up, outcome.bytes_down = relay.reset()
    after = server.query("SELECT count(*), coalesce(sum(quantity), 0) FROM instalment WHERE assignment_id = ?",
                         assignment_id)[0]
    evidence = server.query("SELECT count(*) FROM evidence WHERE assignment_id = ?", assignment_id)[0][0]
    status = server.query("SELECT status FROM assignment WHERE id = ?", assignment_id)[0][0]
    outcome.ok = status == "submitted" and after[0] == before + 1 and evidence == 2
    outcome.notes.append(f"status {status}, instalments +{after[0] - before}, evidence {evidence}, "
                         f"{phone.typing} typing groups")
    if server.worker_timeouts():
        outcome.notes.append(f"{server.worker_timeouts()} WORKER TIMEOUT in the gunicorn log")
        outcome.ok = False
    return outcome


def page_weights(browser, base_url: str, relay: Relay, server: Server) -> list[tuple[str, int, int]]:
    """Bytes down for the reporter's pages on a first and on a repeat visit (no throttling needed)."""
    phone = Phone(browser, base_url, None)
    page = phone.page
    page.goto("/login")
    page.get_by_label("用户名").fill("village")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    assignment_id = quantity_assignment(server, "village")
    weights = []
    for name, url in (("my tasks", "/reports/"), ("report page", f"/reports/{assignment_id}"),
                      ("water points", "/water/")):
        relay.reset()
        page.goto(url, wait_until="networkidle")
        first = relay.reset()[1]
        page.goto(url, wait_until="networkidle")
        repeat = relay.reset()[1]
        weights.append((name, first, repeat))
    phone.close()
    return weights


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=[*PROFILES, "both"], default="both")
    parser.add_argument("--legacy", action="store_true", help="the old gunicorn --workers 4 (sync, 30 s timeout)")
    parser.add_argument("--no-drop", action="store_true", help="skip the dropped-link journey")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds a journey may take")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    profiles = list(PROFILES) if args.profile == "both" else [args.profile]
    photos_folder = Path(tempfile.mkdtemp(prefix="phone-photos-"))
    photos = []
    for seed in (1, 2):
        path = photos_folder / f"IMG_2026101{seed}_0930.jpg"
        path.write_bytes(phone_photo(seed))
        photos.append(str(path))
    print(f"photos: {', '.join(f'{Path(p).stat().st_size / 1e6:.2f} MB' for p in photos)} (4000 × 3000, EXIF)")
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        journeys = [(profile, False) for profile in profiles]
        if not args.no_drop:
            journeys.append((profiles[0], True))
        for profile, drop in journeys:
            folder = Path(tempfile.mkdtemp(prefix="phone-journey-"))
            server = Server(folder, args.legacy)
            relay = Relay(server.port)
            try:
                phone = Phone(browser, f"http://{HOST}:{relay.port}", profile)
                try:
                    outcome = report_with_photos(phone, server, relay, photos, drop, args.time_limit)
                except Exception as error:  # a timeout or an error page is a result, not a crash of the bench
                    outcome = Outcome("dropped link" if drop else "report", notes=[f"failed: {error}"[:300]])
                    if server.worker_timeouts():
                        outcome.notes.append(f"{server.worker_timeouts()} WORKER TIMEOUT in the gunicorn log")
                outcome.name = f"{outcome.name}, {profile}"
                results.append(outcome)
                phone.close()
                if not drop and profile == profiles[0]:
                    weights = page_weights(browser, f"http://{HOST}:{relay.port}", relay, server)
            finally:
                relay.close()
                server.stop()
                shutil.rmtree(folder, ignore_errors=True)
        browser.close()
    shutil.rmtree(photos_folder, ignore_errors=True)

    print(f"\nserver: {'gunicorn --workers 4 (sync, default timeout)' if args.legacy else 'gunicorn -c gunicorn.conf.py'}")
    print(f"{'journey':<24} {'result':<7} {'machine s':>9} {'taps':>5} {'KB up':>8} {'KB down':>8}  notes")
    for outcome in results:
        print(f"{outcome.name:<24} {'ok' if outcome.ok else 'FAILED':<7} {outcome.seconds:>9.1f} {outcome.taps:>5} "
              f"{outcome.bytes_up / 1024:>8.0f} {outcome.bytes_down / 1024:>8.0f}  {'; '.join(outcome.notes)}")
    if "weights" in locals():
        print(f"\n{'page':<16} {'first visit KB':>15} {'repeat KB':>10}")
        for name, first, repeat in weights:
            print(f"{name:<16} {first / 1024:>15.1f} {repeat / 1024:>10.1f}")
    sys.exit(0 if all(outcome.ok for outcome in results) else 1)


if __name__ == "__main__":
    main()
