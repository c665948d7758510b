"""A township's summary (总结材料): its narrative and figures, submitted by the deadline, reviewed by the county.

Figures are compiled from the township's APPROVED reports only: the sum of the instalments for a
quantity task, the number of approved reports marked done for a yes/no task. The township may
correct a figure, always with a note. First submission at or before the deadline is on time.
"""
from dataclasses import dataclass
from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import permissions
from ..audit.services import record, snapshot
from ..campaigns.models import (
    Assignment,
    AssignmentStatus,
    CampaignStatus,
    Instalment,
    InvalidTransition,
    Measure,
    Task,
)
from ..database import utcnow
from ..extensions import db
from ..units.models import Unit, UnitKind
from .models import SummaryFigure, TownshipSummary

NARRATIVE_FIELDS = ("work_done", "highlights", "problems", "next_steps")
SUMMARY_FIELDS = (*NARRATIVE_FIELDS, "status", "submitted_at", "first_submitted_at", "reviewed_at",
                  "reviewed_by_id", "return_reason", "version")
EDITABLE_STATUSES = frozenset({AssignmentStatus.NOT_STARTED.value, AssignmentStatus.DRAFT.value,
                               AssignmentStatus.RETURNED.value})
MAX_FIGURE = 1_000_000_000


class SummaryError(ValueError):
    """A refused summary operation; ``code`` names the reason, ``details`` what the message needs."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass
class FigureLine:
    task: Task
    compiled: int
    corrected: int | None = None
    note: str = ""

    @property
    def value(self) -> int:
        return self.corrected if self.corrected is not None else self.compiled


# --- reading ---------------------------------------------------------------------------------

def is_township_of(unit, campaign) -> bool:
    return unit is not None and unit.kind == UnitKind.TOWNSHIP.value and unit.is_within(campaign.root_unit)


def reviewable_township(user, campaign, unit_id) -> Unit | None:
    """A township of the campaign inside the reviewer's area, else None (the view answers 404)."""
    unit = db.session.get(Unit, unit_id)
    if not is_township_of(unit, campaign) or not permissions.unit_is_within(user, unit):
        return None
    return unit


def summary_of(campaign, township) -> TownshipSummary | None:
    query = (
        select(TownshipSummary)
        .where(TownshipSummary.campaign_id == campaign.id, TownshipSummary.unit_id == township.id)
        .options(selectinload(TownshipSummary.figures))
    )
    return db.session.scalar(query)


def compiled_figures(campaign, township) -> dict[int, int]:
    """{task_id: figure} from the approved reports of the township and every unit below it (one query)."""
    is_done_task = Task.measure == Measure.DONE.value
    query = (
        select(
            Assignment.task_id,
            is_done_task.label("is_done_task"),
            func.count(distinct(case((Assignment.done.is_(True), Assignment.id)))).label("done"),
            func.coalesce(func.sum(Instalment.quantity), 0).label("quantity"),
        )
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(Task, Task.id == Assignment.task_id)
        .outerjoin(Instalment, Instalment.assignment_id == Assignment.id)
        .where(
            Assignment.campaign_id == campaign.id,
            Assignment.status == AssignmentStatus.APPROVED.value,
            Unit.path.like(f"{township.path}%"),
        )
        .group_by(Assignment.task_id, is_done_task)
    )
    return {
        row.task_id: int(row.done if row.is_done_task else row.quantity)
        for row in db.session.execute(query)
    }


def is_editable(summary: TownshipSummary | None) -> bool:
    return summary is None or summary.status in EDITABLE_STATUSES


def figure_lines(campaign, township, summary) -> list[FigureLine]:
    """The figures to show: compiled afresh while the township can still edit, as submitted after."""
    stored = {figure.task_id: figure for figure in (summary.figures if summary else [])}
    fresh = compiled_figures(campaign, township) if is_editable(summary) else None
    lines = []
    for task in campaign.tasks:
        figure = stored.get(task.id)
        compiled = fresh.get(task.id, 0) if fresh is not None else (figure.compiled_value if figure else 0)
        lines.append(FigureLine(
            task=task, compiled=compiled,
            corrected=figure.corrected_value if figure else None,
            note=figure.correction_note if figure else "",
        ))
    return lines


def timeliness(summary: TownshipSummary | None, campaign, now=None) -> str:
    """on_time / late by the first submission against the deadline (to the second); before that,
    pending until the deadline and missing after it."""
    first = summary.first_submitted_at if summary else None
    if first is not None:
        return "on_time" if first <= campaign.deadline_at else "late"
    return "missing" if (now or utcnow()) > campaign.deadline_at else "pending"


@dataclass
class TownshipRow:
    township: Unit
    summary: TownshipSummary | None
    timeliness: str

    @property
    def status(self) -> str:
        return self.summary.status if self.summary else AssignmentStatus.NOT_STARTED.value


