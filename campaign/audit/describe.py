"""Audit records as the office reads them: actions, records and changes in words, not codes.

The titles of the records an entry names (its own record and the ids among its values) are loaded
in one query per kind of record for the whole page, so a page costs the same whatever its length.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import format_date, gettext as _
from sqlalchemy import select

from ..extensions import db
from ..i18n import (
    ASSIGNMENT_STATUS_LABELS,
    CAMPAIGN_STATUS_LABELS,
    MEASURE_LABELS,
    MEASURE_UNIT_LABELS,
    ROLE_LABELS,
    UNIT_CATEGORY_LABELS,
    UNIT_KIND_LABELS,
    label,
)
from ..timeutil import format_local
from .labels import (
    ACTION_LABELS,
    ACTION_VERBS,
    ENTITY_LABELS,
    FIELD_LABELS,
    FIGURE_NOTE,
    FIGURE_TEXT,
    FILE_KIND_LABELS,
    PHOTO_PURPOSE_LABELS,
    RECORD_NUMBER,
    RECORD_TITLE,
)

EMPTY = "—"
LIST_SEPARATOR = "、"
DATE_FIELDS = frozenset({"start_date", "end_date", "due_date", "found_on", "rectify_by", "reported_on"})
DATETIME_FIELDS = frozenset({"deadline_at", "submitted_at", "first_submitted_at", "reviewed_at", "revoked_at",
                             "removed_at", "taken_at", "patrolled_at", "until_at"})
# Fields whose value is the id of another record, and the kind of that record.
REFERENCES = {
    "unit_id": "unit", "parent_id": "unit", "root_unit_id": "unit", "scope_unit_id": "unit",
    "campaign_id": "campaign", "task_id": "task", "assignment_id": "assignment",
    "water_point_id": "water_point", "hazard_id": "hazard", "patrol_id": "patrol",
    "user_id": "user", "reviewed_by_id": "user", "uploaded_by_id": "user", "removed_by_id": "user",
}
# Fields named alike in several records: which vocabulary depends on the record.
STATUS_LABELS = {
    "campaign": CAMPAIGN_STATUS_LABELS,
    "assignment": ASSIGNMENT_STATUS_LABELS,
    "township_summary": ASSIGNMENT_STATUS_LABELS,
}
SNAPSHOT_TITLES = ("title", "name", "display_name", "original_name")
HIDDEN_FIELDS = frozenset({"version"})  # the edit-conflict counter: it says nothing to the office
TITLE_PART_LENGTH = 40


@dataclass
class Change:
    field: str
    before: str | None
    after: str | None


@dataclass
class AuditRow:
    entry: object
    action: str
    subject: str
    changes: list


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    kind, _dot, verb = action.rpartition(".")
    if verb in ACTION_VERBS and kind:
        return f"{ACTION_VERBS[verb]}：{entity_label(kind)}"
    return _readable(action)


def entity_label(kind: str) -> str:
    return str(ENTITY_LABELS[kind]) if kind in ENTITY_LABELS else _readable(kind)


def field_label(field: str) -> str:
    return str(FIELD_LABELS[field]) if field in FIELD_LABELS else _readable(field)


def _readable(code: str) -> str:
    return re.sub(r"[._]+", " ", code or "").strip()


def describe(records) -> list[AuditRow]:
    titles = _load_titles(_wanted_titles(records))
    return [_row(entry, titles) for entry in records]


def _row(entry, titles) -> AuditRow:
    before, after = entry.before or {}, entry.after or {}
    changes = []
    for field in sorted({**before, **after}, key=lambda name: name != "status"):
        if field in HIDDEN_FIELDS or (_empty(before.get(field)) and _empty(after.get(field))):
            continue
        changes.append(Change(
            field=field_label(field),
            before=_value(entry.entity_type, field, before[field], titles) if field in before else None,
            after=_value(entry.entity_type, field, after[field], titles) if field in after else None,
        ))
    return AuditRow(entry=entry, action=action_label(entry.action), subject=_subject(entry, titles), changes=changes)


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _subject(entry, titles) -> str:
    kind = entity_label(entry.entity_type)
    title = titles.get((entry.entity_type, _as_id(entry.entity_id)))
    if not title:
        for values in (entry.after or {}, entry.before or {}):
            title = next((values[key] for key in SNAPSHOT_TITLES if isinstance(values.get(key), str)), None)
            if title:
                break
    if title:
        return str(RECORD_TITLE) % {"kind": kind, "title": title}
    if entry.entity_id:
        return str(RECORD_NUMBER) % {"kind": kind, "number": entry.entity_id}
    return kind


def _value(entity_type, field, value, titles) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field in REFERENCES and _as_id(value) is not None:
        return titles.get((REFERENCES[field], _as_id(value))) or str(value)
    if field == "campaign" and entity_type == "demo":
        return titles.get(("campaign", _as_id(value))) or str(value)
    if field == "figures" and isinstance(value, dict):
        return _figures(value, titles)
    vocabulary = _vocabulary(entity_type, field)
    if vocabulary is not None:
        return _enum_text(vocabulary, value)
    if field == "playbook_key":
        from ..campaigns.playbooks import get_playbook

        playbook = get_playbook(value)
        return playbook.title if playbook else str(value)
    if field in DATE_FIELDS:
        return _date_text(value)
    if field in DATETIME_FIELDS:
        return _datetime_text(value)
    return _plain(value)


def _vocabulary(entity_type, field):
    from ..progress.chasing_views import CHANNEL_LABELS
    from ..water.messages import DANGER_LABELS, HAZARD_STATUS_LABELS, KIND_LABELS, POINT_STATUS_LABELS

    if field == "status":
        return {**STATUS_LABELS, "hazard": HAZARD_STATUS_LABELS, "water_point": POINT_STATUS_LABELS}.get(entity_type)
    if field == "kind":
        return {"unit": UNIT_KIND_LABELS, "water_point": KIND_LABELS, "evidence": FILE_KIND_LABELS}.get(entity_type)
    return {
        "category": UNIT_CATEGORY_LABELS, "unit_category": UNIT_CATEGORY_LABELS, "unit_kinds": UNIT_KIND_LABELS,
        "measure": MEASURE_LABELS, "measure_unit": MEASURE_UNIT_LABELS, "role": ROLE_LABELS,
        "danger_level": DANGER_LABELS, "channel": CHANNEL_LABELS, "purpose": PHOTO_PURPOSE_LABELS,
    }.get(field)


def _enum_text(vocabulary, value) -> str:
    if isinstance(value, str) and "," in value:
        value = [part for part in value.split(",") if part]
    if isinstance(value, list):
        return LIST_SEPARATOR.join(label(vocabulary, item) for item in value) or EMPTY
    return label(vocabulary, value)


def _date_text(value) -> str:
    try:
        return format_date(date.fromisoformat(str(value)), "long")
    except ValueError:
        return str(value)


def _datetime_text(value) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    pattern = "%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M"
    return format_local(moment, pattern) if moment.tzinfo else moment.strftime(pattern)


def _figures(figures: dict, titles) -> str:
    parts = []
    for task_id, figure in figures.items():
        compiled, corrected, note = (list(figure) + [None, None, None])[:3]
        text = str(_plain(compiled))
        if corrected is not None and corrected != compiled:
            text = str(FIGURE_TEXT) % {"compiled": _plain(compiled), "corrected": _plain(corrected)}
        if note:
            text = str(FIGURE_NOTE) % {"figures": text, "note": note}
        parts.append(f"{titles.get(('task', _as_id(task_id))) or task_id}：{text}")
    return "；".join(parts) or EMPTY


def _plain(value) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return LIST_SEPARATOR.join(
            str(item.get("name") or item.get("id")) if isinstance(item, dict) else _plain(item) for item in value
        ) or EMPTY
    if isinstance(value, dict):
        return "；".join(f"{field_label(key)}：{_plain(item)}" for key, item in value.items())
    return str(value)


def _as_id(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# --- the titles of the records a page names, one query per kind ------------------------------

def _wanted_titles(records) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = {}

    def want(kind, value):
        number = _as_id(value)
        if number is not None:
            wanted.setdefault(kind, set()).add(number)

    for entry in records:
        want(entry.entity_type, entry.entity_id)
        for values in (entry.before or {}, entry.after or {}):
            for field, value in values.items():
                if field in REFERENCES:
                    want(REFERENCES[field], value)
                elif field == "campaign" and entry.entity_type == "demo":
                    want("campaign", value)
                elif field == "figures" and isinstance(value, dict):
                    for task_id in value:
                        want("task", task_id)
    return wanted


def _load_titles(wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    titles = {}
    for kind, ids in wanted.items():
        query = _title_query(kind)
        if query is None or not ids:
            continue
        for number, *parts in db.session.execute(query(sorted(ids))):
            titles[(kind, number)] = " · ".join(_shortened(str(part)) for part in parts if part not in (None, ""))
    return titles


def _shortened(text: str) -> str:
    return text if len(text) <= TITLE_PART_LENGTH else text[:TITLE_PART_LENGTH - 1] + "…"


def _title_query(kind):
    from ..accounts.models import User
    from ..api.models import ApiToken
    from ..campaigns.models import Assignment, Campaign, Task
    from ..evidence.models import Evidence
    from ..reporting.models import LockException
    from ..summary.models import TownshipSummary
    from ..units.models import Unit
    from ..water.models import Hazard, Patrol, WaterPhoto, WaterPoint

    simple = {
        "unit": (Unit.id, Unit.name), "campaign": (Campaign.id, Campaign.title), "task": (Task.id, Task.title),
        "water_point": (WaterPoint.id, WaterPoint.name), "evidence": (Evidence.id, Evidence.original_name),
        "api_token": (ApiToken.id, ApiToken.name), "user": (User.id, User.display_name, User.username),
    }
    if kind in simple:
        columns = simple[kind]
        return lambda ids: select(*columns).where(columns[0].in_(ids))
    joined = {
        "assignment": (select(Assignment.id, Unit.name, Task.title).join(Unit, Assignment.unit_id == Unit.id)
                       .join(Task, Assignment.task_id == Task.id), Assignment.id),
        "township_summary": (select(TownshipSummary.id, Unit.name, Campaign.title)
                             .join(Unit, TownshipSummary.unit_id == Unit.id)
                             .join(Campaign, TownshipSummary.campaign_id == Campaign.id), TownshipSummary.id),
        "lock_exception": (select(LockException.id, Unit.name).join(Unit, LockException.unit_id == Unit.id),
                           LockException.id),
        "hazard": (select(Hazard.id, WaterPoint.name, Hazard.description)
                   .join(WaterPoint, Hazard.water_point_id == WaterPoint.id), Hazard.id),
        "patrol": (select(Patrol.id, WaterPoint.name, Patrol.patroller_name)
                   .join(WaterPoint, Patrol.water_point_id == WaterPoint.id), Patrol.id),
        "water_photo": (select(WaterPhoto.id, WaterPoint.name, WaterPhoto.original_name)
                        .join(WaterPoint, WaterPhoto.water_point_id == WaterPoint.id), WaterPhoto.id),
    }
    if kind in joined:
        query, key = joined[kind]
        return lambda ids: query.where(key.in_(ids))
    return None
