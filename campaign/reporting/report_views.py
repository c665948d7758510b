"""The reporter's writes: the one-pass report (figure, note, photos and documents, then save or
submit), and the single-purpose posts kept for scripts (one instalment, files, removing a file).

Every write carries an idempotency key: a resent form is answered like the first time and never
counts twice. A POST with ``Accept: application/json`` gets JSON (see fieldforms.answers)."""
from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..evidence.services import UploadError, store_upload, upload_error_message
from ..extensions import db
from ..fieldforms import answers
from . import services
from .forms import ConfirmForm, EvidenceForm, InstalmentForm, ReportForm
from .messages import ERROR_FIELDS, report_error_message
from .services import ReportConflict, ReportError
from .views import (
    _assignment_or_404,
    _conflict_page,
    _render_report,
    _report_url,
    _reporter_assignment,
    bp,
)


def _chosen_files(*names):
    return [item for name in names for item in request.files.getlist(name) if item and item.filename]


def _refused_answer(error, form, page):
    """A refused write: 403 when not allowed, else the message beside its field or on top."""
    db.session.rollback()
    if error.code == "not_allowed":
        abort(403)
    message = report_error_message(error)
    field = getattr(form, ERROR_FIELDS.get(error.code, ""), None)
    if field is None:
        return answers.invalid(form, page, message)
    field.errors = [*field.errors, message]
    return answers.invalid(form, page)


def _conflict(assignment_id, conflict, form):
    return answers.conflict(report_error_message(conflict), conflict.details,
                            lambda: _conflict_page(assignment_id, conflict, form))


def save_or_submit(assignment_id):
    """One pass: the note (and done), the figure to add and the files are saved together as a draft;
    with 上报 the report is then submitted. A refused submission keeps the saved draft."""
    assignment = _reporter_assignment(assignment_id)
    form = ReportForm()

    def page():
        return _render_report(_assignment_or_404(assignment_id), report_form=form)

    if not form.validate_on_submit():
        for error in form.version.errors:
            flash(error, "error")
        return answers.invalid(form, page)
    claimed, answer = answers.begin(form, page)
    if answer is not None:
        return answer
    is_quantity = assignment.task.is_quantity
    notices = []
    try:
        uploads = [store_upload(item) for item in _chosen_files(form.photos.name, form.documents.name)]
        services.save_report(assignment, current_user, expected_version=form.version.data, note=form.note.data,
                             done=None if is_quantity else form.done.data)
        if is_quantity and form.quantity.data is not None:
            services.add_instalment(assignment, current_user, quantity=form.quantity.data,
                                    reported_on=form.reported_on.data, note=form.place.data or "")
            notices.append(("success", _("%(quantity)s added.", quantity=form.quantity.data)))
        if uploads:
            services.add_evidence(assignment, current_user, uploads)
            notices.append(("success", _("%(count)s file(s) added.", count=len(uploads))))
    except UploadError as error:
        form.photos.errors = [*form.photos.errors, upload_error_message(error)]
        return answers.invalid(form, page)
    except ReportConflict as conflict:
        return _conflict(assignment_id, conflict, form)
    except ReportError as error:
        return _refused_answer(error, form, page)
    url = _report_url(assignment)
    if not form.submit.data:
        return answers.done(claimed, url, [*notices, ("success", _("The draft has been saved."))])
    try:
        services.submit_report(assignment, current_user, expected_version=assignment.version)
    except ReportError as error:
        if error.code == "not_allowed":
            db.session.rollback()
            abort(403)
        return answers.done(claimed, url, [*notices, ("info", _("The draft has been saved, but not submitted.")),
                                           ("error", report_error_message(error))])
    return answers.done(claimed, url, [*notices, ("success", _("The report has been submitted for review."))])


@bp.route("/<int:assignment_id>/instalments", methods=["POST"])
@login_required
@permissions.require("campaigns.view")
def add_instalment(assignment_id):
    assignment = _reporter_assignment(assignment_id)
    form = InstalmentForm()

    def page():
        """The one-pass form, holding what was typed and the errors beside the same fields."""
        fresh = _assignment_or_404(assignment_id)
        report_form = ReportForm(formdata=None, data={"note": fresh.note, "version": fresh.version})
        for name in ("quantity", "reported_on", "place"):
            source, target = getattr(form, name), getattr(report_form, name)
            target.raw_data, target.data, target.errors = source.raw_data, source.data, list(source.errors)
        return _render_report(fresh, report_form=report_form)

    if not form.validate_on_submit():
        return answers.invalid(form, page)
    claimed, answer = answers.begin(form, page)
    if answer is not None:
        return answer
    try:
        services.add_instalment(assignment, current_user, quantity=form.quantity.data,
                                reported_on=form.reported_on.data, note=form.place.data or "")
    except ReportError as error:
        return _refused_answer(error, form, page)
    return answers.done(claimed, _report_url(assignment, "figure"),
                        [("success", _("%(quantity)s added.", quantity=form.quantity.data))])


@bp.route("/<int:assignment_id>/evidence", methods=["POST"])
@login_required
@permissions.require("campaigns.view")
def upload_evidence(assignment_id):
    assignment = _reporter_assignment(assignment_id)
    form = EvidenceForm()
    url = _report_url(assignment, "evidence")

    def page():
        return redirect(url)

    if not form.validate_on_submit():
        return answers.invalid(form, page, _("The upload could not be read; try again."))
    claimed, answer = answers.begin(form, page)
    if answer is not None:
        return answer
    try:
        services.check_evidence_change(assignment, current_user)
        uploads = [store_upload(item) for item in _chosen_files("photos", "documents")]
        added = services.add_evidence(assignment, current_user, uploads)
    except UploadError as error:
        form.photos.errors = [*form.photos.errors, upload_error_message(error)]
        if not answers.wants_json():
            flash(upload_error_message(error), "error")
        return answers.invalid(form, page, _("Nothing was added: choose the files again."))
    except ReportError as error:
        return _refused_answer(error, form, page)
    return answers.done(claimed, url, [("success", _("%(count)s file(s) added.", count=len(added)))])


@bp.route("/<int:assignment_id>/evidence/<int:evidence_id>/remove", methods=["GET", "POST"])
@login_required
@permissions.require("campaigns.view")
def remove_evidence(assignment_id, evidence_id):
    assignment = _reporter_assignment(assignment_id)
    evidence = services.evidence_item(assignment, evidence_id)
    if evidence is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.remove_evidence_from(assignment, evidence, current_user)
        except ReportError as error:
            db.session.rollback()
            if error.code == "not_allowed":
                abort(403)
            flash(report_error_message(error), "error")
        else:
            db.session.commit()
            flash(_("The file has been removed from the report."), "success")
        return redirect(_report_url(assignment, "evidence"))
    return render_template("reporting/remove_evidence.html", form=form, assignment=assignment, evidence=evidence)
