"""The township's own summary, and the county's list and review of them."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..campaigns.services import visible_campaign
from ..extensions import db
from .township import (
    NARRATIVE_FIELDS,
    SummaryError,
    approve_summary,
    deadline_passed,
    figure_lines,
    is_editable,
    is_township_of,
    return_summary,
    reviewable_township,
    save_summary,
    summary_of,
    timeliness,
    township_overview,
)
from .township_forms import TIMELINESS_LABELS, ApproveForm, ReturnForm, TownshipSummaryForm, summary_error_message
from .views import bp


@bp.context_processor
def township_labels():
    return {"timeliness_labels": TIMELINESS_LABELS}


def _launched_campaign(campaign_id):
    campaign = visible_campaign(current_user, campaign_id)
    if campaign is None or campaign.is_draft:
        abort(404)
    return campaign


def _form_data(summary, lines):
    data = {field: getattr(summary, field) if summary else "" for field in NARRATIVE_FIELDS}
    data["version"] = summary.version if summary else 0
    data["figures"] = [
        {"task_id": line.task.id, "corrected_value": line.corrected, "correction_note": line.note}
        for line in lines
    ]
    return data


def _show_error(form, error):
    if error.code == "note_required":
        wanted = {str(task_id) for task_id in error.details.get("task_ids", [])}
        for entry in form.figures:
            if str(entry.form.task_id.data) in wanted:
                entry.form.correction_note.errors = [*entry.form.correction_note.errors,
                                                     _("Give the reason for this correction.")]
    elif error.code == "work_done_required":
        form.work_done.errors = [*form.work_done.errors, summary_error_message(error)]
    flash(summary_error_message(error), "error")


@bp.route("/campaigns/<int:campaign_id>/township", methods=["GET", "POST"])
@login_required
@permissions.require("summary.write")
def township_summary(campaign_id):
    campaign = _launched_campaign(campaign_id)
    township = current_user.unit
    if not is_township_of(township, campaign):
        abort(404)
    summary = summary_of(campaign, township)
    lines = figure_lines(campaign, township, summary)
    editable = is_editable(summary) and campaign.status == "active"
    form = TownshipSummaryForm(data=_form_data(summary, lines))
    if editable and form.validate_on_submit():
        try:
            save_summary(
                campaign, township, actor=current_user, version=_int_or_none(form.version.data),
                narrative={field: getattr(form, field).data for field in NARRATIVE_FIELDS},
                corrections=form.corrections(), submit=_wants_submit(),
            )
            db.session.commit()
        except SummaryError as error:
            db.session.rollback()
            _show_error(form, error)
        except IntegrityError:
            db.session.rollback()
            flash(summary_error_message(SummaryError("stale")), "error")
        else:
            flash(_("The summary has been submitted to the county.") if _wants_submit()
                  else _("The summary has been saved as a draft."), "success")
            return redirect(url_for("summary.township_summary", campaign_id=campaign.id))
    elif form.is_submitted() and not editable:
        flash(summary_error_message(SummaryError("not_editable" if campaign.status == "active"
                                                 else "campaign_not_active")), "error")
    return render_template(
        "summary/township.html",
        campaign=campaign,
        township=township,
        summary=summary,
        lines={line.task.id: line for line in lines},
        ordered_lines=lines,
        form=form,
        editable=editable,
        timeliness=timeliness(summary, campaign),
        overdue=deadline_passed(campaign),
    )


def _wants_submit() -> bool:
    return request.form.get("action") == "submit"


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.get("/campaigns/<int:campaign_id>/townships")
@login_required
@permissions.require("summary.review")
def township_list(campaign_id):
    campaign = _launched_campaign(campaign_id)
    rows = township_overview(campaign, current_user)
    counts = {key: sum(1 for row in rows if row.timeliness == key) for key in TIMELINESS_LABELS}
    return render_template("summary/township_list.html", campaign=campaign, rows=rows, counts=counts)


def _reviewed(campaign_id, unit_id):
    campaign = _launched_campaign(campaign_id)
    township = reviewable_township(current_user, campaign, unit_id)
    if township is None:
        abort(404)
    return campaign, township, summary_of(campaign, township)


@bp.get("/campaigns/<int:campaign_id>/townships/<int:unit_id>")
@login_required
@permissions.require("summary.review")
def township_review(campaign_id, unit_id):
    campaign, township, summary = _reviewed(campaign_id, unit_id)
    return render_template(
        "summary/township_review.html",
        campaign=campaign,
        township=township,
        summary=summary,
        lines=figure_lines(campaign, township, summary),
        timeliness=timeliness(summary, campaign),
        approve_form=ApproveForm(data={"version": summary.version if summary else 0}),
    )


@bp.post("/campaigns/<int:campaign_id>/townships/<int:unit_id>/approve")
@login_required
@permissions.require("summary.review")
def township_approve(campaign_id, unit_id):
    campaign, township, summary = _reviewed(campaign_id, unit_id)
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            approve_summary(summary, actor=current_user, version=_int_or_none(form.version.data))
            db.session.commit()
        except SummaryError as error:
            db.session.rollback()
            flash(summary_error_message(error), "error")
        else:
            flash(_("The summary of %(township)s has been approved.", township=township.name), "success")
    return redirect(url_for("summary.township_review", campaign_id=campaign.id, unit_id=township.id))


@bp.route("/campaigns/<int:campaign_id>/townships/<int:unit_id>/return", methods=["GET", "POST"])
@login_required
@permissions.require("summary.review")
def township_return(campaign_id, unit_id):
    campaign, township, summary = _reviewed(campaign_id, unit_id)
    back = url_for("summary.township_review", campaign_id=campaign.id, unit_id=township.id)
    if summary is None or summary.status not in ("submitted", "approved"):
        flash(summary_error_message(SummaryError("nothing_submitted" if summary is None else "invalid_transition")),
              "error")
        return redirect(back)
    form = ReturnForm(data={"version": summary.version})
    if form.validate_on_submit():
        try:
            return_summary(summary, actor=current_user, version=_int_or_none(form.version.data),
                           reason=form.reason.data)
            db.session.commit()
        except SummaryError as error:
            db.session.rollback()
            flash(summary_error_message(error), "error")
        else:
            flash(_("The summary of %(township)s has been returned.", township=township.name), "success")
            return redirect(back)
    return render_template("summary/township_return.html", campaign=campaign, township=township,
                           summary=summary, form=form, back=back)
