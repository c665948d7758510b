"""The audit trail: every write leaves a record; office roles browse it; nobody edits or deletes it."""
import re

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditRecord, AuditRecordIsAppendOnly
from campaign.audit.services import AuditFilters, browse, record
from tests.conftest import ROLE_HOMES

ALL_ROLES = list(ROLE_HOMES)
OFFICE = {"admin", "county_officer"}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_office_may_open_the_audit_trail(role, login):
    assert login(role).get("/audit/").status_code == (200 if role in OFFICE else 403)


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_write_shows_in_the_trail_with_who_where_and_the_values(as_admin, users, db):
    as_admin.post_form(f"/users/{users.viewer.id}/edit", {
        "display_name": "改后的名字", "role": "viewer", "unit_id": str(users.viewer.unit_id), "active": "y",
    })
    entry = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "user.update")).one()
    assert entry.username == "admin" and entry.address == "127.0.0.1"
    assert entry.before == {"display_name": "测试用户"} and entry.after == {"display_name": "改后的名字"}
    page = as_admin.get("/audit/?action=user.update").get_data(as_text=True)
    assert "改后的名字" in page and "审计日志" in page


def test_filters_narrow_the_list(as_county_officer, users, db):
    record("unit.update", "unit", 1, before={"name": "甲"}, after={"name": "乙"}, actor=users.county_officer)
    record("campaign.create", "campaign", 7, after={"title": "防溺水"}, actor=users.county_officer)
    db.session.commit()
    page = as_county_officer.get("/audit/?entity_type=campaign").get_data(as_text=True)
    assert "防溺水" in page and "乙" not in page


def test_a_county_officer_sees_only_what_users_of_their_area_did(users, tree, db):
    record("unit.update", "unit", 1, after={"name": "县里改的"}, actor=users.county_officer)
    record("unit.update", "unit", 2, after={"name": "街道改的"}, actor=users.township_officer)
    db.session.commit()
    from campaign.audit.services import AuditFilters, browse

    county_view = {r.after["name"] for r in browse(users.county_officer, AuditFilters()).records}
    township_view = {r.after["name"] for r in browse(users.township_officer, AuditFilters()).records}
    assert county_view == {"县里改的", "街道改的"}
    assert township_view == {"街道改的"}


def test_user_typed_values_are_escaped_in_the_trail(as_admin, users, db):
    record("unit.update", "unit", 1, after={"name": "<script>alert(1)</script>"}, actor=users.admin)
    db.session.commit()
    page = as_admin.get("/audit/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_records_cannot_be_changed_or_deleted(users, db):
    entry = record("unit.update", "unit", 1, after={"name": "x"}, actor=users.admin)
    db.session.commit()
    entry.action = "tampered"
    with pytest.raises(AuditRecordIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditRecord, entry.id))
    with pytest.raises(AuditRecordIsAppendOnly):
        db.session.commit()
    db.session.rollback()


def test_no_route_can_edit_or_delete_audit_records(app):
    audit_rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/audit")]
    assert audit_rules and all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in audit_rules)


def test_pages_are_paginated(as_admin, users, db):
    for number in range(55):
        record("unit.update", "unit", number, after={"name": f"第{number}号"}, actor=users.admin)
    db.session.commit()
    first = as_admin.get("/audit/").get_data(as_text=True)
    assert "下一页" in first and "上一页" not in first
    older = re.search(r'href="(/audit/\?before=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    second = as_admin.get(older).get_data(as_text=True)
    assert "上一页" in second and "下一页" not in second
    assert "第4号" in second and "第4号" not in first  # the oldest five (and the log-in) on the second page
    newer = re.search(r'href="(/audit/\?after=\d+[^"]*)"', second).group(1).replace("&amp;", "&")
    back = as_admin.get(newer).get_data(as_text=True)
    assert "第54号" in back and "第4号" not in back


def test_keyset_pages_keep_every_record_once_and_in_order(users, db):
    for number in range(120):
        record("unit.update", "unit", number, after={"name": f"第{number}号"}, actor=users.admin)
    db.session.commit()
    seen, before = [], None
    while True:
        result = browse(users.admin, AuditFilters(), before=before)
        seen.extend(r.id for r in result.records)
        if not result.has_next:
            break
        before = result.last_id
    assert len(seen) == len(set(seen)) >= 120
    assert seen == sorted(seen, reverse=True)
