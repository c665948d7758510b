"""Reporting pages: my tasks, the report page (figures, evidence, review), the review queue and
the county's lock exceptions. Views are thin: the services decide, the view commits once."""
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from .. import permissions
from ..accounts.models import User
from ..campaigns.models import AssignmentStatus, CampaignStatus
from ..campaigns.services import visible_campaign
from ..database import utcnow
from ..extensions import db
from ..timeutil import local_today, local_zone
from . import services
from .forms import ApproveForm, LockExceptionForm, ReportForm, ReturnForm
from .messages import ACTION_LABELS, ERROR_FIELDS, FIELD_LABELS, MISSING_EVIDENCE, report_error_message
from .services import ReportConflict, ReportError

bp = Blueprint("reporting", __name__, url_prefix="/reports")

REVIEW_PAGE_SIZE = 50
STATUSES = [status.value for status in AssignmentStatus]


@bp.context_processor
def reporting_labels():
    return {"action_labels": ACTION_LABELS, "field_labels": FIELD_LABELS, "missing_labels": MISSING_EVIDENCE}


def _assignment_or_404(assignment_id):
    assignment = services.assignment_for(current_user, assignment_id)
    if assignment is None:
        abort(404)
    return assignment


def _reporter_assignment(assignment_id):
    """404 outside the user's scope, 403 when the user may see but not report."""
    assignment = _assignment_or_404(assignment_id)
    if not services.can_report(current_user, assignment):
        abort(403)
    return assignment


def _reviewer_assignment(assignment_id):
    assignment = _assignment_or_404(assignment_id)
    if not services.can_review(current_user, assignment):
        abort(403)
    return assignment


def _refused(error, form=None):
    """A refused operation: 403 when not allowed, else the message beside its field or on top."""
    db.session.rollback()
    if error.code == "not_allowed":
        abort(403)
    field = getattr(form, ERROR_FIELDS.get(error.code, ""), None) if form is not None else None
    if field is not None:
        field.errors = [*field.errors, report_error_message(error)]
    else:
        flash(report_error_message(error), "error")


def _report_url(assignment, anchor=None):
    return url_for("reporting.report", assignment_id=assignment.id, _anchor=anchor)


def _user_names(records) -> dict:
    ids = {entry.user_id for entry in records if entry.user_id}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(ids)))
    return {user_id: display or username for user_id, display, username in rows}


def _render_report(assignment, *, report_form=None, return_form=None, conflict=None,
                   status=200):
    now = utcnow()
    locked = services.is_locked(assignment, now)
    exception = None
    if not locked and now >= assignment.campaign.deadline_at:
        exception = services.lock_exception_for(assignment.campaign_id, assignment.unit_id, now)
    editable = assignment.status in services.EDITABLE_STATUSES
    may_report = services.can_report(current_user, assignment)
    may_review = (services.can_review(current_user, assignment)
                  and assignment.campaign.status != CampaignStatus.CLOSED.value)
    total = services.quantity_total(assignment) if assignment.task.is_quantity else None
    records = services.history(assignment)
    if report_form is None:
        report_form = ReportForm(formdata=None, data={"note": assignment.note, "done": assignment.done,
                                                      "version": assignment.version,
                                                      "reported_on": _default_instalment_day(assignment)})
    if return_form is None:
        return_form = ReturnForm(formdata=None, data={"version": assignment.version})
    return render_template(
        "reporting/report.html",
        assignment=assignment,
        task=assignment.task,
        campaign=assignment.campaign,
        total=total,
        percent=services.percent_of(total, assignment.task) if total is not None else None,
        instalments=services.instalments_of(assignment) if assignment.task.is_quantity else [],
        evidence=services.evidence_of(assignment),
        missing=services.missing_evidence(assignment) if may_report and editable else [],
        history=records,
        user_names=_user_names(records),
        locked=locked,
        exception=exception,
        may_edit=may_report and editable and not locked,
        may_report=may_report,
        may_review=may_review,
        report_form=report_form,
        approve_form=ApproveForm(formdata=None, data={"version": assignment.version}),
        return_form=return_form,
        conflict=conflict,
    ), status


def _default_instalment_day(assignment):
    campaign = assignment.campaign
    return min(max(local_today(), campaign.start_date), campaign.end_date)


# --- pages -----------------------------------------------------------------------------------

@bp.route("/")
@login_required
@permissions.require("campaigns.view")
def my_tasks():
    return render_template("reporting/my_tasks.html", groups=services.my_assignments(current_user))


@bp.route("/<int:assignment_id>", methods=["GET", "POST"])
@login_required
@permissions.require("campaigns.view")
def report(assignment_id):
    """The report page, and (POST) its one form, handled by report_views.save_or_submit. One rule for
    both methods, so an id beyond the id column is a 404 whichever the method (not a 405)."""
    if request.method == "POST":
        from .report_views import save_or_submit

        return save_or_submit(assignment_id)
    return _render_report(_assignment_or_404(assignment_id))


