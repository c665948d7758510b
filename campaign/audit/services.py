"""Recording audit entries; services call ``record()`` in the same transaction as the write."""
from datetime import date, datetime

from flask import has_request_context, request
from flask_login import current_user

from ..extensions import db
from .models import AuditRecord


def snapshot(obj, fields) -> dict:
    """The named attributes of obj as JSON-safe values, for the before/after columns."""
    return {field: _json_safe(getattr(obj, field)) for field in fields}


def _json_safe(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def record(action: str, entity_type: str, entity_id=None, before=None, after=None, actor=None):
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    address = (request.remote_addr or "") if has_request_context() else "cli"
    if before is not None and after is not None:
        changed = {key for key in set(before) | set(after) if before.get(key) != after.get(key)}
        before = {key: before.get(key) for key in changed}
        after = {key: after.get(key) for key in changed}
    entry = AuditRecord(
        action=action,
        entity_type=entity_type,
        entity_id="" if entity_id is None else str(entity_id),
        before=before,
        after=after,
        user_id=actor.id if actor is not None else None,
        username=actor.username if actor is not None else "",
        address=address[:64],
    )
    db.session.add(entry)
    return entry
