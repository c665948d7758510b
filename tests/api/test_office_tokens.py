"""The office controls every credential: it lists and revokes the API tokens of the users it
manages (on the user's "login and tokens" page and through the API), a password reset by the
office and a deactivation revoke them all (a reactivation brings none back), and every change is
audited. A stolen token can therefore always be stopped without its owner."""
import pytest
from sqlalchemy import select

from campaign.api.models import ApiToken
from campaign.audit.models import AuditRecord
from tests import factories
from tests.accounts.conftest import other_county  # noqa: F401  the fixture, shared
from tests.api.conftest import ApiClient, error_of, make_token
from tests.conftest import log_in

NEW_PASSWORD = "Fresh1Passw0rd"


def html(response):
    return response.get_data(as_text=True)


def token_works(app, token) -> bool:
    return ApiClient(app.test_client(), token).get("/me").status_code == 200


def token_rows(db, user):
    db.session.expire_all()
    return db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()


def revocations(db):
    return db.session.scalars(
        select(AuditRecord).where(AuditRecord.action == "api_token.revoke").order_by(AuditRecord.id)
    ).all()


@pytest.fixture
def stolen(db, users):
    """Two tokens of the village reporter: one on the phone, one copied by a thief."""
    return {"phone": make_token(db, users.village_reporter, "手机"),
            "copy": make_token(db, users.village_reporter, "<b>报表</b>脚本")}


# --- the page -----------------------------------------------------------------------------------

def test_the_office_sees_a_users_tokens_in_chinese_with_names_escaped(as_county_officer, users, stolen):
    page = as_county_officer.get(f"/users/{users.village_reporter.id}/access")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = html(page)
    assert "village_reporter 的登录与 API 令牌" in text and "吊销全部令牌" in text and "解除登录限制" in text
    assert "&lt;b&gt;报表&lt;/b&gt;脚本" in text and "<b>报表</b>" not in text
    assert "cd_" in text and stolen["copy"] not in text  # the prefix, never the token


def test_the_user_list_links_to_the_page_for_users_the_actor_manages(as_county_officer, users):
    text = html(as_county_officer.get("/users/"))
    assert f"/users/{users.village_reporter.id}/access" in text
    assert f"/users/{users.admin.id}/access" not in text


def test_the_office_revokes_one_token_and_it_stops_at_once(app, db, as_county_officer, users, stolen):
    copy = token_rows(db, users.village_reporter)[1]
    response = as_county_officer.post_form(f"/users/{users.village_reporter.id}/tokens/{copy.id}/revoke")
    assert response.status_code == 302
    assert not token_works(app, stolen["copy"]) and token_works(app, stolen["phone"])
    entry = revocations(db)[0]
    assert entry.username == "county_officer" and entry.entity_id == str(copy.id)


def test_the_office_revokes_all_tokens_of_a_user(app, db, as_admin, users, stolen):
    response = as_admin.post_form(f"/users/{users.village_reporter.id}/tokens/revoke-all")
    assert response.status_code == 302
    assert "已吊销 village_reporter 的 2 个令牌" in html(as_admin.get(response.headers["Location"]))
    assert not token_works(app, stolen["copy"]) and not token_works(app, stolen["phone"])
    assert [entry.after["reason"] for entry in revocations(db)] == ["revoked_by_office"] * 2


def test_revoking_needs_a_csrf_token(app, db, as_county_officer, users, stolen):
    copy = token_rows(db, users.village_reporter)[1]
    assert as_county_officer.post(f"/users/{users.village_reporter.id}/tokens/{copy.id}/revoke").status_code == 400
    assert as_county_officer.post(f"/users/{users.village_reporter.id}/tokens/revoke-all").status_code == 400
    assert token_works(app, stolen["copy"])


def test_a_token_id_of_another_user_is_not_found_under_this_user(app, db, as_county_officer, users, stolen):
    other = make_token(db, users.viewer, "看板")
    other_id = token_rows(db, users.viewer)[0].id
    response = as_county_officer.post_form(f"/users/{users.village_reporter.id}/tokens/{other_id}/revoke")
    assert response.status_code == 404
    assert token_works(app, other)


@pytest.mark.parametrize("role, status", [
    ("admin", 200), ("county_officer", 200), ("township_officer", 403), ("village_reporter", 403),
    ("school_reporter", 403), ("agency_reporter", 403), ("inspector", 403), ("viewer", 403),
])
def test_who_may_see_and_revoke_another_users_tokens(app, role, status, login, users, stolen, db):
    client = login(role)
    user_id = users.village_reporter.id
    assert client.get(f"/users/{user_id}/access").status_code == status
    revoked = client.post_form(f"/users/{user_id}/tokens/revoke-all")
    assert revoked.status_code == (302 if status == 200 else 403)
    assert token_works(app, stolen["copy"]) == (status != 200)


