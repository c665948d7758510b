"""The JSON API under /api/v1/, authenticated by personal bearer tokens.

It never looks at the session cookie: ``g.api_user`` comes from the ``Authorization`` header
only, so the blueprint can be exempt from CSRF. It calls the same reporting services as the
pages; services flush, each view commits once, and a refused call rolls back.
"""
import re
from datetime import date

from flask import Blueprint, current_app, g, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .. import permissions
from ..accounts.models import User
from ..campaigns.models import AssignmentStatus, CampaignStatus
from ..database import utcnow
from ..evidence.services import UploadError, send_stored_file, store_upload, visible_evidence_or_404
from ..extensions import csrf, db
from ..reporting import services as reporting
from ..reporting.services import ReportError
from . import services
from .errors import (
    API_PREFIX,
    ApiError,
    api_error_response,
    api_message,
    error_response,
    http_error_response,
    report_error_response,
    token_error_response,
    upload_error_response,
)
from .idempotency import committed, idempotent
from .serializers import (
    assignment_summary,
    progress_data,
    evidence_data,
    history_entry,
    instalment_data,
    json_response,
    user_data,
)
from .services import TokenError

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
csrf.exempt(bp)

STATUSES = [status.value for status in AssignmentStatus]
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- authentication ------------------------------------------------------------------------------

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized")
    found = services.authenticate(credentials.strip())
    if found is None:
        raise ApiError(401, "invalid_token")
    token, user = found
    now = utcnow()
    if services.needs_touch(token, now):
        _touch(token.id, now)
    g.api_user = user
    g.api_token_id = token.id


def _touch(token_id, now):
    """Best effort, in its own short transaction that starts with the write (on SQLite a read
    transaction that turns into a write can fail under load; see docs/stack-traps.md)."""
    db.session.commit()
    try:
        services.touch(token_id, now)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("could not record the use of API token %s", token_id, exc_info=True)


def api_user():
    return g.api_user


def require(permission):
    if not permissions.has_permission(api_user(), permission):
        raise ApiError(403, "forbidden")


# --- errors --------------------------------------------------------------------------------------

@bp.errorhandler(ApiError)
def handle_api_error(error):
    db.session.rollback()
    return api_error_response(error)


@bp.errorhandler(ReportError)
def handle_report_error(error):
    db.session.rollback()
    return report_error_response(error)


@bp.errorhandler(UploadError)
def handle_upload_error(error):
    db.session.rollback()
    return upload_error_response(error)


@bp.errorhandler(TokenError)
def handle_token_error(error):
    db.session.rollback()
    return token_error_response(error)


def handle_http_error(error):
    db.session.rollback()
    return http_error_response(error)


# By code as well as by class: Flask prefers the app's handler for a code (its HTML 404, 413 …)
# to a blueprint's handler for the class.
bp.register_error_handler(HTTPException, handle_http_error)
for _code in (400, 401, 403, 404, 405, 413, 415):
    bp.register_error_handler(_code, handle_http_error)


@bp.errorhandler(500)
def handle_server_error(error):
    db.session.rollback()
    return error_response(500, "server_error", api_message("server_error"))


# --- reading the request -------------------------------------------------------------------------

def json_body() -> dict:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json")
    return body


def integer_field(body, name, *, required=True):
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, "field_required", field=name)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, "field_invalid", field=name, expected="integer")
    return value


def text_field(body, name, *, default=None):
    value = body.get(name, default)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "field_invalid", field=name, expected="string")
    return value


def boolean_field(body, name):
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise ApiError(400, "field_invalid", field=name, expected="boolean")
    return value


def date_field(body, name):
    value = body.get(name)
    if value is None:
        raise ApiError(400, "field_required", field=name)
    if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value):
        raise ApiError(400, "field_invalid", field=name, expected="date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "field_invalid", field=name, expected="date") from None


def integer_arg(name, default=None, minimum=1):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9 or int(raw) < minimum:
        raise ApiError(400, "bad_parameter", parameter=name)
    return int(raw)


# --- assignments ---------------------------------------------------------------------------------

def visible_assignment(assignment_id):
    require("campaigns.view")
    assignment = reporting.assignment_for(api_user(), assignment_id)
    if assignment is None:
        raise ApiError(404, "not_found")
    return assignment


def reporter_assignment(assignment_id):
    """404 outside the user's scope, 403 when the user may see the report but not report."""
    assignment = visible_assignment(assignment_id)
    if not reporting.can_report(api_user(), assignment):
        raise ApiError(403, "forbidden")
    return assignment


def reviewer_assignment(assignment_id):
    require("assignments.review")
    assignment = visible_assignment(assignment_id)
    if not reporting.can_review(api_user(), assignment):
        raise ApiError(403, "forbidden")
    return assignment


def line_data(line):
    quantity = line.assignment.task.is_quantity
    return assignment_summary(line.assignment, line.total if quantity else None, line.percent)


def user_names(user_ids) -> dict:
    ids = {user_id for user_id in user_ids if user_id}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(ids)))
    return {user_id: display or username for user_id, display, username in rows}


