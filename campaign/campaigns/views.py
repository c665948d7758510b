from datetime import time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from .. import permissions
from ..extensions import db
from ..timeutil import local_today
from .forms import CampaignForm, ConfirmForm, PlaybookChoiceForm, TaskForm
from .messages import ERROR_FIELDS, campaign_error_message
from .models import AssignmentStatus, CampaignStatus
from .playbooks import get_playbook, list_playbooks
from .services import (
    CampaignError,
    add_task,
    assignment_counts,
    campaigns_for,
    close_campaign,
    create_campaign,
    deadline_parts,
    delete_task,
    launch_campaign,
    launch_preview,
    playbook_defaults,
    root_unit_choices,
    task_of,
    update_campaign,
    update_task,
    visible_campaign,
)

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

ASSIGNMENT_STATUSES = [status.value for status in AssignmentStatus]


def _campaign_or_404(campaign_id):
    campaign = visible_campaign(current_user, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _managed_campaign_or_error(campaign_id):
    """404 when the campaign is out of sight, 403 when the user may see but not manage it."""
    campaign = _campaign_or_404(campaign_id)
    if not permissions.can_manage_campaign(current_user, campaign):
        abort(403)
    return campaign


def _task_or_404(campaign, task_id):
    task = task_of(campaign, task_id)
    if task is None:
        abort(404)
    return task


def _refuse_unless_draft(campaign):
    """A launched campaign's fields and tasks are fixed: say so and go back to the campaign."""
    if campaign.is_draft:
        return None
    flash(campaign_error_message(CampaignError("not_draft")), "error")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


def _show_error(form, error):
    """Put the message beside the field to correct, or at the top of the page."""
    field = getattr(form, ERROR_FIELDS.get(error.code, ""), None)
    if field is not None:
        field.errors = [*field.errors, campaign_error_message(error)]
    else:
        flash(campaign_error_message(error), "error")


def _with_root_choices(form, current_root=None):
    units = {unit.id: unit for unit in root_unit_choices(current_user)}
    if current_root is not None and permissions.unit_is_within(current_user, current_root):
        units.setdefault(current_root.id, current_root)  # a root set from the CLI may be of any kind
    base_depth = current_user.unit.depth
    form.root_unit_id.choices = [
        SelectChoice(unit.id, "　" * max(unit.depth - base_depth, 0) + unit.name) for unit in units.values()
    ]
    return units


def _campaign_fields(form, units):
    return {
        "title": form.title.data,
        "theme": form.theme.data,
        "description": form.description.data,
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
        "deadline_date": form.deadline_date.data,
        "deadline_time": form.deadline_time.data,
        "root_unit": units.get(form.root_unit_id.data),
    }


@bp.route("/")
@login_required
@permissions.require("campaigns.view")
def index():
    return render_template(
        "campaigns/index.html",
        campaigns=campaigns_for(current_user),
        may_create=permissions.has_permission(current_user, "campaigns.manage"),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@permissions.require("campaigns.manage")
def new():
    playbooks = list_playbooks()
    chooser = PlaybookChoiceForm(request.args)
    chooser.playbook.choices = [SelectChoice("", _("Blank campaign"))] + [
        SelectChoice(playbook.key, playbook.title) for playbook in playbooks
    ]
    year = chooser.year.data if chooser.validate() and chooser.year.data else local_today().year
    if not chooser.year.data:
        chooser.year.data = year

    defaults = {"root_unit_id": current_user.unit_id, "deadline_time": time(17, 0)}
    chosen = get_playbook(request.args.get("playbook", ""))
    if request.args.get("playbook") and chosen is None:
        flash(campaign_error_message(CampaignError("unknown_playbook", key=request.args["playbook"])), "error")
    if chosen is not None:
        defaults.update(playbook_defaults(chosen, year), playbook_key=chosen.key,
                        title=_("%(year)s %(title)s", year=year, title=chosen.title))

    form = CampaignForm(data=defaults)
    units = _with_root_choices(form)
    if form.validate_on_submit():
        playbook = get_playbook(form.playbook_key.data) if form.playbook_key.data else None
        try:
            if form.playbook_key.data and playbook is None:
                raise CampaignError("unknown_playbook", key=form.playbook_key.data)
            campaign = create_campaign(actor=current_user, playbook=playbook, **_campaign_fields(form, units))
        except CampaignError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("The campaign has been created as a draft. Check its tasks, then launch it."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    playbook = get_playbook(form.playbook_key.data or "")
    return render_template("campaigns/new.html", form=form, chooser=chooser, playbook=playbook)


@bp.route("/<int:campaign_id>")
@login_required
@permissions.require("campaigns.view")
def detail(campaign_id):
    campaign = _campaign_or_404(campaign_id)
    counts = {} if campaign.is_draft else assignment_counts(campaign)
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        counts=counts,
        statuses=ASSIGNMENT_STATUSES,
        may_manage=permissions.can_manage_campaign(current_user, campaign),
    )


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
@permissions.require("campaigns.manage")
def edit(campaign_id):
    campaign = _managed_campaign_or_error(campaign_id)
    refused = _refuse_unless_draft(campaign)
    if refused:
        return refused
    deadline_date, deadline_time = deadline_parts(campaign)
    form = CampaignForm(data={
        "title": campaign.title,
        "theme": campaign.theme,
        "description": campaign.description,
        "root_unit_id": campaign.root_unit_id,
        "start_date": campaign.start_date,
        "end_date": campaign.end_date,
        "deadline_date": deadline_date,
        "deadline_time": deadline_time,
    })
    units = _with_root_choices(form, current_root=campaign.root_unit)
    if form.validate_on_submit():
        try:
            update_campaign(campaign, actor=current_user, **_campaign_fields(form, units))
        except CampaignError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("The campaign has been saved."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/edit.html", form=form, campaign=campaign)


def _task_form_data(task):
    return {
        "title": task.title,
        "description": task.description,
        "unit_kinds": task.kinds,
        "unit_category": task.unit_category or "",
        "measure": task.measure,
        "target": task.target,
        "measure_unit": task.measure_unit or "",
        "requires_photo": task.requires_photo,
        "requires_document": task.requires_document,
        "due_date": task.due_date,
    }


@bp.route("/<int:campaign_id>/tasks/new", methods=["GET", "POST"])
@login_required
@permissions.require("campaigns.manage")
def new_task(campaign_id):
    campaign = _managed_campaign_or_error(campaign_id)
    refused = _refuse_unless_draft(campaign)
    if refused:
        return refused
    form = TaskForm(data={"measure": "done"})
    if form.validate_on_submit():
        try:
            add_task(campaign, actor=current_user, **form.task_fields())
        except CampaignError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("The task has been added."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/task_form.html", form=form, campaign=campaign, task=None)


@bp.route("/<int:campaign_id>/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@login_required
@permissions.require("campaigns.manage")
def edit_task(campaign_id, task_id):
    campaign = _managed_campaign_or_error(campaign_id)
    task = _task_or_404(campaign, task_id)
    refused = _refuse_unless_draft(campaign)
    if refused:
        return refused
    form = TaskForm(data=_task_form_data(task))
    if form.validate_on_submit():
        try:
            update_task(task, actor=current_user, **form.task_fields())
        except CampaignError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("The task has been saved."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/task_form.html", form=form, campaign=campaign, task=task)


@bp.route("/<int:campaign_id>/tasks/<int:task_id>/delete", methods=["GET", "POST"])
@login_required
@permissions.require("campaigns.manage")
def delete_task_view(campaign_id, task_id):
    campaign = _managed_campaign_or_error(campaign_id)
    task = _task_or_404(campaign, task_id)
    refused = _refuse_unless_draft(campaign)
    if refused:
        return refused
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            delete_task(task, actor=current_user)
        except CampaignError as error:
            db.session.rollback()
            flash(campaign_error_message(error), "error")
        else:
            db.session.commit()
            flash(_("The task has been deleted."), "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/task_delete.html", form=form, campaign=campaign, task=task)


@bp.route("/<int:campaign_id>/launch", methods=["GET", "POST"])
@login_required
@permissions.require("campaigns.manage")
def launch(campaign_id):
    campaign = _managed_campaign_or_error(campaign_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            created = launch_campaign(campaign, actor=current_user)
        except CampaignError as error:
            db.session.rollback()
            flash(campaign_error_message(error), "error")
        else:
            db.session.commit()
            flash(_("The campaign has been launched: %(count)s assignments created.", count=created), "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    if not campaign.is_draft:
        code = "already_launched" if campaign.status == CampaignStatus.ACTIVE.value else "not_draft"
        flash(campaign_error_message(CampaignError(code)), "error")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    preview = launch_preview(campaign)
    return render_template("campaigns/launch.html", form=form, campaign=campaign, preview=preview,
                           total=sum(preview.values()))


@bp.route("/<int:campaign_id>/close", methods=["GET", "POST"])
@login_required
@permissions.require("campaigns.manage")
def close(campaign_id):
    campaign = _managed_campaign_or_error(campaign_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            close_campaign(campaign, actor=current_user)
        except CampaignError as error:
            db.session.rollback()
            flash(campaign_error_message(error), "error")
        else:
            db.session.commit()
            flash(_("The campaign has been closed."), "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    if campaign.status != CampaignStatus.ACTIVE.value:
        flash(campaign_error_message(CampaignError("not_active")), "error")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/close.html", form=form, campaign=campaign)
