"""Patrols keep the point's last patrol time; overdue patrols and hazards flip exactly at their edge;
hazards close only with a note and a photo; overdue hazards are counted per village and township."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from campaign.database import utcnow
from campaign.extensions import db as _db
from campaign.water import services
from campaign.water.models import Hazard, Patrol, WaterPhoto, WaterPoint
from tests import factories
from tests.conftest import counting_queries
from tests.water.conftest import ago, make_hazard, make_point, photo_file


def test_a_patrol_moves_the_last_patrol_time_forward_only(users, tree, db):
    point = make_point(tree.village_a1)
    newer, older = ago(hours=2), ago(days=3)
    services.record_patrol(point, actor=users.village_reporter, patrolled_at=newer, patroller_name="张三")
    services.record_patrol(point, actor=users.village_reporter, patrolled_at=older, patroller_name="张三")
    assert point.last_patrol_at == newer


def test_the_patrol_form_takes_local_time_and_stores_utc(as_village_reporter, tree, db):
    point = make_point(tree.village_a1)
    db.session.commit()
    response = as_village_reporter.post_form(f"/water/{point.id}/patrols/new", {
        "patrol_date": "2024-07-01", "patrol_time": "08:30", "patroller_name": "张三", "sign_intact": "y",
        "people_swimming": "2", "findings": "发现两名儿童在塘边玩耍，已劝离",
    })
    assert response.status_code == 302
    patrol = db.session.scalar(select(Patrol))
    assert patrol.patrolled_at == datetime(2024, 7, 1, 0, 30, tzinfo=timezone.utc)
    assert (patrol.sign_intact, patrol.rescue_equipment_present, patrol.people_swimming) == (True, False, 2)
    db.session.expire_all()
    assert _db.session.get(WaterPoint, point.id).last_patrol_at == patrol.patrolled_at


def test_a_patrol_needs_a_patroller_and_a_time_not_in_the_future(as_village_reporter, tree, db):
    point = make_point(tree.village_a1)
    db.session.commit()
    tomorrow = factories.a_date(1).isoformat()
    page = as_village_reporter.post_form(f"/water/{point.id}/patrols/new", {
        "patrol_date": tomorrow, "patrol_time": "08:30", "patroller_name": "张三", "findings": "保留的文字"}
    ).get_data(as_text=True)
    assert "未来" in page and "保留的文字" in page
    assert db.session.scalar(select(Patrol)) is None


@pytest.mark.parametrize("age, overdue", [
    (timedelta(days=7), False),
    (timedelta(days=7, seconds=1), True),
    (timedelta(days=6, hours=23), False),
])
def test_a_key_point_is_overdue_one_second_after_its_interval(app, tree, db, age, overdue):
    now = utcnow()
    point = make_point(tree.village_a1, is_key=True, last_patrol_at=now - age)
    assert services.patrol_overdue(point, now) is overdue
    in_sql = db.session.scalars(select(WaterPoint.id).where(services.patrol_overdue_condition(now))).all()
    assert (point.id in in_sql) is overdue


def test_a_never_patrolled_point_counts_from_its_registration(tree, db):
    now = utcnow()
    point = make_point(tree.village_a1, is_key=True, created_at=now - timedelta(days=7))
    assert not services.patrol_overdue(point, now)
    assert services.patrol_overdue(point, now + timedelta(seconds=1))


def test_a_point_with_its_own_interval_uses_it(tree, db):
    now = utcnow()
    point = make_point(tree.village_a1, is_key=True, patrol_interval_days=3, last_patrol_at=now - timedelta(days=3))
    other = make_point(tree.village_a1, "另一塘", is_key=True, last_patrol_at=now - timedelta(days=4))
    later = now + timedelta(seconds=1)
    assert services.patrol_overdue(point, later) and not services.patrol_overdue(other, later)
    in_sql = set(db.session.scalars(select(WaterPoint.id).where(services.patrol_overdue_condition(later))))
    assert in_sql == {point.id}


def test_points_that_are_not_key_or_archived_are_never_overdue(tree, db):
    now = utcnow()
    plain = make_point(tree.village_a1, last_patrol_at=now - timedelta(days=60))
    archived = make_point(tree.village_a1, "已填埋", is_key=True, status="archived",
                          last_patrol_at=now - timedelta(days=60))
    assert not services.patrol_overdue(plain, now) and not services.patrol_overdue(archived, now)
    assert not db.session.scalars(select(WaterPoint.id).where(services.patrol_overdue_condition(now))).all()


def test_the_interval_comes_from_the_configuration(app, tree, db):
    now = utcnow()
    point = make_point(tree.village_a1, is_key=True, last_patrol_at=now - timedelta(days=5))
    app.config["WATER_PATROL_INTERVAL_DAYS"] = 4
    try:
        assert services.patrol_overdue(point, now)
    finally:
        app.config["WATER_PATROL_INTERVAL_DAYS"] = 7


@pytest.mark.parametrize("days, overdue", [(-1, True), (0, False), (1, False)])
def test_a_hazard_is_overdue_the_day_after_its_rectify_by_date(tree, db, days, overdue):
    hazard = make_hazard(make_point(tree.village_a1), rectify_by=factories.a_date(days))
    assert services.hazard_overdue(hazard) is overdue
    in_sql = db.session.scalars(select(Hazard.id).where(services.hazard_overdue_condition())).all()
    assert (hazard.id in in_sql) is overdue


def test_a_closed_hazard_is_never_overdue(tree, db):
    hazard = make_hazard(make_point(tree.village_a1), rectify_by=factories.a_date(-30), status="closed")
    assert not services.hazard_overdue(hazard)


def test_overdue_hazards_are_counted_per_village_and_township_in_one_query(app, users, tree, db):

    a1 = make_point(tree.village_a1)
    a2 = make_point(tree.village_a2)
    b1 = make_point(tree.village_b1)
    for point, count in ((a1, 2), (a2, 1), (b1, 3)):
        for _ in range(count):
            make_hazard(point, rectify_by=factories.a_date(-2))
    make_hazard(a1, rectify_by=factories.a_date(0))  # due today: not overdue
    make_hazard(a1, rectify_by=factories.a_date(-9), status="closed")
    db.session.commit()
    user = db.session.merge(users.county_officer)
    assert user.unit.path  # loaded before counting
    with counting_queries() as statements:
        counts = services.overdue_hazard_counts(user)
    assert len([sql for sql in statements if sql.startswith("SELECT")]) == 1
    assert {row[1]: row[4] for row in counts.villages} == {"夏禹桥村委会": 2, "前山村委会": 1, "白沙村委会": 3}
    assert {row[1]: row[2] for row in counts.townships} == {"玲珑街道": 3, "太湖源镇": 3}
    assert counts.total == 6
    township_user = db.session.merge(users.township_officer)
    assert services.overdue_hazard_counts(township_user).total == 3


def test_the_hazard_ledger_shows_the_counts(as_township_officer, tree, db):
    make_hazard(make_point(tree.village_a1), rectify_by=factories.a_date(-2))
    make_hazard(make_point(tree.village_b1), rectify_by=factories.a_date(-2), description="别的乡镇的隐患")
    db.session.commit()
    page = as_township_officer.get("/water/hazards").get_data(as_text=True)
    assert "夏禹桥村委会" in page and "别的乡镇的隐患" not in page and "逾期" in page


def test_the_counts_by_township_come_in_pages(as_county_officer, tree, db, monkeypatch):
    from campaign.water import views
    monkeypatch.setattr(views, "TOWNSHIPS_PER_PAGE", 1)
    make_hazard(make_point(tree.village_a1), rectify_by=factories.a_date(-2))
    make_hazard(make_point(tree.village_b1), rectify_by=factories.a_date(-2))
    db.session.commit()

    def counts_table(address):
        return as_county_officer.get(address).get_data(as_text=True).split('class="overdue-counts"')[1]
    first, second = counts_table("/water/hazards"), counts_table("/water/hazards?count_page=2")
    beyond = counts_table("/water/hazards?count_page=99")

    assert "第 1 页，共 2 页" in first and "第 2 页，共 2 页" in second
    assert ("夏禹桥村委会" in first) != ("夏禹桥村委会" in second)
    assert ("白沙村委会" in first) != ("白沙村委会" in second)
    assert "第 2 页，共 2 页" in beyond


def test_recording_a_hazard_with_a_photo(as_village_reporter, tree, db):
    point = make_point(tree.village_a1)
    db.session.commit()
    response = as_village_reporter.post_form(f"/water/{point.id}/hazards/new", {
        "found_on": factories.a_date(-1).isoformat(), "rectify_by": factories.a_date(7).isoformat(),
        "owner_name": "村委会", "description": "护栏缺失", "photos": photo_file(),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    hazard = db.session.scalar(select(Hazard))
    photo = db.session.scalar(select(WaterPhoto))
    assert (photo.purpose, photo.hazard_id, photo.water_point_id) == ("hazard", hazard.id, point.id)
    assert as_village_reporter.get(f"/water/photos/{photo.id}").status_code == 200
    assert as_village_reporter.get(f"/water/photos/{photo.id}/thumb").status_code == 200


def test_a_hazard_cannot_be_rectified_before_it_was_found(as_village_reporter, tree, db):
    point = make_point(tree.village_a1)
    db.session.commit()
    page = as_village_reporter.post_form(f"/water/{point.id}/hazards/new", {
        "found_on": factories.a_date(-1).isoformat(), "rectify_by": factories.a_date(-3).isoformat(),
        "owner_name": "村委会", "description": "护栏缺失"}).get_data(as_text=True)
    assert "不能早于" in page
    assert db.session.scalar(select(Hazard)) is None


def _close(client, hazard, **data):
    return client.post_form(f"/water/hazards/{hazard.id}/status", {"status": "closed", **data},
                            content_type="multipart/form-data")


def test_closing_a_hazard_needs_a_note(as_village_reporter, tree, db):
    hazard = make_hazard(make_point(tree.village_a1))
    db.session.commit()
    page = _close(as_village_reporter, hazard, closing_note="", photos=photo_file()).get_data(as_text=True)
    assert "整改情况说明" in page
    db.session.expire_all()
    assert _db.session.get(Hazard, hazard.id).status == "open"
    assert db.session.scalar(select(WaterPhoto)) is None  # the photo of the refused close is not kept


def test_closing_a_hazard_needs_a_photo(as_village_reporter, tree, db):
    hazard = make_hazard(make_point(tree.village_a1))
    db.session.commit()
    page = _close(as_village_reporter, hazard, closing_note="已修复护栏").get_data(as_text=True)
    assert "至少上传一张" in page and "已修复护栏" in page
    db.session.expire_all()
    assert _db.session.get(Hazard, hazard.id).status == "open"


def test_a_hazard_goes_open_then_in_progress_then_closed(as_village_reporter, users, tree, db):
    hazard = make_hazard(make_point(tree.village_a1))
    db.session.commit()
    response = as_village_reporter.post_form(f"/water/hazards/{hazard.id}/status", {"status": "in_progress"})
    assert response.status_code == 302
    response = _close(as_village_reporter, hazard, closing_note="已修复护栏", photos=photo_file())
    assert response.status_code == 302
    db.session.expire_all()
    closed = _db.session.get(Hazard, hazard.id)
    assert (closed.status, closed.closing_note, closed.closed_by_id) == ("closed", "已修复护栏",
                                                                          users.village_reporter.id)
    assert closed.closed_at is not None
    photo = db.session.scalar(select(WaterPhoto))
    assert (photo.purpose, photo.hazard_id) == ("closing", hazard.id)
    again = as_village_reporter.post_form(f"/water/hazards/{hazard.id}/status", {"status": "in_progress"})
    assert again.status_code == 302
    db.session.expire_all()
    assert _db.session.get(Hazard, hazard.id).status == "closed"


def test_a_non_image_is_refused_as_evidence(as_village_reporter, tree, db):
    import io

    hazard = make_hazard(make_point(tree.village_a1))
    db.session.commit()
    page = _close(as_village_reporter, hazard, closing_note="已修复",
                  photos=(io.BytesIO(b"%PDF-1.4 not a photo"), "report.pdf")).get_data(as_text=True)
    assert "flash-error" in page or "error" in page
    db.session.expire_all()
    assert _db.session.get(Hazard, hazard.id).status == "open"


def test_another_villages_hazard_and_photo_are_not_found(as_village_reporter, users, tree, db):
    point = make_point(tree.village_a2)
    hazard = make_hazard(point)
    db.session.commit()
    assert as_village_reporter.get(f"/water/hazards/{hazard.id}/status").status_code == 404
    assert _close(as_village_reporter, hazard, closing_note="x", photos=photo_file()).status_code == 404
    from campaign.evidence.services import store_bytes
    from tests.water.conftest import photo_bytes

    upload = store_bytes(photo_bytes(), "a.jpg", ("image",))
    photo = services.attach_photo(point, actor=users.county_officer, upload=upload, purpose="point")
    db.session.commit()
    assert as_village_reporter.get(f"/water/photos/{photo.id}").status_code == 404
    assert as_village_reporter.get(f"/water/photos/{photo.id}/thumb").status_code == 404


def test_a_viewer_may_see_photos_but_not_close_hazards(as_viewer, tree, db):
    hazard = make_hazard(make_point(tree.village_a1))
    db.session.commit()
    assert as_viewer.get(f"/water/hazards/{hazard.id}/status").status_code == 403


def test_a_county_inspector_sees_hazards_county_wide_but_cannot_change_them(as_inspector, tree, db):
    """An inspector's water rights are read-only: they record their own findings, not the villages'."""
    point = make_point(tree.village_b1, name="白沙溪")
    hazard = make_hazard(point)
    db.session.commit()
    assert as_inspector.get(f"/water/{point.id}").status_code == 200
    assert "护栏破损" in as_inspector.get(f"/water/{point.id}").get_data(as_text=True)
    refused = [
        as_inspector.get(f"/water/hazards/{hazard.id}/status"),
        as_inspector.post_form(f"/water/hazards/{hazard.id}/status", {"status": "closed", "note": "已整改"}),
        as_inspector.post_form(f"/water/{point.id}/hazards/new", {"description": "新隐患"}),
        as_inspector.post_form(f"/water/{point.id}/edit", {"name": "改名"}),
        as_inspector.post_form(f"/water/{point.id}/archive"),
        as_inspector.post_form(f"/water/{point.id}/patrols/new", {"patroller_name": "李四"}),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    db.session.expire_all()
    assert db.session.get(Hazard, hazard.id).status == "open"
    unchanged = db.session.get(WaterPoint, point.id)
    assert (unchanged.status, unchanged.name) == ("active", "白沙溪")
    assert db.session.scalar(select(Patrol)) is None


def test_the_patrol_list_is_scoped_filtered_and_escaped(as_township_officer, tree, db):
    from tests.water.conftest import XSS_NAME, make_patrol

    mine = make_point(tree.village_a1, "夏禹桥村口池塘", is_key=True)
    other = make_point(tree.village_b1, "白沙溪")
    make_patrol(mine, ago(days=1), patroller_name=XSS_NAME)
    make_patrol(mine, ago(days=20), patroller_name="很久以前")
    make_patrol(other, ago(days=1), patroller_name="别的乡镇")
    db.session.commit()
    page = as_township_officer.get("/water/patrols").get_data(as_text=True)
    assert "巡查记录" in page and "夏禹桥村口池塘" in page and "别的乡镇" not in page
    assert XSS_NAME not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    recent = as_township_officer.get(f"/water/patrols?start={factories.a_date(-5)}&key=1").get_data(as_text=True)
    assert "很久以前" not in recent and "onerror" in recent
    bad_date = as_township_officer.get("/water/patrols?start=not-a-date")
    assert bad_date.status_code == 200 and "很久以前" in bad_date.get_data(as_text=True)
