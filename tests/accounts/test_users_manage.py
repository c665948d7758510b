"""Listing, creating, editing users and resetting their passwords."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from campaign.accounts.models import User
from campaign.accounts.services import AccountError, create_user
from campaign.audit.models import AuditRecord
from tests import factories
from tests.conftest import log_in, queries_for_page


def new_user_form(unit, **overrides):
    data = {
        "username": "zhangsan",
        "display_name": "张三",
        "phone": "13800001111",
        "role": "village_reporter",
        "unit_id": str(unit.id),
        "unit_code": "",
        "password": "Passw0rd456",
    }
    data.update(overrides)
    return data


def edit_form(user, **overrides):
    data = {
        "display_name": user.display_name,
        "phone": user.phone or "",
        "role": user.role,
        "unit_id": str(user.unit_id),
        "unit_code": "",
        "active": "y" if user.active else "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != "" or key != "active"}


def page_text(response):
    return response.get_data(as_text=True)


def cell(text):
    return f"<td>{text}</td>"


# --- The list -------------------------------------------------------------------------------

def test_the_list_shows_the_users_of_the_area_with_role_unit_phone_and_status(as_county_officer, users, db):
    users.village_reporter.phone = "13900002222"
    users.viewer.active = False
    db.session.commit()
    page = page_text(as_county_officer.get("/users/"))
    assert cell("village_reporter") in page
    assert cell("村（社区）填报员") in page
    assert "夏禹桥村委会" in page
    assert "13900002222" in page
    assert "已停用" in page


def test_township_officer_sees_only_the_users_of_the_township(as_township_officer, users, reporter_b):
    page = page_text(as_township_officer.get("/users/"))
    assert cell("village_reporter") in page
    assert cell("school_reporter") in page
    assert cell("reporter_b") not in page  # township B
    assert cell("county_officer") not in page  # the county above
    assert "编辑" not in page  # township officers see but do not manage


def test_the_list_does_not_show_another_county(as_admin, other_county):
    assert cell("outsider") not in page_text(as_admin.get("/users/"))


def test_search_by_username_or_name(as_admin, users, db):
    users.inspector.display_name = "王督导"
    db.session.commit()
    by_name = page_text(as_admin.get("/users/?q=王督"))
    assert cell("inspector") in by_name and cell("village_reporter") not in by_name
    by_username = page_text(as_admin.get("/users/?q=school"))
    assert cell("school_reporter") in by_username and cell("inspector") not in by_username


def test_search_treats_wildcards_as_plain_text(as_admin, users):
    page = page_text(as_admin.get("/users/?q=%25"))
    assert cell("village_reporter") not in page


def test_filter_by_role(as_admin, users):
    page = page_text(as_admin.get("/users/?role=school_reporter"))
    assert cell("school_reporter") in page
    assert cell("agency_reporter") not in page


def test_last_login_is_shown_in_local_time(as_admin, users, db):
    users.viewer.last_login_at = datetime(2024, 10, 1, 1, 30, tzinfo=timezone.utc)
    db.session.commit()
    assert "2024-10-01 09:30" in page_text(as_admin.get("/users/?q=viewer"))


def test_the_list_has_pages_of_fifty(as_admin, users, tree, db):
    for number in range(60):
        factories.make_user(role="village_reporter", unit=tree.village_a2, username=f"bulk{number:02d}")
    db.session.commit()
    first = page_text(as_admin.get("/users/?q=bulk"))
    second = page_text(as_admin.get("/users/?q=bulk&page=2"))
    assert first.count("<tr>") - 1 == 50
    assert second.count("<tr>") - 1 == 10
    assert cell("bulk59") in second and cell("bulk59") not in first




def test_the_list_costs_the_same_number_of_queries_for_many_users_and_units(as_admin, tree, db):
    few = queries_for_page(as_admin, "/users/")
    for number in range(30):
        village = factories.make_unit("village", tree.township_b, f"新村{number}")
        factories.make_user(role="village_reporter", unit=village, username=f"many{number}")
    db.session.commit()
    assert queries_for_page(as_admin, "/users/") == few


def test_names_typed_by_users_are_escaped(as_admin, users, db):
    users.viewer.display_name = "<script>alert(1)</script>"
    db.session.commit()
    page = page_text(as_admin.get("/users/?q=viewer"))
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page


# --- Creating -------------------------------------------------------------------------------

def test_the_office_creates_a_user_who_can_then_log_in(app, as_county_officer, tree, db):
    response = as_county_officer.post_form("/users/new", new_user_form(tree.village_a1))
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "zhangsan"))
    assert (user.display_name, user.role, user.unit_id, user.phone) == ("张三", "village_reporter", tree.village_a1.id, "13800001111")
    audit = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "user.create"))
    assert audit.entity_id == str(user.id) and audit.username == "county_officer"
    log_in(app.test_client(), "zhangsan", "Passw0rd456")


def test_a_unit_may_be_chosen_by_division_code(as_admin, tree, db):
    data = new_user_form(tree.village_a2, unit_id="", unit_code=tree.village_a2.code)
    assert as_admin.post_form("/users/new", data).status_code == 302
    assert db.session.scalar(select(User.unit_id).where(User.username == "zhangsan")) == tree.village_a2.id


def test_an_unknown_division_code_is_refused_and_the_form_keeps_what_was_typed(as_admin, tree, db):
    response = as_admin.post_form("/users/new", new_user_form(tree.village_a1, unit_id="", unit_code="999999999999"))
    page = page_text(response)
    assert response.status_code == 200
    assert "999999999999" in page and "张三" in page and "13800001111" in page
    assert db.session.query(User).filter_by(username="zhangsan").count() == 0


def test_a_unit_must_be_chosen(as_admin, tree, db):
    response = as_admin.post_form("/users/new", new_user_form(tree.village_a1, unit_id=""))
    assert response.status_code == 200
    assert db.session.query(User).filter_by(username="zhangsan").count() == 0


def test_the_unit_select_offers_only_the_units_of_the_area(as_admin, other_county):
    page = page_text(as_admin.get("/users/new"))
    assert "夏禹桥村委会" in page
    assert "五常村委会" not in page


def test_a_unit_of_another_county_cannot_be_chosen(as_admin, other_county, db):
    by_id = new_user_form(other_county.village, unit_id=str(other_county.village.id))
    assert as_admin.post_form("/users/new", by_id).status_code == 200
    by_code = new_user_form(other_county.village, unit_id="", unit_code=other_county.village.code)
    response = as_admin.post_form("/users/new", by_code)
    assert "该单位不在您的管辖范围内" in page_text(response)
    assert db.session.query(User).filter_by(username="zhangsan").count() == 0


def test_county_officer_cannot_create_an_administrator(as_county_officer, tree, db):
    page = page_text(as_county_officer.get("/users/new"))
    assert 'value="admin"' not in page
    response = as_county_officer.post_form("/users/new", new_user_form(tree.county, role="admin"))
    assert response.status_code == 200
    assert db.session.query(User).filter_by(username="zhangsan").count() == 0


def test_the_service_refuses_an_administrator_from_a_county_officer(users, tree):
    with pytest.raises(AccountError) as refused:
        create_user(username="boss", password="Passw0rd456", role="admin", unit=tree.county, actor=users.county_officer)
    assert refused.value.code == "role_not_grantable"


def test_the_admin_can_create_an_administrator(as_admin, tree, db):
    assert as_admin.post_form("/users/new", new_user_form(tree.county, role="admin")).status_code == 302
    assert db.session.scalar(select(User.role).where(User.username == "zhangsan")) == "admin"


@pytest.mark.parametrize(
    "role, home, fits",
    [
        ("village_reporter", "township_a", False),
        ("village_reporter", "community_a", True),
        ("township_officer", "village_a1", False),
        ("township_officer", "township_b", True),
        ("school_reporter", "carrier", False),
        ("school_reporter", "kindergarten_b", True),
        ("agency_reporter", "weather", True),
        ("county_officer", "township_a", False),
        ("inspector", "township_a", True),
    ],
)
def test_a_role_must_fit_the_kind_of_its_unit(role, home, fits, as_admin, tree, db):
    response = as_admin.post_form("/users/new", new_user_form(getattr(tree, home), role=role))
    assert response.status_code == (302 if fits else 200)
    if not fits:
        assert "该角色不能隶属于此类单位" in page_text(response)
    assert db.session.query(User).filter_by(username="zhangsan").count() == int(fits)


def test_a_taken_username_is_refused(as_admin, users, tree, db):
    response = as_admin.post_form("/users/new", new_user_form(tree.village_a1, username="viewer"))
    assert "用户名 viewer 已被使用" in page_text(response)
    assert db.session.query(User).filter_by(username="viewer").count() == 1


@pytest.mark.parametrize(
    "password, message", [("Ab1", "密码至少需要 8 位"), ("abcdefghijk", "密码须同时包含字母和数字")]
)
def test_a_weak_password_is_refused_in_chinese(password, message, as_admin, tree, db):
    response = as_admin.post_form("/users/new", new_user_form(tree.village_a1, password=password))
    assert message in page_text(response)
    assert db.session.query(User).filter_by(username="zhangsan").count() == 0


# --- Editing --------------------------------------------------------------------------------

def test_the_office_edits_a_user_and_the_change_is_audited(as_county_officer, users, tree, db):
    target = users.village_reporter
    data = edit_form(target, display_name="李四", phone="13700003333", unit_id=str(tree.village_a2.id))
    assert as_county_officer.post_form(f"/users/{target.id}/edit", data).status_code == 302
    db.session.expire_all()
    changed = db.session.get(User, target.id)
    assert (changed.display_name, changed.phone, changed.unit_id) == ("李四", "13700003333", tree.village_a2.id)
    audit = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "user.update"))
    assert audit.after["unit_id"] == tree.village_a2.id and audit.before["unit_id"] == tree.village_a1.id


def test_the_edit_form_is_filled_with_the_users_data(as_admin, users, db):
    users.school_reporter.phone = "13600004444"
    db.session.commit()
    page = page_text(as_admin.get(f"/users/{users.school_reporter.id}/edit"))
    assert "13600004444" in page
    assert f'<option selected value="{users.school_reporter.unit_id}">' in page


def test_deactivating_a_user_ends_their_sessions(app, as_admin, users, db):
    reporter = log_in(app.test_client(), "village_reporter")
    data = edit_form(users.village_reporter, active="")
    assert as_admin.post_form(f"/users/{users.village_reporter.id}/edit", data).status_code == 302
    response = reporter.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_edit_cannot_break_the_role_unit_fit(as_admin, users, tree, db):
    data = edit_form(users.village_reporter, unit_id=str(tree.school_a.id))
    response = as_admin.post_form(f"/users/{users.village_reporter.id}/edit", data)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, users.village_reporter.id).unit_id == tree.village_a1.id


def test_the_admin_cannot_deactivate_themself(as_admin, users, db):
    response = as_admin.post_form(f"/users/{users.admin.id}/edit", edit_form(users.admin, active=""))
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, users.admin.id).active


def test_county_officer_cannot_promote_someone_to_administrator(as_county_officer, users, db):
    data = edit_form(users.viewer, role="admin")
    assert as_county_officer.post_form(f"/users/{users.viewer.id}/edit", data).status_code == 200
    db.session.expire_all()
    assert db.session.get(User, users.viewer.id).role == "viewer"


# --- Resetting a password -------------------------------------------------------------------

def test_resetting_a_password_sets_it_and_ends_the_users_sessions(app, as_admin, users, db):
    reporter = log_in(app.test_client(), "village_reporter")
    data = {"new_password": "Fresh1Passw0rd", "confirm_password": "Fresh1Passw0rd"}
    assert as_admin.post_form(f"/users/{users.village_reporter.id}/password", data).status_code == 302
    assert "/login" in reporter.get("/").headers["Location"]
    log_in(app.test_client(), "village_reporter", "Fresh1Passw0rd")
    audit = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "user.password"))
    assert audit.entity_id == str(users.village_reporter.id) and audit.username == "admin"


def test_a_reset_needs_the_same_password_twice_and_a_strong_one(as_admin, users, db):
    url = f"/users/{users.viewer.id}/password"
    differ = as_admin.post_form(url, {"new_password": "Fresh1Passw0rd", "confirm_password": "Other1Passw0rd"})
    assert "两次输入的新密码不一致" in page_text(differ)
    weak = as_admin.post_form(url, {"new_password": "short1", "confirm_password": "short1"})
    assert "密码至少需要 8 位" in page_text(weak)
    db.session.expire_all()
    assert check_password_hash(db.session.get(User, users.viewer.id).password_hash, factories.DEFAULT_PASSWORD)


def test_resetting_ones_own_password_goes_to_the_change_password_page(as_admin, users):
    response = as_admin.get(f"/users/{users.admin.id}/password")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")


# --- CSRF and language ----------------------------------------------------------------------

def test_every_users_form_needs_a_csrf_token(as_admin, users, tree, db):
    target = users.viewer.id
    posts = {
        "/users/new": new_user_form(tree.village_a1),
        f"/users/{target}/edit": edit_form(users.viewer, display_name="无令牌"),
        f"/users/{target}/password": {"new_password": "Fresh1Passw0rd", "confirm_password": "Fresh1Passw0rd"},
        "/users/import": {},
    }
    for url, data in posts.items():
        assert as_admin.post(url, data=data).status_code == 400, url
    db.session.expire_all()
    assert db.session.query(User).filter_by(username="zhangsan").count() == 0
    assert db.session.get(User, target).display_name != "无令牌"
    assert check_password_hash(db.session.get(User, target).password_hash, factories.DEFAULT_PASSWORD)


def test_the_user_pages_are_in_chinese(as_admin, users):
    checks = {
        "/users/": ["用户", "用户名", "最近登录", "新建用户", "批量导入用户"],
        "/users/new": ["新建用户", "单位", "统计用区划代码"],
        f"/users/{users.viewer.id}/edit": ["编辑用户", "启用"],
        f"/users/{users.viewer.id}/password": ["重置", "新密码"],
        "/users/import": ["批量导入用户", "CSV"],
    }
    for url, words in checks.items():
        page = page_text(as_admin.get(url))
        for word in words:
            assert word in page, (url, word)


def test_the_user_pages_are_available_in_english(as_admin, users):
    as_admin.post_form("/language", {"locale": "en", "next": "/users/"})
    page = page_text(as_admin.get("/users/"))
    assert "Last login" in page and "Village reporter" in page
