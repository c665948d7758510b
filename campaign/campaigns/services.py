"""Campaign domain logic shared by the views, the CLI and the API."""
from collections import defaultdict
from datetime import date, time
from itertools import groupby

from sqlalchemy import func, insert, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from .. import permissions
from ..audit.services import record, snapshot
from ..database import utcnow
from ..extensions import db
from ..i18n import UNIT_CATEGORY_LABELS
from ..timeutil import local_to_utc, to_local
from ..units.models import Unit, UnitKind
from .models import (
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    InvalidTransition,
    Measure,
    MeasureUnit,
    Task,
)
from ..progress.counters import rebuild_campaign
from .playbooks import Playbook

CAMPAIGN_FIELDS = (
    "title", "theme", "description", "playbook_key", "start_date", "end_date", "deadline_at",
    "root_unit_id", "status",
)
TASK_FIELDS = (
    "campaign_id", "position", "title", "description", "unit_kinds", "unit_category", "measure",
    "target", "measure_unit", "requires_photo", "requires_document", "due_date",
)
# Units that can run a campaign: the levels with an office.
ROOT_KINDS = (UnitKind.PROVINCE.value, UnitKind.CITY.value, UnitKind.COUNTY.value, UnitKind.TOWNSHIP.value)


class CampaignError(ValueError):
    """A refused campaign operation; ``code`` names the reason for messages and the API."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


# --- reading ---------------------------------------------------------------------------------

def campaigns_for(user) -> list[Campaign]:
    """Campaigns the user can see, newest first (root units loaded in the same query)."""
    root = aliased(Unit)
    query = (
        select(Campaign)
        .join(root, Campaign.root_unit_id == root.id)
        .where(permissions.campaigns_visible_to(user, root))
        .options(contains_eager(Campaign.root_unit.of_type(root)))
        .order_by(Campaign.start_date.desc(), Campaign.id.desc())
    )
    return list(db.session.scalars(query))


def open_assignments_for(user) -> list[tuple[Campaign, list[Assignment]]]:
    """The assignments of the user's own unit in active campaigns, grouped by campaign."""
    query = (
        select(Assignment)
        .join(Assignment.campaign)
        .join(Assignment.task)
        .where(Assignment.unit_id == user.unit_id, Campaign.status == CampaignStatus.ACTIVE.value)
        .options(
            joinedload(Assignment.campaign),
            joinedload(Assignment.task),
            joinedload(Assignment.unit),
            joinedload(Assignment.instalments),
        )
        .order_by(Campaign.deadline_at, Campaign.id, Task.position, Task.id)
    )
    assignments = db.session.scalars(query).unique().all()
    return [(campaign, list(items)) for campaign, items in groupby(assignments, key=lambda a: a.campaign)]


def visible_campaign(user, campaign_id) -> Campaign | None:
    """The campaign if the user may see it, else None (the view answers 404)."""
    root = aliased(Unit)
    query = (
        select(Campaign)
        .join(root, Campaign.root_unit_id == root.id)
        .where(Campaign.id == campaign_id, permissions.campaigns_visible_to(user, root))
        .options(contains_eager(Campaign.root_unit.of_type(root)), joinedload(Campaign.created_by))
    )
    return db.session.scalar(query)


def task_of(campaign: Campaign, task_id) -> Task | None:
    return next((task for task in campaign.tasks if task.id == task_id), None)


def root_unit_choices(user) -> list[Unit]:
    """Units the user may root a campaign at: their own and the offices below it."""
    query = (
        select(Unit)
        .where(permissions.units_within(user), Unit.kind.in_(ROOT_KINDS) | (Unit.id == user.unit_id))
        .order_by(Unit.path)
    )
    return list(db.session.scalars(query))