def test_a_user_of_another_county_is_not_found(app, db, as_county_officer, other_county):
    token = make_token(db, other_county.reporter, "外区")
    assert as_county_officer.get(f"/users/{other_county.reporter.id}/access").status_code == 404
    assert as_county_officer.post_form(f"/users/{other_county.reporter.id}/tokens/revoke-all").status_code == 404
    assert token_works(app, token)


def test_a_county_officer_cannot_revoke_a_peers_tokens_but_the_admin_can(app, db, users, tree, login):
    peer = factories.make_user(role="county_officer", unit=tree.county, username="peer_officer")
    db.session.commit()
    token = make_token(db, peer, "同级")
    assert login("county_officer").post_form(f"/users/{peer.id}/tokens/revoke-all").status_code == 403
    assert token_works(app, token)
    assert login("admin").post_form(f"/users/{peer.id}/tokens/revoke-all").status_code == 302
    assert not token_works(app, token)


# --- the API ------------------------------------------------------------------------------------

def test_the_office_lists_and_revokes_a_users_tokens_through_the_api(app, db, api, users, stolen):
    office = api("county_officer")
    listed = office.get(f"/users/{users.village_reporter.id}/tokens")
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert {item["name"] for item in items} == {"手机", "<b>报表</b>脚本"}
    assert all("token" not in item for item in items)
    copy_id = next(item["id"] for item in items if item["name"] == "<b>报表</b>脚本")
    revoked = office.delete(f"/users/{users.village_reporter.id}/tokens/{copy_id}")
    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    assert not token_works(app, stolen["copy"]) and token_works(app, stolen["phone"])
    assert revocations(db)[0].username == "county_officer"


@pytest.mark.parametrize("role", ["township_officer", "village_reporter", "inspector", "viewer"])
def test_other_roles_cannot_reach_another_users_tokens_through_the_api(app, api, users, stolen, role):
    client = api(role)
    assert error_of(client.get(f"/users/{users.village_reporter.id}/tokens"), 403)["code"] == "forbidden"
    assert error_of(client.delete(f"/users/{users.village_reporter.id}/tokens/1"), 403)["code"] == "forbidden"
    assert token_works(app, stolen["copy"])


def test_the_api_answers_404_for_a_user_outside_the_area_and_403_for_a_peer(api, db, users, tree, other_county):
    office = api("county_officer")
    assert error_of(office.get(f"/users/{other_county.reporter.id}/tokens"), 404)["code"] == "not_found"
    assert error_of(office.get(f"/users/{users.admin.id}/tokens"), 403)["code"] == "forbidden"
    assert error_of(office.delete(f"/users/{users.village_reporter.id}/tokens/999999"), 404)["code"] == "not_found"


# --- resets and deactivation ------------------------------------------------------------------------

def test_a_password_reset_by_the_office_revokes_the_users_tokens_and_sessions(app, db, as_admin, users, stolen):
    reporter = log_in(app.test_client(), "village_reporter")
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert as_admin.post_form(f"/users/{users.village_reporter.id}/password", data).status_code == 302
    assert not token_works(app, stolen["phone"]) and not token_works(app, stolen["copy"])
    assert "/login" in reporter.get("/").headers["Location"]
    assert [entry.after["reason"] for entry in revocations(db)] == ["password_reset"] * 2
    assert all(entry.username == "admin" for entry in revocations(db))


def test_changing_ones_own_password_keeps_ones_tokens(app, db, users, stolen):
    """The owner's scripts go on; a leaked token is revoked on the token page, by owner or office."""
    reporter = log_in(app.test_client(), "village_reporter")
    reporter.post_form("/account/password", {"current_password": factories.DEFAULT_PASSWORD,
                                              "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert token_works(app, stolen["phone"])


def deactivate(client, user, active):
    data = {"display_name": user.display_name, "role": user.role, "unit_id": str(user.unit_id)}
    if active:
        data["active"] = "y"
    return client.post_form(f"/users/{user.id}/edit", data)


def test_reactivating_a_user_does_not_bring_their_old_tokens_back(app, db, as_county_officer, users, stolen):
    assert deactivate(as_county_officer, users.village_reporter, active=False).status_code == 302
    assert not token_works(app, stolen["phone"])
    assert [entry.after["reason"] for entry in revocations(db)] == ["user_deactivated"] * 2
    assert deactivate(as_county_officer, users.village_reporter, active=True).status_code == 302
    assert not token_works(app, stolen["phone"]) and not token_works(app, stolen["copy"])
    assert all(row.revoked_at is not None for row in token_rows(db, users.village_reporter))
