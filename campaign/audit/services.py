"""Recording audit entries; services call ``record()`` in the same transaction as the write."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import and_, or_, select

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
        changed = [key for key in {**before, **after} if before.get(key) != after.get(key)]
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


AUDIT_PAGE_SIZE = 50


@dataclass
class AuditFilters:
    action: str = ""
    entity_type: str = ""
    entity_id: str = ""
    username: str = ""
    since: date | None = None
    until: date | None = None


@dataclass
class AuditPage:
    records: list
    has_next: bool
    has_prev: bool = False

    @property
    def first_id(self):
        return self.records[0].id if self.records else None

    @property
    def last_id(self):
        return self.records[-1].id if self.records else None


def browse(user, filters: AuditFilters, before: int | None = None, after: int | None = None) -> AuditPage:
    """Newest first, one page. A user sees what was done by users of their own part of the tree;
    admins also see what the command line did (no user)."""
    from ..accounts.models import Role, User
    from ..permissions import units_within
    from ..timeutil import local_to_utc
    from ..units.models import Unit

    by_scope = AuditRecord.user_id.in_(select(User.id).join(Unit, User.unit_id == Unit.id).where(units_within(user)))
    if user.role == Role.ADMIN.value:
        by_scope = or_(by_scope, AuditRecord.user_id.is_(None))
    query = select(AuditRecord).where(by_scope)
    if filters.action:
        query = query.where(AuditRecord.action == filters.action)
    if filters.entity_type:
        query = query.where(AuditRecord.entity_type == filters.entity_type)
    if filters.entity_id:
        query = query.where(AuditRecord.entity_id == filters.entity_id)
    if filters.username:
        query = query.where(AuditRecord.username == filters.username)
    if filters.since:
        query = query.where(AuditRecord.at >= local_to_utc(filters.since, time.min))
    if filters.until:
        query = query.where(AuditRecord.at < local_to_utc(filters.until + timedelta(days=1), time.min))
    return _keyset_page(query, before, after)


def _keyset_page(query, before, after) -> AuditPage:
    """Newest first by (at, id), keyed on the record the reader came from, not by OFFSET: the last
    page of a trail that only grows costs what the first does. ``before``: older than that record
    (next page); ``after``: newer than it (previous page)."""
    newest_first = (AuditRecord.at.desc(), AuditRecord.id.desc())
    if after:
        mark = select(AuditRecord.at).where(AuditRecord.id == after).scalar_subquery()
        rows = db.session.scalars(
            query.where(or_(AuditRecord.at > mark, and_(AuditRecord.at == mark, AuditRecord.id > after)))
            .order_by(AuditRecord.at, AuditRecord.id).limit(AUDIT_PAGE_SIZE + 1)
        ).all()
        newer = len(rows) > AUDIT_PAGE_SIZE
        return AuditPage(records=list(reversed(rows[:AUDIT_PAGE_SIZE])), has_next=True, has_prev=newer)
    if before:
        mark = select(AuditRecord.at).where(AuditRecord.id == before).scalar_subquery()
        query = query.where(or_(AuditRecord.at < mark, and_(AuditRecord.at == mark, AuditRecord.id < before)))
    rows = db.session.scalars(query.order_by(*newest_first).limit(AUDIT_PAGE_SIZE + 1)).all()
    return AuditPage(records=rows[:AUDIT_PAGE_SIZE], has_next=len(rows) > AUDIT_PAGE_SIZE, has_prev=bool(before))


def filter_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(actions, record kinds) as (code, words) pairs, by words: the whole vocabulary, and any code
    found in the trail that the vocabulary does not know yet."""
    from .describe import action_label, entity_label
    from .labels import ACTION_LABELS, ENTITY_LABELS

    actions = set(ACTION_LABELS) | set(db.session.scalars(select(AuditRecord.action).distinct()))
    kinds = set(ENTITY_LABELS) | set(db.session.scalars(select(AuditRecord.entity_type).distinct()))
    return (sorted(((code, action_label(code)) for code in actions), key=lambda pair: (pair[1], pair[0])),
            sorted(((code, entity_label(code)) for code in kinds), key=lambda pair: (pair[1], pair[0])))
