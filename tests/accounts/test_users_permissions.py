"""Who may open and post every user-management page; ids outside one's area give 404."""
import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from campaign.accounts.models import User
from campaign.accounts.services import AccountError, reset_password
from campaign.audit.models import AuditRecord
from tests import factories
from tests.conftest import ROLE_HOMES, log_in

ALL_ROLES = list(ROLE_HOMES)
MANAGERS = {"admin", "county_officer"}
VIEWERS = MANAGERS | {"township_officer"}


def expected(role, allowed_roles, ok=200):
    return ok if role in allowed_roles else 403


@pytest.mark.parametrize("role", ALL_ROLES)
def test_user_list_is_for_the_office_and_township_officers(role, login):
    response = login(role).get("/users/")
    assert response.status_code == expected(role, VIEWERS)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("url", ["/users/new", "/users/import", "/users/import/template.csv"])
def test_create_and_import_pages_are_for_the_office(role, url, login):
    response = login(role).get(url)
    assert response.status_code == expected(role, MANAGERS)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("page", ["edit", "password"])
def test_edit_and_reset_of_a_user_in_everybodys_area(role, page, login, users):
    # The village reporter of village A1 is inside the area of the county and of township A.
    response = login(role).get(f"/users/{users.village_reporter.id}/{page}")
    assert response.status_code == expected(role, MANAGERS)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("page", ["edit", "password"])
def test_posting_edit_and_reset_is_for_the_office(role, page, login, users, db):
    target = users.village_reporter
    data = (
        {"display_name": "改过", "role": "village_reporter", "unit_id": str(target.unit_id), "active": "y"}
        if page == "edit"
        else {"new_password": "NewPassw0rd9", "confirm_password": "NewPassw0rd9"}
    )
    response = login(role).post_form(f"/users/{target.id}/{page}", data)
    assert response.status_code == (302 if role in MANAGERS else 403)
    db.session.expire_all()
    changed = db.session.get(User, target.id)
    if page == "edit":
        assert (changed.display_name == "改过") == (role in MANAGERS)
    else:
        assert check_password_hash(changed.password_hash, "NewPassw0rd9") == (role in MANAGERS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_posting_a_new_user_is_for_the_office(role, login, tree, db):
    data = {"username": "new_one", "role": "viewer", "unit_id": str(tree.county.id), "password": "Passw0rd456"}
    response = login(role).post_form("/users/new", data)
    assert response.status_code == (302 if role in MANAGERS else 403)
    assert (db.session.query(User).filter_by(username="new_one").count() == 1) == (role in MANAGERS)


@pytest.mark.parametrize(
    "url", ["/users/", "/users/new", "/users/import", "/users/1/edit", "/users/1/password"]
)
def test_anonymous_visitors_are_sent_to_login(url, client, users):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# URL tampering: another area's user id answers 404, as if it did not exist.

@pytest.mark.parametrize("role", ["admin", "county_officer", "township_officer"])
@pytest.mark.parametrize("page", ["edit", "password"])
def test_a_user_of_another_county_is_not_found(role, page, login, other_county):
    response = login(role).get(f"/users/{other_county.reporter.id}/{page}")
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["edit", "password"])
def test_posting_to_a_user_of_another_county_is_not_found_and_changes_nothing(page, login, other_county, db):
    target = other_county.reporter
    data = (
        {"display_name": "篡改", "role": "village_reporter", "unit_id": str(target.unit_id), "active": "y"}
        if page == "edit"
        else {"new_password": "NewPassw0rd9", "confirm_password": "NewPassw0rd9"}
    )
    response = login("county_officer").post_form(f"/users/{target.id}/{page}", data)
    assert response.status_code == 404
    db.session.expire_all()
    unchanged = db.session.get(User, target.id)
    assert unchanged.display_name != "篡改"
    assert not check_password_hash(unchanged.password_hash, "NewPassw0rd9")