def assignment_detail(assignment) -> dict:
    """Everything the report page shows, in a fixed number of queries."""
    user = api_user()
    now = utcnow()
    task, campaign = assignment.task, assignment.campaign
    total = reporting.quantity_total(assignment) if task.is_quantity else None
    locked = reporting.is_locked(assignment, now)
    exception = None
    if not locked and now >= campaign.deadline_at:
        exception = reporting.lock_exception_for(campaign.id, assignment.unit_id, now)
    editable = assignment.status in reporting.EDITABLE_STATUSES
    may_report = reporting.can_report(user, assignment)
    records = reporting.history(assignment)
    names = user_names([entry.user_id for entry in records] + [assignment.reviewed_by_id])
    data = assignment_summary(assignment, total, reporting.percent_of(total, task) if total is not None else None)
    data.update(
        note=assignment.note,
        return_reason=assignment.return_reason,
        reviewed_by=({"id": assignment.reviewed_by_id, "name": names.get(assignment.reviewed_by_id)}
                     if assignment.reviewed_by_id else None),
        first_submitted_at=assignment.first_submitted_at,
        locked=locked,
        lock_exception_until=exception.until_at if exception else None,
        editable=editable,
        may_report=may_report,
        may_edit=may_report and editable and not locked,
        may_review=reporting.can_review(user, assignment) and campaign.status != CampaignStatus.CLOSED.value,
        missing_evidence=reporting.missing_evidence(assignment) if may_report and editable else [],
        instalments=[instalment_data(item, reporter) for item, reporter in reporting.instalments_of(assignment)]
        if task.is_quantity else [],
        evidence=[evidence_data(item) for item in reporting.evidence_of(assignment)],
        history=[history_entry(entry, names) for entry in records],
    )
    return data


def fresh_detail(assignment_id) -> dict:
    return assignment_detail(visible_assignment(assignment_id))


@bp.get("/openapi.json")
def openapi():
    """This API described as OpenAPI 3.1 (campaign/api/openapi.py); no token needed."""
    from .openapi import document

    return json_response(document(request.script_root))


@bp.get("/me")
def me():
    user = api_user()
    return json_response({**user_data(user), "token_id": g.api_token_id})


@bp.get("/campaigns/<int:campaign_id>/progress")
def campaign_progress(campaign_id):
    """The dashboard's figures, from the same computation, so the API, the page and the workbook agree."""
    from ..campaigns.services import visible_campaign
    from ..progress.services import campaign_progress as compute, progress_scope

    require("progress.view")
    user = api_user()
    campaign = visible_campaign(user, campaign_id)
    if campaign is None or campaign.is_draft:
        raise ApiError(404, "not_found")
    return json_response(progress_data(compute(campaign, progress_scope(user, campaign))))


