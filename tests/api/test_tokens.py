"""Tokens: each user creates them on the website (never with a token), lists and revokes their own;
the token is shown once and only its SHA-256 is stored; the page's forms are CSRF-protected and
revoking asks first. The office's part: test_office_tokens.py."""
import hashlib
import re

import pytest
from sqlalchemy import select

from campaign.api.models import ApiToken
from campaign.api.services import TokenError, create_token
from campaign.audit.models import AuditRecord
from tests.api.conftest import ApiClient, error_of, make_token
from campaign.permissions import PERMISSIONS
from tests.conftest import ROLE_HOMES

ROLES = list(ROLE_HOMES)
TOKEN_ROLES = ["admin", "county_officer", "township_officer", "agency_reporter", "viewer"]
PHONE_ROLES = ["village_reporter", "school_reporter", "inspector"]
TOKEN_PATTERN = re.compile(r"cd_[A-Za-z0-9_-]{43}")


def tokens_of(db, user):
    db.session.expire_all()
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def html(response):
    return response.get_data(as_text=True)


# --- the JSON endpoints ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_role_lists_and_revokes_its_own_tokens_through_the_api(api, db, users, role):
    client = api(role)
    second = make_token(db, getattr(users, role), "报表脚本")
    listed = client.get("/tokens").get_json()["items"]
    assert [item["name"] for item in listed] == ["报表脚本", "测试脚本"]
    assert all("token" not in item and "token_hash" not in item for item in listed)

    revoked = client.delete(f"/tokens/{listed[0]['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    assert error_of(ApiClient(client.client, second).get("/me"), 401)["code"] == "invalid_token"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("body", [{"name": "报表脚本"}, {}, [], {"name": 12}])
def test_a_token_cannot_create_tokens(api, db, users, role, body):
    """A stolen token that could mint more would outlive its own revocation."""
    client = api(role)
    error = error_of(client.post("/tokens", json=body), 403)
    assert error["code"] == "token_cannot_create_tokens" and "网站" in error["message"]
    assert len(tokens_of(db, getattr(users, role))) == 1


def test_only_the_hash_of_a_token_is_stored(db, users):
    row, clear = create_token(users.village_reporter, "手机")
    db.session.commit()
    assert row.token_hash == hashlib.sha256(clear.encode()).hexdigest()
    assert row.prefix == clear[:9] and TOKEN_PATTERN.fullmatch(clear)
    stored = {column.name: getattr(row, column.name) for column in ApiToken.__table__.columns}
    assert clear not in {str(value) for value in stored.values()}
    audit = db.session.scalars(select(AuditRecord).where(AuditRecord.entity_type == "api_token")).all()
    assert audit and all(clear not in str(entry.after) and row.token_hash not in str(entry.after) for entry in audit)


def test_a_user_cannot_see_or_revoke_another_users_token(api, db, users):
    other = make_token(db, users.township_officer, "乡镇脚本")
    other_id = tokens_of(db, users.township_officer)[0].id
    client = api("agency_reporter")
    assert all(item["id"] != other_id for item in client.get("/tokens").get_json()["items"])
    assert error_of(client.delete(f"/tokens/{other_id}"), 404)["code"] == "not_found"
    assert ApiClient(client.client, other).get("/me").status_code == 200


def test_revoking_is_audited_and_revoking_twice_changes_nothing(api, db, users):
    client = api("inspector")
    token_id = tokens_of(db, users.inspector)[0].id
    make_token(db, users.inspector, "备用")
    extra_id = tokens_of(db, users.inspector)[1].id
    assert client.delete(f"/tokens/{extra_id}").status_code == 200
    assert client.delete(f"/tokens/{extra_id}").status_code == 200
    actions = db.session.scalars(
        select(AuditRecord.action).where(AuditRecord.entity_type == "api_token",
                                         AuditRecord.entity_id == str(extra_id)).order_by(AuditRecord.id)
    ).all()
    assert actions == ["api_token.create", "api_token.revoke"]
    # A user may revoke the very token the request is sent with.
    assert client.delete(f"/tokens/{token_id}").status_code == 200
    assert client.get("/me").status_code == 401


@pytest.mark.parametrize("name,code", [
    (None, "name_required"),
    ("   ", "name_required"),
    (12, "name_required"),
    ("x" * 101, "name_too_long"),
])
def test_a_token_needs_a_sensible_name(db, users, name, code):
    with pytest.raises(TokenError) as refused:
        create_token(users.agency_reporter, name)
    assert refused.value.code == code
    assert tokens_of(db, users.agency_reporter) == []


def test_the_number_of_valid_tokens_is_limited(db, users):
    for number in range(20):
        create_token(users.school_reporter, f"设备{number}")
    with pytest.raises(TokenError) as refused:
        create_token(users.school_reporter, "再一个")
    assert refused.value.code == "too_many_tokens" and refused.value.details == {"max": 20}


# --- the page ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_the_token_page_and_its_menu_link_are_for_the_roles_that_use_programs(login, role):
    client = login(role)
    response = client.get("/account/tokens/")
    home = html(client.get("/"))
    if role in TOKEN_ROLES:
        assert response.status_code == 200 and "API 令牌" in html(response)
        assert 'href="/account/tokens/"' in home
    else:
        assert response.status_code == 403
        assert "/account/tokens/" not in home and "API 令牌" not in home


def test_the_page_needs_a_login(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_token_created_on_the_page_is_shown_once(app, as_township_officer, db, users):
    response = as_township_officer.post_form("/account/tokens/", {"name": "村里的平板"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [clear] = TOKEN_PATTERN.findall(html(response))
    [row] = tokens_of(db, users.township_officer)
    assert row.name == "村里的平板" and row.token_hash == hashlib.sha256(clear.encode()).hexdigest()
    assert ApiClient(app.test_client(), clear).get("/me").status_code == 200

    again = html(as_township_officer.get("/account/tokens/"))
    assert clear not in again and "村里的平板" in again and f"{clear[:9]}…" in again


def test_a_token_needs_a_name_on_the_page_too(as_township_officer, db, users):
    response = as_township_officer.post_form("/account/tokens/", {"name": ""})
    assert response.status_code == 400
    assert "请为令牌起个名称" in html(response)
    assert tokens_of(db, users.township_officer) == []


def test_creating_a_token_without_the_csrf_token_is_refused(as_township_officer, db, users):
    response = as_township_officer.post("/account/tokens/", data={"name": "伪造"})
    assert response.status_code == 400
    assert tokens_of(db, users.township_officer) == []


def test_revoking_on_the_page_asks_first(as_township_officer, db, users):
    make_token(db, users.township_officer, "乡镇的脚本")
    [row] = tokens_of(db, users.township_officer)
    confirm = as_township_officer.get(f"/account/tokens/{row.id}/revoke")
    assert confirm.status_code == 200
    assert "确定吊销令牌“乡镇的脚本”" in html(confirm)
    assert tokens_of(db, users.township_officer)[0].revoked_at is None

    refused = as_township_officer.post(f"/account/tokens/{row.id}/revoke")  # no CSRF token
    assert refused.status_code == 400
    assert tokens_of(db, users.township_officer)[0].revoked_at is None

    done = as_township_officer.post_form(f"/account/tokens/{row.id}/revoke")
    assert done.status_code == 302
    assert tokens_of(db, users.township_officer)[0].revoked_at is not None
    listing = html(as_township_officer.get("/account/tokens/"))
    assert "已吊销" in listing


def test_another_users_token_cannot_be_revoked_on_the_page(as_township_officer, db, users):
    make_token(db, users.viewer)
    [row] = tokens_of(db, users.viewer)
    assert as_township_officer.get(f"/account/tokens/{row.id}/revoke").status_code == 404
    assert as_township_officer.post_form(f"/account/tokens/{row.id}/revoke").status_code == 404
    assert tokens_of(db, users.viewer)[0].revoked_at is None


def test_a_name_typed_on_the_page_is_escaped(as_township_officer):
    response = as_township_officer.post_form("/account/tokens/", {"name": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in html(response)
    assert "&lt;script&gt;" in html(response)
