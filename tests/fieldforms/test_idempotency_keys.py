"""Idempotency keys: accepted once per user; a request that loses the race for a key replays the winner's
outcome instead of failing."""
import pytest

from campaign.fieldforms import services
from campaign.fieldforms.models import IdempotencyKey


def test_a_key_is_claimed_once_and_then_replays_its_outcome(db, users):
    claimed = services.claim(users.village_reporter, "key-0000001", "/reports/1")
    services.settle(claimed, 200, {"ok": True, "redirect": "/reports/1"})
    db.session.commit()
    replay = services.claim(users.village_reporter, "key-0000001", "/reports/1")
    assert replay == services.Replay(200, {"ok": True, "redirect": "/reports/1"})


def test_the_same_key_of_another_user_is_a_new_key(db, users):
    services.claim(users.village_reporter, "key-0000001", "/reports/1")
    db.session.commit()
    assert isinstance(services.claim(users.township_officer, "key-0000001", "/reports/1"), IdempotencyKey)


def test_a_request_that_loses_the_race_replays_the_winners_outcome(db, users, monkeypatch):
    winner = services.claim(users.village_reporter, "key-0000002", "/reports/1")
    services.settle(winner, 200, {"ok": True, "redirect": "/reports/1"})
    db.session.commit()
    looked_up = []
    real_stored = services._stored

    def stored_after_the_check(user, key):  # the other request committed between our look-up and insert
        looked_up.append(key)
        return None if len(looked_up) == 1 else real_stored(user, key)

    monkeypatch.setattr(services, "_stored", stored_after_the_check)
    replay = services.claim(users.village_reporter, "key-0000002", "/reports/1")
    assert replay == services.Replay(200, {"ok": True, "redirect": "/reports/1"})
    assert len(looked_up) == 2
    db.session.commit()  # the transaction is still usable after the refused insert
    assert db.session.query(IdempotencyKey).count() == 1


@pytest.mark.parametrize("raw, expected", [(None, None), ("", None), ("  ", None),
                                           ("5b0e3c1a-9f2d-4a1b", "5b0e3c1a-9f2d-4a1b")])
def test_keys_are_cleaned(raw, expected):
    assert services.clean_key(raw) == expected


@pytest.mark.parametrize("raw", ["short", "x" * 65, "a b c d e f g h", "钥匙钥匙钥匙钥匙钥匙", "key/../../etc"])
def test_malformed_keys_are_refused(raw):
    with pytest.raises(services.IdempotencyError):
        services.clean_key(raw)
