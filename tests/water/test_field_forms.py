"""The water forms filled in the field: the patrol form starts at now with the user's own name; a resent
form (same idempotency key) is recorded once; scripts and the offline outbox get JSON answers."""
import re
from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import User
from campaign.timeutil import local_zone
from campaign.water.models import Hazard, Patrol, WaterPoint
from tests import factories
from tests.water.conftest import make_point, photo_file

JSON = {"Accept": "application/json"}


def count(db, model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def patrol_fields(**extra):
    return {"patrol_date": factories.a_date(0).isoformat(), "patrol_time": "08:30", "patroller_name": "张三",
            "findings": "塘边无人", "idempotency_key": uuid4().hex, **extra}


def test_the_patrol_form_starts_at_now_with_the_users_own_name(as_village_reporter, users, tree, db):
    point = make_point(tree.village_a1)
    db.session.get(User, users.village_reporter.id).display_name = "李春花"
    db.session.commit()
    before = datetime.now(local_zone()).replace(second=0, microsecond=0)
    html = as_village_reporter.get(f"/water/{point.id}/patrols/new").get_data(as_text=True)
    after = datetime.now(local_zone())
    day = re.search(r'name="patrol_date" required type="date" value="([\d-]+)"', html).group(1)
    moment = re.search(r'name="patrol_time" required type="time" value="(\d\d:\d\d)"', html).group(1)
    shown = datetime.fromisoformat(f"{day}T{moment}").replace(tzinfo=local_zone())
    assert before - timedelta(minutes=1) <= shown <= after
    assert 'value="李春花"' in html
    assert "data-field-form" in html and 'name="idempotency_key"' in html


def test_a_resent_patrol_is_recorded_once(as_village_reporter, tree, db):
    point = make_point(tree.village_a1)
    db.session.commit()
    fields = patrol_fields()
    first = as_village_reporter.post_form(f"/water/{point.id}/patrols/new", fields)
    again = as_village_reporter.post_form(f"/water/{point.id}/patrols/new", fields)
    assert first.status_code == again.status_code == 302 and first.location == again.location
    assert count(db, Patrol) == 1


def test_a_patrol_with_photos_answers_json_and_a_replay_the_same(as_village_reporter, tree, db):
    point = make_point(tree.village_a1)
    db.session.commit()
    fields = patrol_fields()
    answers = [as_village_reporter.post_form(f"/water/{point.id}/patrols/new",
                                             {**fields, "photos": [photo_file("塘边.jpg")]},
                                             content_type="multipart/form-data", headers=JSON) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].get_json() == answers[1].get_json() == {
        "ok": True, "redirect": f"/water/{point.id}", "message": "巡查记录已保存。"}
    assert count(db, Patrol) == 1


def test_a_patrol_without_patroller_or_time_names_the_fields_in_json(as_village_reporter, tree, db):
    point = make_point(tree.village_a1)
    db.session.commit()
    response = as_village_reporter.post_form(f"/water/{point.id}/patrols/new",
                                             patrol_fields(patroller_name="", patrol_time=""), headers=JSON)
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and set(body["errors"]) == {"patroller_name", "patrol_time"}
    assert all(re.search(r"[\u4e00-\u9fff]", texts[0]) for texts in body["errors"].values())
    assert body["labels"] == {"patroller_name": "巡查人", "patrol_time": "时间（北京时间）"}  # for the outbox page
    assert count(db, Patrol) == 0


def test_a_resent_hazard_is_recorded_once(as_village_reporter, tree, db):
    point = make_point(tree.village_a1)
    db.session.commit()
    fields = {"found_on": factories.a_date(0).isoformat(), "rectify_by": factories.a_date(7).isoformat(),
              "description": "护栏缺失", "owner_name": "王五", "idempotency_key": uuid4().hex}
    for _ in range(2):
        response = as_village_reporter.post_form(f"/water/{point.id}/hazards/new", fields, headers=JSON)
        assert response.status_code == 200 and response.get_json()["ok"] is True
    assert count(db, Hazard) == 1


def test_a_resent_water_point_is_registered_once(as_village_reporter, tree, db):
    fields = {"unit_id": tree.village_a1.id, "name": "新塘", "kind": "pond", "danger_level": "medium",
              "latitude": "30.2", "longitude": "119.7", "idempotency_key": uuid4().hex}
    before = count(db, WaterPoint)
    first, again = (as_village_reporter.post_form("/water/new", fields) for _ in range(2))
    assert first.status_code == again.status_code == 302 and first.location == again.location
    assert count(db, WaterPoint) == before + 1


@pytest.mark.parametrize("role, status", [("village_reporter", 404), ("viewer", 403)])
def test_another_villages_point_or_a_read_only_role_gets_a_json_refusal(login, tree, db, role, status):
    point = make_point(tree.village_a2)
    db.session.commit()
    response = login(role).post_form(f"/water/{point.id}/patrols/new", patrol_fields(), headers=JSON)
    assert response.status_code == status
    assert response.get_json()["ok"] is False and response.get_json()["message"]
    assert count(db, Patrol) == 0


def test_editing_a_point_someone_changed_meanwhile_answers_409_with_their_values(as_village_reporter, tree, db):
    point = make_point(tree.village_a1, name="村口池塘")
    db.session.commit()
    stale = point.version
    db.session.get(WaterPoint, point.id).name = "村口大塘"
    db.session.commit()
    response = as_village_reporter.post_form(f"/water/{point.id}/edit", {
        "unit_id": tree.village_a1.id, "name": "我改的名字", "kind": "pond", "danger_level": "medium",
        "latitude": "30.2", "longitude": "119.7", "version": str(stale), "idempotency_key": uuid4().hex,
    }, headers=JSON)
    assert response.status_code == 409
    body = response.get_json()
    assert body["conflict"] is True and body["theirs"]["name"] == "村口大塘" and body["message"]
    db.session.expire_all()
    assert db.session.get(WaterPoint, point.id).name == "村口大塘"