def _set_version(form, assignment):
    """Re-applying the typed text saves on top of what is stored now."""
    form.version.data = assignment.version
    form.version.raw_data = [str(assignment.version)]


def _conflict_page(assignment_id, conflict, form=None):
    """Show what the other person saved; keep what this user typed, set to the current version."""
    assignment = _assignment_or_404(assignment_id)
    if form is not None:
        _set_version(form, assignment)
    flash(report_error_message(conflict), "error")
    return _render_report(assignment, report_form=form, conflict=conflict.details, status=409)


@bp.route("/<int:assignment_id>/approve", methods=["POST"])
@login_required
@permissions.require("assignments.review")
def approve(assignment_id):
    assignment = _reviewer_assignment(assignment_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _render_report(assignment)
    try:
        services.approve(assignment, current_user, expected_version=form.version.data)
    except ReportConflict as conflict:
        db.session.rollback()
        return _conflict_page(assignment_id, conflict)
    except ReportError as error:
        _refused(error)
        return redirect(_report_url(assignment))
    db.session.commit()
    flash(_("The report has been approved."), "success")
    return redirect(_report_url(assignment))


@bp.route("/<int:assignment_id>/return", methods=["POST"])
@login_required
@permissions.require("assignments.review")
def return_report(assignment_id):
    assignment = _reviewer_assignment(assignment_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        return _render_report(assignment, return_form=form)
    try:
        services.return_report(assignment, current_user, expected_version=form.version.data,
                               reason=form.reason.data)
    except ReportConflict as conflict:
        db.session.rollback()
        fresh = _assignment_or_404(assignment_id)
        _set_version(form, fresh)
        flash(report_error_message(conflict), "error")
        return _render_report(fresh, return_form=form, conflict=conflict.details, status=409)
    except ReportError as error:
        _refused(error, form)
        return _render_report(_assignment_or_404(assignment_id), return_form=form)
    db.session.commit()
    flash(_("The report has been returned to the unit with your reason."), "success")
    return redirect(_report_url(assignment))


@bp.route("/review")
@login_required
@permissions.require("assignments.review")
def review():
    campaigns = services.reviewable_campaigns(current_user)
    campaign_id = request.args.get("campaign", type=int)
    if campaign_id not in {campaign.id for campaign in campaigns}:
        campaign_id = None
    tasks = services.campaign_tasks(campaign_id) if campaign_id else []
    task_id = request.args.get("task", type=int)
    if task_id not in {task.id for task in tasks}:
        task_id = None
    status = request.args.get("status", AssignmentStatus.SUBMITTED.value)
    if status not in STATUSES:
        status = ""
    page = max(request.args.get("page", 1, type=int), 1)
    lines, count = services.review_queue(current_user, campaign_id=campaign_id, task_id=task_id, status=status,
                                         limit=REVIEW_PAGE_SIZE, offset=(page - 1) * REVIEW_PAGE_SIZE)
    return render_template(
        "reporting/review.html",
        lines=lines,
        count=count,
        campaigns=campaigns,
        tasks=tasks,
        campaign_id=campaign_id,
        task_id=task_id,
        status=status,
        statuses=STATUSES,
        page=page,
        pages=max((count + REVIEW_PAGE_SIZE - 1) // REVIEW_PAGE_SIZE, 1),
    )


@bp.route("/campaigns/<int:campaign_id>/exceptions", methods=["GET", "POST"])
@login_required
@permissions.require("lock_exceptions.manage")
def lock_exceptions(campaign_id):
    campaign = visible_campaign(current_user, campaign_id)
    if campaign is None:
        abort(404)
    units = {unit.id: unit for unit in services.exception_units(campaign, current_user)}
    form = LockExceptionForm()
    base_depth = current_user.unit.depth
    form.unit_id.choices = [
        SelectChoice(unit.id, "　" * max(unit.depth - base_depth - 1, 0) + unit.name) for unit in units.values()
    ]
    if form.validate_on_submit():
        until = form.until.data.replace(tzinfo=local_zone()) if isinstance(form.until.data, datetime) else None
        try:
            services.grant_lock_exception(campaign, units.get(form.unit_id.data), current_user,
                                          until=until, reason=form.reason.data)
        except ReportError as error:
            _refused(error, form)
        else:
            db.session.commit()
            flash(_("Reporting has been reopened for %(unit)s.", unit=units[form.unit_id.data].name), "success")
            return redirect(url_for("reporting.lock_exceptions", campaign_id=campaign.id))
    return render_template(
        "reporting/exceptions.html",
        campaign=campaign,
        form=form,
        exceptions=services.lock_exceptions_of(campaign),
        now=utcnow(),
        may_grant=campaign.status == CampaignStatus.ACTIVE.value and bool(units),
    )


from . import report_views  # noqa: E402,F401 - registers the reporter's writes on bp