@pytest.mark.parametrize("page", ["edit", "password"])
def test_township_officer_gets_404_for_a_user_of_another_township(page, as_township_officer, reporter_b):
    assert as_township_officer.get(f"/users/{reporter_b.id}/{page}").status_code == 404


def test_an_unknown_user_id_is_not_found(as_admin, users):
    assert as_admin.get("/users/999999/edit").status_code == 404


def test_county_officer_may_not_edit_or_reset_an_administrator(as_county_officer, users):
    assert as_county_officer.get(f"/users/{users.admin.id}/edit").status_code == 403
    assert as_county_officer.get(f"/users/{users.admin.id}/password").status_code == 403


# --- peers: no takeover by someone of the same rank ---------------------------------------------

@pytest.fixture
def peer(db, tree):
    """A second county officer of the same county: the same rank, the same unit."""
    user = factories.make_user(role="county_officer", unit=tree.county, username="peer_officer")
    db.session.commit()
    return user


def test_a_county_officer_cannot_reset_a_peers_password(app, as_county_officer, peer, db):
    url = f"/users/{peer.id}/password"
    assert as_county_officer.get(url).status_code == 403
    response = as_county_officer.post_form(url, {"new_password": "Takeover1pass", "confirm_password": "Takeover1pass"})
    assert response.status_code == 403
    log_in(app.test_client(), "peer_officer")  # the old password still works
    assert db.session.scalars(select(AuditRecord).where(AuditRecord.action == "user.password")).all() == []


def test_a_county_officer_cannot_deactivate_or_edit_a_peer(app, as_county_officer, peer, db):
    data = {"display_name": "x", "role": "county_officer", "unit_id": str(peer.unit_id)}
    assert as_county_officer.post_form(f"/users/{peer.id}/edit", data).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, peer.id).active


def test_the_service_refuses_a_peer_reset_too(users, peer):
    with pytest.raises(AccountError) as refused:
        reset_password(peer, "Takeover1pass", actor=users.county_officer)
    assert refused.value.code == "not_allowed"


def test_the_admin_resets_a_county_officers_password(app, as_admin, peer):
    response = as_admin.post_form(f"/users/{peer.id}/password",
                                  {"new_password": "Fresh1Passw0rd", "confirm_password": "Fresh1Passw0rd"})
    assert response.status_code == 302
    log_in(app.test_client(), "peer_officer", "Fresh1Passw0rd")


def test_an_officer_of_a_higher_unit_manages_an_officer_below(app, db, users):
    city = factories.make_unit("city", None, "杭州市", "330100000000")
    county = factories.make_unit("county", city, "富阳区", "330111000000")
    factories.make_user(role="county_officer", unit=city, username="city_officer")
    below = factories.make_user(role="county_officer", unit=county, username="fuyang_officer")
    db.session.commit()
    city_officer = log_in(app.test_client(), "city_officer")
    response = city_officer.post_form(f"/users/{below.id}/password",
                                      {"new_password": "Fresh1Passw0rd", "confirm_password": "Fresh1Passw0rd"})
    assert response.status_code == 302
    fuyang_officer = log_in(app.test_client(), "fuyang_officer", "Fresh1Passw0rd")
    assert fuyang_officer.get(f"/users/{db.session.scalar(select(User.id).where(User.username == 'city_officer'))}"
                              "/password").status_code == 404  # the city is above, outside their area


def test_a_county_officer_still_manages_township_officers_and_reporters_of_the_county(as_county_officer, users):
    for user in (users.township_officer, users.village_reporter, users.viewer, users.inspector):
        assert as_county_officer.get(f"/users/{user.id}/password").status_code == 200


def test_an_officer_may_still_edit_their_own_name(as_county_officer, users, db):
    data = {"display_name": "新名字", "role": "county_officer", "unit_id": str(users.county_officer.unit_id),
            "active": "y"}
    assert as_county_officer.post_form(f"/users/{users.county_officer.id}/edit", data).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, users.county_officer.id).display_name == "新名字"
