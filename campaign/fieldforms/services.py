"""Accepting a write once per idempotency key.

``claim`` inserts the key in the request's own transaction, before the write: a concurrent request
with the same key waits on the unique index (PostgreSQL) or the write lock (SQLite) and then finds
the first one's outcome. The key is kept only when the write commits; a refused write leaves nothing,
so the user may correct the form and send it again with the same key.
"""
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .models import IdempotencyKey

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class IdempotencyError(ValueError):
    """The key is malformed (``invalid``) or was first used for another URL (``other_scope``)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Replay:
    status_code: int
    outcome: dict


def clean_key(raw) -> str | None:
    """None when absent; the key when well formed; IdempotencyError otherwise."""
    key = (raw or "").strip()
    if not key:
        return None
    if not KEY_PATTERN.match(key):
        raise IdempotencyError("invalid")
    return key


def _stored(user, key) -> IdempotencyKey | None:
    return db.session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    ).first()


def _replay_of(row: IdempotencyKey, scope: str) -> Replay:
    if row.scope != scope:
        raise IdempotencyError("other_scope")
    return Replay(row.status_code, dict(row.outcome or {}))


def claim(user, key: str | None, scope: str) -> Replay | IdempotencyKey | None:
    """The first outcome when the key was used already; else the claimed row (to ``settle``);
    None without a key."""
    if key is None:
        return None
    existing = _stored(user, key)
    if existing is not None:
        return _replay_of(existing, scope)
    row = IdempotencyKey(user_id=user.id, key=key, scope=scope[:255], status_code=0, outcome={})
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        existing = _stored(user, key)
        if existing is None:
            raise
        return _replay_of(existing, scope)
    return row


def settle(row, status_code: int, outcome: dict):
    """Record what the write answered, so a replay answers the same. No-op without a claimed key."""
    if isinstance(row, IdempotencyKey):
        row.status_code = status_code
        row.outcome = outcome
        db.session.flush()
