"""A village reporter on a throttled phone link reports one quantity with two 4000 × 3000 camera photos
in one pass (figure, photos, 上报), in Debian's Chromium at 360 × 740, network throttled over CDP:

- with JavaScript (field-form.js shrinks the photos on the phone), on Fast 3G and on Slow 3G;
- without JavaScript (the plain multipart form sends the originals), on Fast 3G: the floor measured in
  the same run, so the figures are read as ratios, not as absolute times of this machine.

    .venv/bin/python bench/one_pass_report.py            # --skip-baseline to leave out the slow no-JS run

The app runs in a threaded werkzeug server on 127.0.0.1 (as ``make run``) with a scratch SQLite file.
It prints, per run: the seconds from the tap on 上报 to the saved report on screen, the bytes of the
POST, the taps. Exit status 1 when a report was not saved exactly once.
"""
import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-gpu"]
NETWORKS = {  # Chromium DevTools presets
    "Fast 3G": {"latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8},
    "Slow 3G": {"latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8},
}
PASSWORD = "Bench-2026-one-pass"
POSTED = []  # Content-Length of each POST to a report, as the server received it


def counting_posts(wsgi_app):
    def app(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].startswith("/reports/"):
            POSTED.append(int(environ.get("CONTENT_LENGTH") or 0))
        return wsgi_app(environ, start_response)
    return app


def camera_photos(folder: Path) -> list[Path]:
    from PIL import Image, ImageDraw

    width, height = 4000, 3000
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    paths = []
    for number, color in enumerate(((200, 30, 30), (30, 90, 200)), start=1):
        image = Image.merge("RGB", (Image.blend(gradient, noise, 0.3), gradient,
                                    Image.blend(gradient.transpose(Image.Transpose.ROTATE_180), noise, 0.2)))
        draw = ImageDraw.Draw(image)
        for left in range(0, width, 200):
            draw.rectangle([left, left % height, left + 120, left % height + 300], fill=color)
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2026:10:08 09:3{number}:00"
        path = folder / f"IMG_{number}.jpg"
        image.save(path, "JPEG", quality=92, exif=exif)
        paths.append(path)
    return paths


def prepare(folder: Path):
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from campaign import create_app
    from campaign.extensions import db
    from tests import factories
    from tests.reporting.conftest import assignment_of, make_running_campaign

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
                      "SECRET_KEY": "bench", "UPLOAD_DIR": str(folder / "uploads"), "WTF_CSRF_ENABLED": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        tree = factories.make_tree()
        reporters = [factories.make_user(role="village_reporter", unit=tree.village_a1, username=f"reporter{n}",
                                         password=PASSWORD) for n in range(3)]
        made = make_running_campaign(tree)
        report_id = assignment_of(made.signs, tree.village_a1).id
        db.session.commit()
        names = [user.username for user in reporters]
    app.wsgi_app = counting_posts(app.wsgi_app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, f"http://127.0.0.1:{server.server_port}", names, report_id


def journey(browser, base, username, report_id, photos, network, javascript):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True,
                                  has_touch=True, java_script_enabled=javascript)
    page = context.new_page()
    POSTED.clear()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **NETWORKS[network]})
    taps = 0
    started = time.perf_counter()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    taps += 3
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/reports/{report_id}")  # the task link on the home page
    taps += 1
    page.get_by_label("数量").fill("5")
    page.get_by_label("拍照").set_input_files([str(path) for path in photos])
    taps += 3  # the field, the camera/gallery, the choice
    if javascript:
        page.locator(".file-queue li").nth(1).filter(has_text="KB").wait_for(timeout=120_000)
    tapped = time.perf_counter()
    with page.expect_navigation(timeout=600_000):
        page.get_by_role("button", name="上报", exact=True).click(no_wait_after=True)
    taps += 1
    page.wait_for_load_state("load")
    saved = time.perf_counter()
    ok = "已上报" in page.locator("h1").inner_text()
    context.close()
    return {"network": network, "javascript": javascript, "upload_s": saved - tapped, "journey_s": saved - started,
            "posted_bytes": sum(POSTED), "taps": taps, "ok": ok}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-baseline", action="store_true", help="leave out the no-JavaScript run")
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="one-pass-bench-") as scratch:
        folder = Path(scratch)
        photos = camera_photos(folder)
        print(f"photos: {', '.join(f'{path.stat().st_size / 1e6:.2f} MB' for path in photos)}")
        app, base, usernames, report_id = prepare(folder)
        runs = [("Fast 3G", True), ("Slow 3G", True)] + ([] if options.skip_baseline else [("Fast 3G", False)])
        results = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for (network, javascript), username in zip(runs, usernames):
                result = journey(browser, base, username, report_id, photos, network, javascript)
                results.append(result)
                # Each run reports the same task again: put it back to draft through the app's own code.
                with app.app_context():
                    from campaign.campaigns.models import Assignment
                    from campaign.extensions import db
                    assignment = db.session.get(Assignment, report_id)
                    assignment.status = "draft"
                    db.session.commit()
                print(f"{network:8} {'JS   ' if javascript else 'no JS'}  upload {result['upload_s']:6.1f} s  "
                      f"journey {result['journey_s']:6.1f} s  sent {result['posted_bytes'] / 1e6:5.2f} MB  "
                      f"taps {result['taps']}  {'saved' if result['ok'] else 'NOT SAVED'}")
            browser.close()
        floor = next((r for r in results if not r["javascript"]), None)
        shrunk = next(r for r in results if r["javascript"] and r["network"] == "Fast 3G")
        if floor:
            print(f"Fast 3G, shrunk on the phone vs originals: "
                  f"{shrunk['upload_s'] / floor['upload_s']:.2f} × the time, "
                  f"{shrunk['posted_bytes'] / floor['posted_bytes']:.2f} × the bytes")
        with app.app_context():
            from campaign.campaigns.models import Instalment
            from campaign.extensions import db
            from sqlalchemy import func, select
            count = db.session.scalar(select(func.count()).select_from(Instalment))
        print(f"instalments saved: {count} for {len(results)} runs")
        return 0 if all(r["ok"] for r in results) and count == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