def township_overview(campaign, user, now=None) -> list[TownshipRow]:
    """Every township of the campaign in the user's area with its summary's state (two queries)."""
    townships = db.session.scalars(
        select(Unit)
        .where(
            Unit.kind == UnitKind.TOWNSHIP.value,
            Unit.path.like(f"{campaign.root_unit.path}%"),
            permissions.units_within(user),
        )
        .order_by(Unit.code.is_(None), Unit.code, Unit.name)
    ).all()
    summaries = {
        summary.unit_id: summary
        for summary in db.session.scalars(
            select(TownshipSummary).where(
                TownshipSummary.campaign_id == campaign.id,
                TownshipSummary.unit_id.in_([township.id for township in townships] or [0]),
            )
        )
    }
    return [
        TownshipRow(township, summaries.get(township.id), timeliness(summaries.get(township.id), campaign, now))
        for township in townships
    ]


# --- writing ---------------------------------------------------------------------------------

def _audit_state(summary) -> dict:
    state = snapshot(summary, SUMMARY_FIELDS)
    state["figures"] = {
        str(figure.task_id): [figure.compiled_value, figure.corrected_value, figure.correction_note]
        for figure in summary.figures
    }
    return state


def _check_version(summary, version):
    current = summary.version if summary is not None and summary.id is not None else 0
    if version is None or int(version) != current:
        raise SummaryError("stale")


def _move(summary, status):
    try:
        summary.move_to(status)
    except InvalidTransition as error:
        raise SummaryError("invalid_transition", current=error.current, wanted=error.wanted) from error


def save_summary(campaign, township, *, actor, version, narrative: dict, corrections: dict,
                 submit=False, now=None) -> TownshipSummary:
    """Save the township's draft, or submit it. ``corrections``: {task_id: (value or None, note)}.

    ``version`` is the version the user edited (0 for a summary not saved yet); a stale one is refused.
    """
    now = now or utcnow()
    if campaign.status != CampaignStatus.ACTIVE.value:
        raise SummaryError("campaign_not_active")
    if actor is not None and (actor.unit_id != township.id or not permissions.has_permission(actor, "summary.write")):
        raise SummaryError("not_allowed")
    summary = summary_of(campaign, township)
    _check_version(summary, version)
    if not is_editable(summary):
        raise SummaryError("not_editable")

    task_ids = {task.id for task in campaign.tasks}
    missing_notes = sorted(
        task_id for task_id, (value, note) in corrections.items()
        if task_id in task_ids and value is not None and not (note or "").strip()
    )
    if missing_notes:
        raise SummaryError("note_required", task_ids=missing_notes)
    if any(value is not None and not 0 <= value <= MAX_FIGURE for value, _note in corrections.values()):
        raise SummaryError("bad_figure")
    narrative = {field: (narrative.get(field) or "").strip() for field in NARRATIVE_FIELDS}
    if submit and not narrative["work_done"]:
        raise SummaryError("work_done_required")

    created = summary is None
    if created:
        summary = TownshipSummary(campaign_id=campaign.id, unit_id=township.id)
        db.session.add(summary)
        before = None
    else:
        before = _audit_state(summary)
    for field, value in narrative.items():
        setattr(summary, field, value)

    compiled = compiled_figures(campaign, township)
    figures = {figure.task_id: figure for figure in summary.figures}
    for task in campaign.tasks:
        figure = figures.get(task.id)
        if figure is None:
            figure = SummaryFigure(task_id=task.id)
            summary.figures.append(figure)
        figure.compiled_value = compiled.get(task.id, 0)
        value, note = corrections.get(task.id, (None, ""))
        figure.corrected_value = value
        figure.correction_note = (note or "").strip() if value is not None else ""

    first_submitted = summary.first_submitted_at
    _move(summary, AssignmentStatus.SUBMITTED.value if submit else AssignmentStatus.DRAFT.value)
    if submit:
        summary.submitted_at = now
        summary.first_submitted_at = first_submitted or now
    _flush()
    record("summary.submit" if submit else "summary.save", "township_summary", summary.id,
           before=before, after=_audit_state(summary), actor=actor)
    return summary


def return_summary(summary, *, actor, version, reason, now=None) -> TownshipSummary:
    reason = (reason or "").strip()
    if not reason:
        raise SummaryError("reason_required")
    return _review(summary, AssignmentStatus.RETURNED.value, actor=actor, version=version, reason=reason, now=now)


def approve_summary(summary, *, actor, version, now=None) -> TownshipSummary:
    return _review(summary, AssignmentStatus.APPROVED.value, actor=actor, version=version, now=now)


def _review(summary, status, *, actor, version, reason=None, now=None):
    if summary is None:
        raise SummaryError("nothing_submitted")
    if actor is not None and (not permissions.has_permission(actor, "summary.review")
                              or not permissions.unit_is_within(actor, summary.unit)):
        raise SummaryError("not_allowed")
    _check_version(summary, version)
    before = _audit_state(summary)
    _move(summary, status)
    summary.reviewed_at = now or utcnow()
    summary.reviewed_by_id = actor.id if actor is not None else None
    if reason is not None:
        summary.return_reason = reason
    _flush()
    action = "summary.return" if status == AssignmentStatus.RETURNED.value else "summary.approve"
    record(action, "township_summary", summary.id, before=before, after=_audit_state(summary), actor=actor)
    return summary


def _flush():
    try:
        db.session.flush()
    except StaleDataError as error:
        raise SummaryError("stale") from error


def deadline_passed(campaign, now=None) -> bool:
    return (now or utcnow()) > campaign.deadline_at

