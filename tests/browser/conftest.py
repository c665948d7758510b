"""A live server on loopback and Debian's headless Chromium driven by Playwright.

Without /usr/bin/chromium these tests are skipped, unless REQUIRE_BROWSER is set (CI sets it),
in which case they fail: CI must never pass by silently skipping the browser.
"""
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.factories import DEFAULT_PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-background-networking",  # the machine has no network: don't let Chromium keep trying
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def chromium_path():
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"Chromium not found at {CHROMIUM}; install the Debian packages chromium and chromium-driver")
    pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser, db):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """screenshot(page, name): saved under SCREENSHOT_DIR (CI keeps them as artifacts)."""
    folder = Path(os.environ.get("SCREENSHOT_DIR", "test-artifacts/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


DEAD_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


@pytest.fixture
def desktop_page(browser, db):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def offline_tiles(app, monkeypatch):
    """Map tiles from a dead address on loopback: the machine has no network, tiles simply fail."""
    monkeypatch.setitem(app.config, "MAP_TILES", "custom")
    monkeypatch.setitem(app.config, "MAP_TILE_URL", DEAD_TILES)
    monkeypatch.setitem(app.config, "MAP_TILE_ATTRIBUTION", "test tiles")


def log_in(page, live_server, username, password=DEFAULT_PASSWORD):
    """Log in through the login form, as a user does, and land on the home page."""
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")


def image_loaded(image) -> bool:
    """Whether an <img> shows a picture, waiting for it to finish loading (a busy machine is slow)."""
    image.scroll_into_view_if_needed()
    return image.evaluate("""image => image.complete ? image.naturalWidth > 0 : new Promise((done) => {
        image.addEventListener("load", () => done(image.naturalWidth > 0));
        image.addEventListener("error", () => done(false));
    })""")
