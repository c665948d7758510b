"""Idempotency-Key on the API's writes: a retried call is accepted once and answered like the first."""
import io
from uuid import uuid4

import pytest

from campaign.reporting import services
from tests.api.conftest import error_of
from tests.reporting.conftest import jpeg_bytes


def add(client, assignment, quantity, day, key):
    return client.post(f"/assignments/{assignment.id}/instalments", headers={"Idempotency-Key": key},
                       json={"quantity": quantity, "reported_on": str(day)})


def test_a_retried_instalment_is_counted_once_and_gets_the_first_answer(api, db, running):
    client = api("village_reporter")
    key = uuid4().hex
    first = add(client, running.signs_a1, 5, running.campaign.start_date, key)
    retry = add(client, running.signs_a1, 5, running.campaign.start_date, key)
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    db.session.expire_all()
    assert services.quantity_total(running.signs_a1) == 5


def test_without_a_key_each_call_counts(api, db, running):
    client = api("village_reporter")
    for _ in range(2):
        client.post(f"/assignments/{running.signs_a1.id}/instalments",
                    json={"quantity": 2, "reported_on": str(running.campaign.start_date)})
    db.session.expire_all()
    assert services.quantity_total(running.signs_a1) == 4


def test_a_retried_upload_and_submit_happen_once(api, db, running):
    client = api("village_reporter")
    report = running.signs_a1
    upload_key, submit_key = uuid4().hex, uuid4().hex
    for _ in range(2):
        response = client.post(f"/assignments/{report.id}/evidence", headers={"Idempotency-Key": upload_key},
                               data={"files": [(io.BytesIO(jpeg_bytes()), "标牌.jpg")]},
                               content_type="multipart/form-data")
        assert response.status_code == 201
    version = response.get_json()["assignment"]["version"]
    answers = [client.post(f"/assignments/{report.id}/submit", headers={"Idempotency-Key": submit_key},
                           json={"expected_version": version}) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    db.session.expire_all()
    assert len(services.evidence_of(report)) == 1 and report.status == "submitted"


def test_a_refused_call_does_not_use_up_its_key(api, db, running):
    client = api("village_reporter")
    key = uuid4().hex
    error_of(client.post(f"/assignments/{running.signs_a1.id}/instalments", headers={"Idempotency-Key": key},
                         json={"quantity": -1, "reported_on": str(running.campaign.start_date)}), 400)
    assert add(client, running.signs_a1, 3, running.campaign.start_date, key).status_code == 201


def test_the_same_key_on_another_request_is_refused(api, db, running):
    client = api("village_reporter")
    key = uuid4().hex
    add(client, running.signs_a1, 3, running.campaign.start_date, key)
    error = error_of(add(client, running.leaflets_a1, 3, running.campaign.start_date, key), 422)
    assert error["code"] == "idempotency_key_other_scope" and "Idempotency-Key" in error["message"]


def test_keys_are_per_user(api, db, running, users):
    key = uuid4().hex
    add(api("village_reporter"), running.signs_a1, 3, running.campaign.start_date, key)
    other = api("admin").post(f"/assignments/{running.signs_a2.id}/instalments", headers={"Idempotency-Key": key},
                              json={"quantity": 3, "reported_on": str(running.campaign.start_date)})
    assert other.status_code in (201, 403)
    assert "Idempotent-Replayed" not in other.headers


@pytest.mark.parametrize("key", ["short", "with space 12345", "é" * 10])
def test_a_malformed_key_is_refused_in_chinese(api, db, running, key):
    client = api("village_reporter")
    response = client.post(f"/assignments/{running.signs_a1.id}/instalments",
                           headers={"Idempotency-Key": key.encode().decode("latin-1")},
                           json={"quantity": 1, "reported_on": str(running.campaign.start_date)})
    error = error_of(response, 400)
    assert error["code"] == "idempotency_key_invalid" and "Idempotency-Key" in error["message"]
    db.session.expire_all()
    assert services.quantity_total(running.signs_a1) == 0
