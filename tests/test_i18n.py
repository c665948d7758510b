"""Every page is Chinese by default, English a click away, and no string lacks its Chinese."""
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext

ROOT = Path(__file__).resolve().parent.parent
ZH_PO = ROOT / "campaign" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def messages_in_source() -> set[str]:
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def zh_catalogue():
    with open(ZH_PO, "rb") as handle:
        return read_po(handle)


def test_every_string_in_the_code_has_a_chinese_translation():
    catalogue = zh_catalogue()
    untranslated = sorted(
        msgid for msgid in messages_in_source()
        if catalogue.get(msgid) is None or not catalogue.get(msgid).string or catalogue.get(msgid).fuzzy
    )
    assert untranslated == [], "run `make i18n` and translate these"


def test_the_compiled_catalogue_is_the_one_in_the_po_file(app):
    """A missing or stale .mo fails silently (English shown); this catches it."""
    catalogue = zh_catalogue()
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        stale = [m.id for m in catalogue if m.id and isinstance(m.id, str) and m.string and gettext(m.id) != m.string]
    assert stale == [], "run `make translations`"


def test_pages_are_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and "专项行动工作台" in page
    assert "Log in" not in page


def test_a_chinese_browser_gets_chinese_and_an_english_one_english(client):
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)


def test_english_is_a_click_away_and_sticks(client):
    response = client.post_form("/language", {"locale": "en", "next": "/login"})
    assert response.status_code == 302
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and "登录" not in page
    client.post_form("/language", {"locale": "zh_Hans_CN", "next": "/login"})
    assert "登录" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["fr", "../../etc"])
def test_an_unknown_language_is_refused(client, locale):
    assert client.post_form("/language", {"locale": locale}).status_code == 400


def test_the_language_switch_does_not_redirect_off_site(client):
    response = client.post_form("/language", {"locale": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"
