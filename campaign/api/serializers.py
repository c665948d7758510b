"""Model objects as JSON. Times are ISO 8601 in UTC with a "Z" (2026-11-05T09:00:00Z); dates are
YYYY-MM-DD. Labels are in the request's language."""
import json
from datetime import date, datetime, timezone

from flask import current_app, url_for

from ..i18n import ASSIGNMENT_STATUS_LABELS, MEASURE_UNIT_LABELS, ROLE_LABELS, UNIT_KIND_LABELS
from ..permissions import PERMISSIONS, has_permission
from ..reporting.messages import ACTION_LABELS


def iso_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_date(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def json_safe(value):
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def json_response(data, status=200):
    """UTF-8 JSON (Chinese stays readable in curl), never cached: it holds private data."""
    response = current_app.response_class(
        json.dumps(json_safe(data), ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype="application/json",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def label(labels: dict, key):
    return str(labels[key]) if key in labels else key


def unit_brief(unit) -> dict:
    return {"id": unit.id, "name": unit.name, "kind": unit.kind, "kind_label": label(UNIT_KIND_LABELS, unit.kind)}


def user_data(user) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_label": label(ROLE_LABELS, user.role),
        "unit": unit_brief(user.unit),
        "permissions": sorted(name for name in PERMISSIONS if has_permission(user, name)),
    }


def campaign_brief(campaign) -> dict:
    return {
        "id": campaign.id,
        "title": campaign.title,
        "status": campaign.status,
        "start_date": iso_date(campaign.start_date),
        "end_date": iso_date(campaign.end_date),
        "deadline_at": iso_time(campaign.deadline_at),
    }


def task_brief(task) -> dict:
    return {
        "id": task.id,
        "title": task.title,
        "description": task.description,
        "measure": task.measure,
        "target": task.target,
        "measure_unit": task.measure_unit,
        "measure_unit_label": label(MEASURE_UNIT_LABELS, task.measure_unit) if task.measure_unit else None,
        "requires_photo": task.requires_photo,
        "requires_document": task.requires_document,
        "due_date": iso_date(task.due_date),
    }


def assignment_summary(assignment, total: int | None, percent: int | None) -> dict:
    """The fields shown in lists; ``total`` and ``percent`` are None for a yes/no task."""
    return {
        "id": assignment.id,
        "url": url_for("api.assignment", assignment_id=assignment.id),
        "campaign": campaign_brief(assignment.campaign),
        "task": task_brief(assignment.task),
        "unit": unit_brief(assignment.unit),
        "status": assignment.status,
        "status_label": label(ASSIGNMENT_STATUS_LABELS, assignment.status),
        "version": assignment.version,
        "done": assignment.done,
        "total": total,
        "target": assignment.task.target,
        "percent": percent,
        "submitted_at": iso_time(assignment.submitted_at),
        "reviewed_at": iso_time(assignment.reviewed_at),
        "updated_at": iso_time(assignment.updated_at),
    }


def person(user_id, username, names: dict) -> dict | None:
    if user_id is None and not username:
        return None
    return {"id": user_id, "username": username, "name": names.get(user_id) or username}


def instalment_data(instalment, reporter=None) -> dict:
    return {
        "id": instalment.id,
        "quantity": instalment.quantity,
        "reported_on": iso_date(instalment.reported_on),
        "note": instalment.note,
        "reported_by": ({"id": reporter.id, "username": reporter.username,
                         "name": reporter.display_name or reporter.username} if reporter is not None else None),
        "created_at": iso_time(instalment.created_at),
    }


def evidence_data(evidence) -> dict:
    stored = evidence.stored_file
    is_image = stored.kind == "image"
    return {
        "id": evidence.id,
        "name": evidence.original_name,
        "kind": stored.kind,
        "content_type": stored.content_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "width": stored.width,
        "height": stored.height,
        "uploaded_at": iso_time(evidence.uploaded_at),
        "taken_at": iso_time(evidence.taken_at),
        "latitude": evidence.latitude,
        "longitude": evidence.longitude,
        "url": url_for("api.evidence_file", evidence_id=evidence.id),
        "thumbnail_url": url_for("api.evidence_thumbnail", evidence_id=evidence.id) if is_image else None,
        "page_url": url_for("evidence.evidence_file", evidence_id=evidence.id),
    }


def history_entry(entry, names: dict) -> dict:
    return {
        "action": entry.action,
        "action_label": label(ACTION_LABELS, entry.action),
        "at": iso_time(entry.at),
        "by": person(entry.user_id, entry.username, names),
        "before": entry.before,
        "after": entry.after,
    }


def token_data(token) -> dict:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": iso_time(token.created_at),
        "last_used_at": iso_time(token.last_used_at),
        "revoked_at": iso_time(token.revoked_at),
        "active": token.revoked_at is None,
    }


FIGURE_COUNTS = ("expected", "submitted", "approved", "returned", "on_time", "late", "missing", "reported",
                 "target_total", "reached")
FIGURE_RATES = ("submitted_rate", "on_time_rate", "late_rate", "missing_rate", "pct_reached", "reached_share")


def figures_data(figures) -> dict:
    """Counts as integers, rates as fractions (0.5 = 50 %), None where nothing is expected."""
    return {**{name: getattr(figures, name) for name in FIGURE_COUNTS},
            **{name: getattr(figures, name) for name in FIGURE_RATES}}


def progress_data(progress) -> dict:
    return {
        "campaign": {"id": progress.campaign.id, "title": progress.campaign.title,
                     "deadline": progress.campaign.deadline_at, "status": progress.campaign.status},
        "scope": {"id": progress.scope.id, "name": progress.scope.name, "kind": progress.scope.kind},
        "days_left": progress.days_left,
        "tasks": [{"id": task.id, "title": task.title, "measure": task.measure, "target": task.target,
                   "measure_unit": task.measure_unit, "totals": figures_data(progress.total(task.id))}
                  for task in progress.tasks],
        "rows": [{"unit": {"id": row.unit_id, "name": row.name, "kind": row.kind, "code": row.code},
                  "tasks": {str(task_id): figures_data(figures) for task_id, figures in row.cells.items()}}
                 for row in progress.rows],
    }