def assignment_counts(campaign: Campaign) -> dict[int, dict[str, int]]:
    """{task_id: {status: count}} for the campaign, in one aggregate query."""
    query = (
        select(Assignment.task_id, Assignment.status, func.count())
        .where(Assignment.campaign_id == campaign.id)
        .group_by(Assignment.task_id, Assignment.status)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for task_id, status, count in db.session.execute(query):
        counts[task_id][status] = count
    return counts


def launch_preview(campaign: Campaign) -> dict[int, int]:
    """{task_id: assignments a launch would create}, from one query grouping units by kind and category."""
    kinds = {kind for task in campaign.tasks for kind in task.kinds}
    if not kinds:
        return {}
    query = (
        select(Unit.kind, Unit.category, func.count())
        .where(Unit.path.like(f"{campaign.root_unit.path}%"), Unit.kind.in_(kinds))
        .group_by(Unit.kind, Unit.category)
    )
    groups = db.session.execute(query).all()
    return {
        task.id: sum(count for kind, category, count in groups if _task_targets(task, kind, category))
        for task in campaign.tasks
    }


def _task_targets(task: Task, kind: str, category: str | None) -> bool:
    return kind in task.kinds and (not task.unit_category or category == task.unit_category)


# --- defaults from a playbook ----------------------------------------------------------------

def playbook_defaults(playbook: Playbook, year: int) -> dict:
    start, end = playbook.window_for(year)
    deadline_date, deadline_time = playbook.deadline_for(year)
    return {
        "theme": playbook.theme,
        "description": playbook.description,
        "start_date": start,
        "end_date": end,
        "deadline_date": deadline_date,
        "deadline_time": deadline_time,
    }


def deadline_parts(campaign: Campaign) -> tuple[date, time]:
    local = to_local(campaign.deadline_at)
    return local.date(), local.time().replace(second=0, microsecond=0)


# --- writing campaigns -----------------------------------------------------------------------

def create_campaign(*, actor, title, theme, description, start_date, end_date, deadline_date,
                    deadline_time, root_unit, playbook: Playbook | None = None) -> Campaign:
    """A draft campaign; with a playbook its tasks are copied in. ``actor`` None is the CLI."""
    _check_scope(actor, root_unit)
    campaign = Campaign(status=CampaignStatus.DRAFT.value, created_by=actor)
    _apply_campaign_fields(
        campaign, title=title, theme=theme, description=description, start_date=start_date,
        end_date=end_date, deadline_date=deadline_date, deadline_time=deadline_time, root_unit=root_unit,
    )
    campaign.playbook_key = playbook.key if playbook else None
    db.session.add(campaign)
    db.session.flush()
    record("campaign.create", "campaign", campaign.id, after=snapshot(campaign, CAMPAIGN_FIELDS), actor=actor)
    if playbook:
        for position, item in enumerate(playbook.tasks):
            task = Task(
                campaign=campaign,
                position=position,
                title=item.title,
                description=item.description,
                unit_category=item.unit_category,
                measure=item.measure,
                target=item.target,
                measure_unit=item.measure_unit,
                requires_photo=item.requires_photo,
                requires_document=item.requires_document,
                due_date=item.due_date(campaign.start_date),
            )
            task.kinds = list(item.unit_kinds)
            db.session.add(task)
        db.session.flush()
        for task in campaign.tasks:
            record("task.create", "task", task.id, after=snapshot(task, TASK_FIELDS), actor=actor)
    return campaign


def update_campaign(campaign: Campaign, *, actor, title, theme, description, start_date, end_date,
                    deadline_date, deadline_time, root_unit) -> Campaign:
    _check_manage(actor, campaign)
    _check_draft(campaign)
    _check_scope(actor, root_unit)
    before = snapshot(campaign, CAMPAIGN_FIELDS)
    _apply_campaign_fields(
        campaign, title=title, theme=theme, description=description, start_date=start_date,
        end_date=end_date, deadline_date=deadline_date, deadline_time=deadline_time, root_unit=root_unit,
    )
    db.session.flush()
    record("campaign.update", "campaign", campaign.id, before=before,
           after=snapshot(campaign, CAMPAIGN_FIELDS), actor=actor)
    return campaign


def validate_window(start_date: date | None, end_date: date | None, deadline_date: date | None):
    """start ≤ end ≤ deadline; the deadline may fall on the end date itself."""
    if start_date is None or end_date is None:
        raise CampaignError("window_required")
    if deadline_date is None:
        raise CampaignError("deadline_required")
    if start_date > end_date:
        raise CampaignError("start_after_end")
    if deadline_date < end_date:
        raise CampaignError("deadline_before_end")


def _apply_campaign_fields(campaign, *, title, theme, description, start_date, end_date, deadline_date,
                           deadline_time, root_unit):
    title = (title or "").strip()
    if not title:
        raise CampaignError("title_required")
    if root_unit is None:
        raise CampaignError("unknown_unit")
    validate_window(start_date, end_date, deadline_date)
    campaign.title = title
    campaign.theme = (theme or "").strip()
    campaign.description = (description or "").strip()
    campaign.start_date = start_date
    campaign.end_date = end_date
    campaign.deadline_at = local_to_utc(deadline_date, deadline_time or time(17, 0))
    campaign.root_unit = root_unit
    campaign.root_unit_id = root_unit.id


def launch_campaign(campaign: Campaign, actor=None) -> int:
    """Draft → active, creating one assignment per task per participating unit; returns how many.

    The campaign row is locked first, so two launches at once cannot both pass the status check;
    pairs that already exist are skipped and the unique (task, unit) constraint backs that up.
    """
    _check_manage(actor, campaign)
    db.session.execute(
        select(Campaign).where(Campaign.id == campaign.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if campaign.status == CampaignStatus.ACTIVE.value:
        raise CampaignError("already_launched")
    _check_draft(campaign)
    tasks = list(campaign.tasks)
    if not tasks:
        raise CampaignError("no_tasks")
    kinds = {kind for task in tasks for kind in task.kinds}
    units = db.session.execute(
        select(Unit.id, Unit.kind, Unit.category)
        .where(Unit.path.like(f"{campaign.root_unit.path}%"), Unit.kind.in_(kinds))
    ).all()
    existing = {
        (task_id, unit_id)
        for task_id, unit_id in db.session.execute(
            select(Assignment.task_id, Assignment.unit_id).where(Assignment.campaign_id == campaign.id)
        )
    }
    now = utcnow()
    rows = [
        {
            "campaign_id": campaign.id,
            "task_id": task.id,
            "unit_id": unit_id,
            "status": AssignmentStatus.NOT_STARTED.value,
            "done": False,
            "note": "",
            "version": 1,
            "return_reason": "",
            "updated_at": now,
        }
        for task in tasks
        for unit_id, kind, category in units
        if _task_targets(task, kind, category) and (task.id, unit_id) not in existing
    ]
    if rows:
        db.session.execute(insert(Assignment), rows)
        rebuild_campaign(campaign)
    before = snapshot(campaign, ("status",))
    _move(campaign, CampaignStatus.ACTIVE.value)
    db.session.flush()
    record("campaign.launch", "campaign", campaign.id, before=before,
           after={**snapshot(campaign, ("status",)), "assignments_created": len(rows)}, actor=actor)
    return len(rows)


def close_campaign(campaign: Campaign, actor=None) -> Campaign:
    _check_manage(actor, campaign)
    if campaign.status != CampaignStatus.ACTIVE.value:
        raise CampaignError("not_active")
    before = snapshot(campaign, ("status",))
    _move(campaign, CampaignStatus.CLOSED.value)
    db.session.flush()
    record("campaign.close", "campaign", campaign.id, before=before,
           after=snapshot(campaign, ("status",)), actor=actor)
    return campaign


def _move(campaign, status):
    try:
        campaign.move_to(status)
    except InvalidTransition as error:
        raise CampaignError("invalid_transition", current=error.current, wanted=error.wanted) from error


# --- writing tasks ---------------------------------------------------------------------------

def add_task(campaign: Campaign, *, actor, **fields) -> Task:
    _check_manage(actor, campaign)
    _check_draft(campaign)
    task = Task(campaign_id=campaign.id)
    _apply_task_fields(task, campaign, **fields)
    task.position = max((other.position for other in campaign.tasks), default=-1) + 1
    campaign.tasks.append(task)
    db.session.flush()
    record("task.create", "task", task.id, after=snapshot(task, TASK_FIELDS), actor=actor)
    return task


def update_task(task: Task, *, actor, **fields) -> Task:
    campaign = task.campaign
    _check_manage(actor, campaign)
    _check_draft(campaign)
    before = snapshot(task, TASK_FIELDS)
    _apply_task_fields(task, campaign, **fields)
    db.session.flush()
    record("task.update", "task", task.id, before=before, after=snapshot(task, TASK_FIELDS), actor=actor)
    return task


def delete_task(task: Task, *, actor):
    campaign = task.campaign
    _check_manage(actor, campaign)
    _check_draft(campaign)
    before = snapshot(task, TASK_FIELDS)
    task_id = task.id
    campaign.tasks.remove(task)
    db.session.flush()
    record("task.delete", "task", task_id, before=before, actor=actor)


def _apply_task_fields(task, campaign, *, title, description="", unit_kinds=(), unit_category=None,
                       measure=Measure.DONE.value, target=None, measure_unit=None, requires_photo=False,
                       requires_document=False, due_date=None):
    title = (title or "").strip()
    if not title:
        raise CampaignError("title_required")
    kinds = [kind for kind in (unit_kinds or []) if kind]
    if not kinds:
        raise CampaignError("kinds_required")
    unknown = [kind for kind in kinds if kind not in UnitKind.values()]
    if unknown:
        raise CampaignError("unknown_kind", kind=", ".join(unknown))
    unit_category = (unit_category or "").strip() or None
    if unit_category is not None and unit_category not in UNIT_CATEGORY_LABELS:
        raise CampaignError("unknown_category", category=unit_category)
    if measure not in {m.value for m in Measure}:
        raise CampaignError("unknown_measure", measure=measure)
    if measure == Measure.QUANTITY.value:
        if not measure_unit:
            raise CampaignError("quantity_needs_unit")
        if measure_unit not in {u.value for u in MeasureUnit}:
            raise CampaignError("unknown_measure_unit", unit=measure_unit)
        if target is not None and target < 0:
            raise CampaignError("negative_target")
    else:
        target, measure_unit = None, None
    if due_date is not None:
        deadline_date = to_local(campaign.deadline_at).date()
        if not campaign.start_date <= due_date <= deadline_date:
            raise CampaignError("due_outside_window", start=campaign.start_date, deadline=deadline_date)
    task.title = title
    task.description = (description or "").strip()
    task.kinds = kinds
    task.unit_category = unit_category
    task.measure = measure
    task.target = target
    task.measure_unit = measure_unit
    task.requires_photo = bool(requires_photo)
    task.requires_document = bool(requires_document)
    task.due_date = due_date


# --- checks ----------------------------------------------------------------------------------

def _check_scope(actor, root_unit):
    if actor is None or root_unit is None:
        return
    if not permissions.has_permission(actor, "campaigns.manage"):
        raise CampaignError("not_allowed")
    if not permissions.unit_is_within(actor, root_unit):
        raise CampaignError("unit_out_of_scope")


def _check_manage(actor, campaign):
    if actor is not None and not permissions.can_manage_campaign(actor, campaign):
        raise CampaignError("not_allowed")


def _check_draft(campaign):
    if not campaign.is_draft:
        raise CampaignError("not_draft")