@bp.get("/assignments")
def assignments():
    """Without ``status``: the user's own unit's tasks in active campaigns. With ``status``
    (a status or ``all``), a reviewer gets the review queue of the units below them."""
    require("campaigns.view")
    user = api_user()
    status = request.args.get("status")
    if status is not None and status not in [*STATUSES, "all"]:
        raise ApiError(400, "bad_parameter", parameter="status")
    campaign_id = integer_arg("campaign")
    task_id = integer_arg("task")
    if status and permissions.has_permission(user, "assignments.review"):
        page = integer_arg("page", 1)
        per_page = min(integer_arg("per_page", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        lines, count = reporting.review_queue(
            user, campaign_id=campaign_id, task_id=task_id, status="" if status == "all" else status,
            limit=per_page, offset=(page - 1) * per_page,
        )
        return json_response({"scope": "review", "count": count, "page": page, "per_page": per_page,
                              "items": [line_data(line) for line in lines]})
    lines = [
        line for group in reporting.my_assignments(user) for line in group.lines
        if (not status or status == "all" or line.assignment.status == status)
        and (campaign_id is None or line.assignment.campaign_id == campaign_id)
        and (task_id is None or line.assignment.task_id == task_id)
    ]
    return json_response({"scope": "mine", "count": len(lines), "items": [line_data(line) for line in lines]})


@bp.get("/assignments/<int:assignment_id>")
def assignment(assignment_id):
    return json_response(assignment_detail(visible_assignment(assignment_id)))


@bp.post("/assignments/<int:assignment_id>/instalments")
@idempotent
def add_instalment(assignment_id):
    assignment = reporter_assignment(assignment_id)
    body = json_body()
    quantity = integer_field(body, "quantity")
    reported_on = date_field(body, "reported_on")
    note = text_field(body, "note", default="")
    instalment = reporting.add_instalment(assignment, api_user(), quantity=quantity, reported_on=reported_on,
                                          note=note)
    return committed({"instalment": instalment_data(instalment, api_user()),
                      "assignment": fresh_detail(assignment_id)}, 201)


@bp.route("/assignments/<int:assignment_id>/report", methods=["PUT", "POST"])
@idempotent
def save_report(assignment_id):
    """Save the note (and, for a yes/no task, ``done``) as a draft; a missing note keeps the saved one."""
    assignment = reporter_assignment(assignment_id)
    body = json_body()
    expected_version = integer_field(body, "expected_version")
    note = text_field(body, "note", default=assignment.note)
    done = boolean_field(body, "done")
    reporting.save_report(assignment, api_user(), expected_version=expected_version, note=note,
                          done=None if assignment.task.is_quantity else done)
    return committed({"assignment": fresh_detail(assignment_id)})


@bp.post("/assignments/<int:assignment_id>/submit")
@idempotent
def submit_report(assignment_id):
    assignment = reporter_assignment(assignment_id)
    expected_version = integer_field(json_body(), "expected_version")
    reporting.submit_report(assignment, api_user(), expected_version=expected_version)
    return committed({"assignment": fresh_detail(assignment_id)})


@bp.post("/assignments/<int:assignment_id>/evidence")
@idempotent
def upload_evidence(assignment_id):
    """Multipart upload of one or more files (any field name; ``files`` in the docs)."""
    assignment = reporter_assignment(assignment_id)
    reporting.check_evidence_change(assignment, api_user())
    files = [item for name in request.files for item in request.files.getlist(name)]
    uploads = [store_upload(item) for item in files]
    added = reporting.add_evidence(assignment, api_user(), uploads)
    return committed({"evidence": [evidence_data(item) for item in added],
                      "assignment": fresh_detail(assignment_id)}, 201)


@bp.delete("/assignments/<int:assignment_id>/evidence/<int:evidence_id>")
def remove_evidence(assignment_id, evidence_id):
    assignment = reporter_assignment(assignment_id)
    evidence = reporting.evidence_item(assignment, evidence_id)
    if evidence is None:
        raise ApiError(404, "not_found")
    reporting.remove_evidence_from(assignment, evidence, api_user())
    db.session.commit()
    return json_response({"assignment": fresh_detail(assignment_id)})


@bp.post("/assignments/<int:assignment_id>/approve")
def approve(assignment_id):
    assignment = reviewer_assignment(assignment_id)
    expected_version = integer_field(json_body(), "expected_version")
    reporting.approve(assignment, api_user(), expected_version=expected_version)
    db.session.commit()
    return json_response({"assignment": fresh_detail(assignment_id)})


@bp.post("/assignments/<int:assignment_id>/return")
def return_report(assignment_id):
    assignment = reviewer_assignment(assignment_id)
    body = json_body()
    expected_version = integer_field(body, "expected_version")
    reason = text_field(body, "reason", default="")
    reporting.return_report(assignment, api_user(), expected_version=expected_version, reason=reason)
    db.session.commit()
    return json_response({"assignment": fresh_detail(assignment_id)})


# --- evidence files ------------------------------------------------------------------------------

@bp.get("/evidence/<int:evidence_id>")
def evidence_file(evidence_id):
    require("evidence.view")
    evidence = visible_evidence_or_404(api_user(), evidence_id)
    return send_stored_file(evidence.stored_file, download_name=evidence.original_name or None)


@bp.get("/evidence/<int:evidence_id>/thumbnail")
def evidence_thumbnail(evidence_id):
    require("evidence.view")
    evidence = visible_evidence_or_404(api_user(), evidence_id)
    return send_stored_file(evidence.stored_file, thumbnail=True, download_name=evidence.original_name or None)


from . import token_views  # noqa: E402,F401  the token endpoints, on this blueprint
