"""Chasing: the units with missing or returned reports, their CSV, and the Remind button."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..units.models import Unit
from .chasing import (
    chasing_csv,
    chasing_list,
    queue_manual_reminders,
    recipients_preview,
    send_pending,
    township_choices,
)
from .delivery import channel_name
from .models import OutboxMessage
from .services import late_or_missing_assignments
from .views import bp, campaign_in_sight

RECENT_MESSAGES = 50
UNITS_PER_PAGE = 50  # the CSV export keeps every unit
CHANNEL_LABELS = {"outbox": _l("outbox (recorded and logged)"), "email": _l("e-mail"), "sms": _l("SMS")}
MESSAGE_STATUS_LABELS = {"pending": _l("Pending"), "sent": _l("Sent"), "failed": _l("Failed")}


@bp.context_processor
def chasing_labels():
    return {"channel_labels": CHANNEL_LABELS, "message_status_labels": MESSAGE_STATUS_LABELS}


class RemindForm(FlaskForm):
    """The confirmation step of Remind: only its CSRF token."""


def _filters(campaign, scope):
    """(where to look, task id, townships offered) from ?township=&task=; an id outside them is a 404."""
    townships = township_choices(scope)
    township_id = request.args.get("township", type=int)
    task_id = request.args.get("task", type=int)
    where = scope
    if township_id:
        where = next((unit for unit in townships if unit.id == township_id), None)
        if where is None:
            abort(404)
    if task_id and task_id not in {task.id for task in campaign.tasks}:
        abort(404)
    return where, task_id or None, townships


def _filter_args(where, scope, task_id):
    args = {}
    if where.id != scope.id:
        args["township"] = where.id
    if task_id:
        args["task"] = task_id
    return args


def _recent_messages(campaign, scope):
    query = (
        select(OutboxMessage)
        .join(Unit, Unit.id == OutboxMessage.unit_id)
        .where(OutboxMessage.campaign_id == campaign.id, Unit.path.like(f"{scope.path}%"))
        .options(joinedload(OutboxMessage.unit), joinedload(OutboxMessage.user))
        .order_by(OutboxMessage.id.desc())
        .limit(RECENT_MESSAGES)
    )
    return db.session.scalars(query).all()


@bp.get("/campaigns/<int:campaign_id>/chasing")
@login_required
@permissions.require("progress.view")
def chasing(campaign_id):
    campaign, scope = campaign_in_sight(campaign_id)
    where, task_id, townships = _filters(campaign, scope)
    every_unit = chasing_list(campaign, where, task_id=task_id)
    pages = max(1, -(-len(every_unit) // UNITS_PER_PAGE))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    return render_template(
        "progress/chasing.html",
        campaign=campaign,
        scope=scope,
        where=where,
        task_id=task_id,
        townships=townships,
        units=every_unit[(page - 1) * UNITS_PER_PAGE:page * UNITS_PER_PAGE],
        unit_count=len(every_unit),
        page=page,
        pages=pages,
        open_count=sum(len(unit.rows) for unit in every_unit),
        filter_args=_filter_args(where, scope, task_id),
        may_remind=permissions.has_permission(current_user, "reminders.send"),
        messages=_recent_messages(campaign, scope),
    )


@bp.get("/campaigns/<int:campaign_id>/chasing.csv")
@login_required
@permissions.require("progress.view")
def chasing_export(campaign_id):
    campaign, scope = campaign_in_sight(campaign_id)
    where, task_id, _townships = _filters(campaign, scope)
    body = chasing_csv(late_or_missing_assignments(campaign, where, task_id=task_id))
    filename = f"chasing-{campaign.id}-{where.code or where.id}.csv"
    return body, 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
    }


@bp.route("/campaigns/<int:campaign_id>/chasing/remind", methods=["GET", "POST"])
@login_required
@permissions.require("reminders.send")
def chasing_remind(campaign_id):
    campaign, scope = campaign_in_sight(campaign_id)
    where, task_id, _townships = _filters(campaign, scope)
    filter_args = _filter_args(where, scope, task_id)
    back = url_for("progress.chasing", campaign_id=campaign.id, **filter_args)
    form = RemindForm()
    try:
        channel = channel_name()
    except ValueError as error:
        flash(str(error), "error")
        return redirect(back)
    if form.validate_on_submit():
        result = queue_manual_reminders(campaign, where, actor=current_user, task_id=task_id)
        db.session.commit()  # recorded as pending before anything leaves
        sent = send_pending(ids=result.message_ids)
        if not result.units:
            flash(_("No unit is missing a report: nothing was sent."), "info")
        elif not result.queued:
            flash(_("These reminders have just been sent; nothing was sent twice."), "info")
        else:
            flash(_("Reminders to %(units)s units: %(sent)s sent, %(failed)s failed.",
                    units=result.units, sent=sent.sent, failed=sent.failed),
                  "error" if sent.failed else "success")
        return redirect(back)
    preview = recipients_preview(campaign, where, task_id=task_id, sender_name=current_user.unit.name)
    task = next((task for task in campaign.tasks if task.id == task_id), None)
    return render_template(
        "progress/chasing_remind.html",
        campaign=campaign,
        where=where,
        task=task,
        preview=preview,
        channel=channel,
        form=form,
        filter_args=filter_args,
        back=back,
    )
