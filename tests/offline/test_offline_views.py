"""The server's side of offline capture: the service worker at the root, the manifest, a fresh CSRF
token for replaying saved forms, the outbox page, and the forms the outbox may capture."""
import json
from html import unescape

from tests.reporting.conftest import assignment_of, make_running_campaign
from tests.water.conftest import make_point


def test_the_service_worker_is_served_from_the_root_and_always_revalidated(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "campaign-pages" in response.get_data(as_text=True)


def test_the_manifest_installs_the_app_for_the_whole_site_in_chinese(client):
    response = client.get("/manifest.webmanifest", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"] == "专项行动工作台"
    assert manifest["id"] == "/" and manifest["scope"] == "/" and manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert sizes == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_a_logged_in_user_gets_a_csrf_token_that_is_never_cached(as_village_reporter):
    response = as_village_reporter.get("/session/csrf", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert len(response.get_json()["csrf_token"]) > 20


def test_the_fresh_token_is_accepted_by_a_form(as_village_reporter, db):
    token = as_village_reporter.get("/session/csrf").get_json()["csrf_token"]
    response = as_village_reporter.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    assert response.status_code == 302


def test_an_anonymous_visitor_gets_no_token(client):
    response = client.get("/session/csrf", headers={"Accept": "application/json"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def outbox_config(html):
    return json.loads(unescape(html.split("id=\"outbox-config\" data-config='", 1)[1].split("'", 1)[0]))


def test_every_page_tells_the_outbox_who_is_logged_in_and_its_words_in_chinese(as_village_reporter, users):
    html = as_village_reporter.get("/").get_data(as_text=True)
    config = outbox_config(html)
    assert config["user"] == str(users.village_reporter.id)
    assert config["csrfUrl"] == "/session/csrf" and config["serviceWorker"] == "/sw.js"
    assert config["messages"]["badge"] == "{n} 条待上传"
    assert "{n} 条记录尚未上传" in config["messages"]["confirmLogout"]
    assert 'id="outbox-badge"' in html and "data-outbox-logout" in html
    assert 'rel="manifest"' in html


def test_the_login_page_tells_the_outbox_nobody_is_logged_in(client):
    html = client.get("/login").get_data(as_text=True)
    config = outbox_config(html)
    assert config == {"user": ""}
    assert 'id="outbox-badge"' not in html


def test_the_outbox_and_offline_pages_read_in_chinese(as_village_reporter):
    outbox = as_village_reporter.get("/outbox").get_data(as_text=True)
    assert "待上传" in outbox and "立即上传" in outbox and "没有待上传的记录。" in outbox
    offline = as_village_reporter.get("/offline").get_data(as_text=True)
    assert "无网络连接" in offline and "我的任务" in offline


def test_the_report_and_water_forms_can_be_captured_offline(as_village_reporter, db, tree):
    running = make_running_campaign(tree)
    report = assignment_of(running.signs, tree.village_a1)
    point = make_point(tree.village_a1)
    db.session.commit()
    html = as_village_reporter.get(f"/reports/{report.id}").get_data(as_text=True)
    assert html.count("data-outbox ") + html.count("data-outbox>") == 1  # the one-pass report form
    assert 'data-outbox-label="设置永久性宣传标牌"' in html
    for url in (f"/water/{point.id}/patrols/new", f"/water/{point.id}/hazards/new"):
        assert "data-outbox" in as_village_reporter.get(url).get_data(as_text=True), url


def test_a_label_is_escaped_in_its_attribute(as_village_reporter, db, tree):
    point = make_point(tree.village_a1, name='塘"><script>x</script>')
    db.session.commit()
    html = as_village_reporter.get(f"/water/{point.id}/patrols/new").get_data(as_text=True)
    assert "<script>x</script>" not in html
