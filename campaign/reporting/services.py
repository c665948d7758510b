"""Reporting: what a unit reports on its assignments, the township's review, deadline locks.

Plain functions shared by the pages and the JSON API. They take the actor and plain values,
flush, and raise ``ReportError``; the caller commits once (or rolls back on an error).
Every write names the report version it was based on, so nothing is silently overwritten.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, contains_eager
from sqlalchemy.orm.exc import StaleDataError

from .. import permissions
from ..accounts.models import User
from ..audit.models import AuditRecord
from ..audit.services import record, snapshot
from ..campaigns.models import (
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    Instalment,
    InvalidTransition,
    Task,
)
from ..database import utcnow
from ..evidence.models import Evidence, FileKind, StoredFile
from ..extensions import db
from ..timeutil import to_local
from ..units.models import Unit
from .models import LockException

ENTITY = "assignment"
REPORT_FIELDS = ("status", "done", "note", "version", "submitted_at", "reviewed_at", "reviewed_by_id",
                 "return_reason")
LOCK_EXCEPTION_FIELDS = ("campaign_id", "unit_id", "until_at", "reason")
EDITABLE_STATUSES = frozenset(
    {AssignmentStatus.NOT_STARTED.value, AssignmentStatus.DRAFT.value, AssignmentStatus.RETURNED.value}
)
DOCUMENT_KINDS = frozenset({FileKind.PDF.value, FileKind.DOCX.value, FileKind.XLSX.value})
MAX_NOTE_LENGTH = 5000
MAX_REASON_LENGTH = 2000
MAX_QUANTITY = 1_000_000


class ReportError(ValueError):
    """A refused reporting operation; ``code`` names the reason for messages and the API."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


class ReportConflict(ReportError):
    """Someone else saved the report since it was loaded. ``details`` holds what they saved:
    note, done, status, version, and who (``by``) and when (``at``) from the audit trail."""

    def __init__(self, **details):
        super().__init__("conflict", **details)


@dataclass
class ReportLine:
    assignment: Assignment
    total: int

    @property
    def percent(self) -> int | None:
        return percent_of(self.total, self.assignment.task)


@dataclass
class CampaignTasks:
    campaign: Campaign
    lines: list[ReportLine] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return sum(line.assignment.status in (AssignmentStatus.SUBMITTED.value, AssignmentStatus.APPROVED.value)
                   for line in self.lines)


def percent_of(total: int, task: Task) -> int | None:
    if not task.is_quantity or not task.target:
        return None
    return round(total * 100 / task.target)


def _total_column():
    """Correlated sum of an assignment's instalments (0 when none)."""
    return (
        select(func.coalesce(func.sum(Instalment.quantity), 0))
        .where(Instalment.assignment_id == Assignment.id)
        .correlate(Assignment)
        .scalar_subquery()
    )


# --- reading ---------------------------------------------------------------------------------

def my_assignments(user) -> list[CampaignTasks]:
    """The assignments of the user's own unit in active campaigns, grouped by campaign, with each
    report's running total: one query."""
    query = (
        select(Assignment, _total_column())
        .join(Assignment.campaign)
        .join(Assignment.task)
        .where(Assignment.unit_id == user.unit_id, Campaign.status == CampaignStatus.ACTIVE.value)
        .options(contains_eager(Assignment.campaign), contains_eager(Assignment.task))
        .order_by(Campaign.deadline_at, Campaign.id, Task.position, Task.id)
    )
    rows = db.session.execute(query).all()
    return [
        CampaignTasks(campaign, [ReportLine(assignment, total) for assignment, total in items])
        for campaign, items in groupby(rows, key=lambda row: row[0].campaign)
    ]


def assignment_for(user, assignment_id) -> Assignment | None:
    """The assignment if it is the user's unit's or below it, with its campaign, task and unit;
    else None (→ 404)."""
    query = (
        select(Assignment)
        .join(Assignment.unit)
        .join(Assignment.campaign)
        .join(Assignment.task)
        .where(Assignment.id == assignment_id, permissions.units_within(user))
        .options(contains_eager(Assignment.unit), contains_eager(Assignment.campaign),
                 contains_eager(Assignment.task))
    )
    return db.session.scalar(query)


def quantity_total(assignment: Assignment) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(Instalment.quantity), 0)).where(Instalment.assignment_id == assignment.id)
    )


def instalments_of(assignment: Assignment) -> list[tuple[Instalment, User | None]]:
    query = (
        select(Instalment, User)
        .outerjoin(User, User.id == Instalment.reported_by_id)
        .where(Instalment.assignment_id == assignment.id)
        .order_by(Instalment.reported_on, Instalment.id)
    )
    return [tuple(row) for row in db.session.execute(query)]


def evidence_of(assignment: Assignment) -> list[Evidence]:
    query = (
        select(Evidence)
        .where(Evidence.assignment_id == assignment.id, Evidence.removed_at.is_(None))
        .order_by(Evidence.id)
    )
    return list(db.session.scalars(query))


def evidence_item(assignment: Assignment, evidence_id) -> Evidence | None:
    return db.session.scalar(
        select(Evidence).where(Evidence.id == evidence_id, Evidence.assignment_id == assignment.id,
                               Evidence.removed_at.is_(None))
    )


def history(assignment: Assignment) -> list[AuditRecord]:
    """Who saved, reported, submitted, returned, approved, added or removed evidence, and when."""
    query = (
        select(AuditRecord)
        .where(AuditRecord.entity_type == ENTITY, AuditRecord.entity_id == str(assignment.id))
        .order_by(AuditRecord.at, AuditRecord.id)
    )
    return list(db.session.scalars(query))


def review_queue(user, *, campaign_id=None, task_id=None, status=AssignmentStatus.SUBMITTED.value,
                 limit=50, offset=0) -> tuple[list[ReportLine], int]:
    """Reports of the units below the reviewer, newest submission first; (lines, total count)."""
    conditions = [permissions.units_within(user), Assignment.unit_id != user.unit_id,
                  Campaign.status != CampaignStatus.DRAFT.value]
    if campaign_id:
        conditions.append(Assignment.campaign_id == campaign_id)
    if task_id:
        conditions.append(Assignment.task_id == task_id)
    if status:
        conditions.append(Assignment.status == status)
    base = select(Assignment).join(Assignment.unit).join(Assignment.campaign).join(Assignment.task).where(*conditions)
    count = db.session.scalar(select(func.count()).select_from(base.subquery()))
    query = (
        base.add_columns(_total_column())
        .options(contains_eager(Assignment.unit), contains_eager(Assignment.campaign),
                 contains_eager(Assignment.task))
        .order_by(Assignment.submitted_at.desc().nulls_last(), Unit.path, Task.position, Assignment.id)
        .limit(limit)
        .offset(offset)
    )
    lines = [ReportLine(assignment, total) for assignment, total in db.session.execute(query)]
    return lines, count


def reviewable_campaigns(user) -> list[Campaign]:
    root = aliased(Unit)
    query = (
        select(Campaign)
        .join(root, Campaign.root_unit_id == root.id)
        .where(permissions.campaigns_visible_to(user, root), Campaign.status != CampaignStatus.DRAFT.value)
        .order_by(Campaign.start_date.desc(), Campaign.id.desc())
    )
    return list(db.session.scalars(query))


def campaign_tasks(campaign_id) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.campaign_id == campaign_id).order_by(Task.position)))


def lock_exceptions_of(campaign: Campaign) -> list[LockException]:
    query = (
        select(LockException)
        .join(LockException.unit)
        .outerjoin(LockException.created_by)
        .where(LockException.campaign_id == campaign.id)
        .options(contains_eager(LockException.unit), contains_eager(LockException.created_by))
        .order_by(LockException.created_at.desc(), LockException.id.desc())
    )
    return list(db.session.scalars(query))


def exception_units(campaign: Campaign, actor) -> list[Unit]:
    """The units taking part in the campaign that the actor may open an exception for."""
    query = (
        select(Unit)
        .where(Unit.id.in_(select(Assignment.unit_id).where(Assignment.campaign_id == campaign.id)),
               permissions.units_within(actor))
        .order_by(Unit.path)
    )
    return list(db.session.scalars(query))


# --- who may do what -------------------------------------------------------------------------

def can_report(user, assignment: Assignment) -> bool:
    """A unit's own people report its tasks, never another unit's."""
    return assignment.unit_id == user.unit_id and permissions.has_permission(user, "assignments.report")


def can_review(user, assignment: Assignment) -> bool:
    """Reviewers act on the units below them, never on their own unit's report."""
    return (
        permissions.has_permission(user, "assignments.review")
        and assignment.unit_id != user.unit_id
        and permissions.unit_is_within(user, assignment.unit)
    )


def lock_exception_for(campaign_id, unit_id, now: datetime) -> LockException | None:
    return db.session.scalar(
        select(LockException)
        .where(LockException.campaign_id == campaign_id, LockException.unit_id == unit_id,
               LockException.until_at > now)
        .order_by(LockException.until_at.desc())
        .limit(1)
    )


def is_locked(assignment: Assignment, now: datetime | None = None) -> bool:
    """True when the unit can no longer change its report: the campaign is not active, or its
    deadline has passed (deadline_at itself is late) and no lock exception is open."""
    now = now or utcnow()
    campaign = assignment.campaign
    if campaign.status != CampaignStatus.ACTIVE.value:
        return True
    if now < campaign.deadline_at:
        return False
    return lock_exception_for(campaign.id, assignment.unit_id, now) is None


def _check_reporter(assignment, actor, now):
    if not can_report(actor, assignment):
        raise ReportError("not_allowed")
    campaign = assignment.campaign
    if campaign.status == CampaignStatus.CLOSED.value:
        raise ReportError("campaign_closed")
    if campaign.status != CampaignStatus.ACTIVE.value:
        raise ReportError("campaign_not_active")
    if is_locked(assignment, now):
        raise ReportError("locked", deadline=campaign.deadline_at)


def _check_reviewer(assignment, reviewer):
    if not can_review(reviewer, assignment):
        raise ReportError("not_allowed")
    if assignment.campaign.status == CampaignStatus.CLOSED.value:
        raise ReportError("campaign_closed")


def _check_editable(assignment):
    if assignment.status not in EDITABLE_STATUSES:
        raise ReportError("not_editable", status=assignment.status)


# --- optimistic locking ----------------------------------------------------------------------

def _lock_row(assignment: Assignment):
    """Reload the report under a row lock, so the version compared is the one the write will
    replace (PostgreSQL waits here for a concurrent writer; SQLite's writes begin IMMEDIATE)."""
    db.session.execute(
        select(Assignment).where(Assignment.id == assignment.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def saved_state(assignment: Assignment) -> dict:
    """What is stored now, and who wrote it last: shown when a save is refused as a conflict."""
    last = db.session.execute(
        select(AuditRecord, User.display_name)
        .outerjoin(User, User.id == AuditRecord.user_id)
        .where(AuditRecord.entity_type == ENTITY, AuditRecord.entity_id == str(assignment.id))
        .order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
        .limit(1)
    ).first()
    entry, display_name = last if last else (None, None)
    return {
        "note": assignment.note,
        "done": assignment.done,
        "status": assignment.status,
        "version": assignment.version,
        "by": (display_name or entry.username) if entry else "",
        "at": entry.at if entry else assignment.updated_at,
    }


def _check_version(assignment, expected_version):
    if expected_version is None or int(expected_version) != assignment.version:
        raise ReportConflict(**saved_state(assignment))


def _flush(assignment):
    """Flush; a concurrent UPDATE between our load and this write becomes a ReportConflict.
    The session is rolled back then (the request's whole change is void anyway)."""
    assignment_id = assignment.id
    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        fresh = db.session.get(Assignment, assignment_id, populate_existing=True)
        raise ReportConflict(**saved_state(fresh)) from error


def _move(assignment, status):
    try:
        assignment.move_to(status)
    except InvalidTransition as error:
        raise ReportError("invalid_transition", status=error.current) from error


def _record(action, assignment, actor, before=None, after=None):
    record(action, ENTITY, assignment.id, before=before, after=after, actor=actor)


# --- the unit's writes -----------------------------------------------------------------------

def save_report(assignment: Assignment, actor, *, expected_version, note, done=None,
                now: datetime | None = None) -> Assignment:
    """Save the note (and, for a yes/no task, done) as a draft.

    The version is checked only when the save would change what is stored: a one-pass form that only
    adds a figure or photos (its note as it was, the report still a draft) overwrites nobody, so two
    such forms sent from the same page — one after the other from the offline outbox — both go in."""
    _check_reporter(assignment, actor, now)
    _lock_row(assignment)
    note = (note or "").strip()
    unchanged = (note == assignment.note and (done is None or bool(done) == assignment.done)
                 and assignment.status in (AssignmentStatus.NOT_STARTED.value, AssignmentStatus.DRAFT.value))
    if not unchanged:
        _check_version(assignment, expected_version)
    _check_editable(assignment)
    if len(note) > MAX_NOTE_LENGTH:
        raise ReportError("note_too_long", max=MAX_NOTE_LENGTH)
    before = snapshot(assignment, REPORT_FIELDS)
    assignment.note = note
    if done is not None:
        assignment.done = bool(done)
    _move(assignment, AssignmentStatus.DRAFT.value)
    _flush(assignment)
    after = snapshot(assignment, REPORT_FIELDS)
    if after != before:  # "Submit" saves first; an unchanged form leaves no empty line in the history
        _record("report.save", assignment, actor, before, after)
    return assignment


def add_instalment(assignment: Assignment, actor, *, quantity, reported_on, note="",
                   now: datetime | None = None) -> Instalment:
    """Add a reported quantity. It is a new row, so two instalments added at once both count;
    a report not started yet becomes a draft."""
    now = now or utcnow()
    _check_reporter(assignment, actor, now)
    if not assignment.task.is_quantity:
        raise ReportError("not_a_quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ReportError("quantity_invalid")
    if quantity > MAX_QUANTITY:
        raise ReportError("quantity_too_large", max=MAX_QUANTITY)
    if not isinstance(reported_on, date):
        raise ReportError("date_required")
    campaign = assignment.campaign
    if reported_on > to_local(now).date():
        raise ReportError("date_in_future")
    if not campaign.start_date <= reported_on <= campaign.end_date:
        raise ReportError("date_outside_window", start=campaign.start_date, end=campaign.end_date)
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ReportError("note_too_long", max=MAX_NOTE_LENGTH)
    _lock_row(assignment)
    _check_editable(assignment)
    before = snapshot(assignment, ("status", "version"))
    instalment = Instalment(assignment_id=assignment.id, quantity=quantity, reported_on=reported_on, note=note,
                            reported_by_id=actor.id)
    db.session.add(instalment)
    if assignment.status == AssignmentStatus.NOT_STARTED.value:
        _move(assignment, AssignmentStatus.DRAFT.value)
    _flush(assignment)
    after = {**snapshot(assignment, ("status", "version")), "instalment_id": instalment.id,
             "quantity": quantity, "reported_on": reported_on.isoformat(), "instalment_note": note,
             "total": quantity_total(assignment)}
    _record("report.instalment", assignment, actor, before, after)
    return instalment


def missing_evidence(assignment: Assignment) -> list[str]:
    """What the task requires that the report lacks: "photo", "document"."""
    task = assignment.task
    if not (task.requires_photo or task.requires_document):
        return []
    kinds = set(db.session.scalars(
        select(StoredFile.kind).join(Evidence, Evidence.stored_file_id == StoredFile.id)
        .where(Evidence.assignment_id == assignment.id, Evidence.removed_at.is_(None)).distinct()
    ))
    missing = []
    if task.requires_photo and FileKind.IMAGE.value not in kinds:
        missing.append("photo")
    if task.requires_document and not kinds & DOCUMENT_KINDS:
        missing.append("document")
    return missing


def submit_report(assignment: Assignment, actor, *, expected_version, now: datetime | None = None) -> Assignment:
    _check_reporter(assignment, actor, now)
    _lock_row(assignment)
    _check_version(assignment, expected_version)
    _check_editable(assignment)
    missing = missing_evidence(assignment)
    if missing:
        raise ReportError("evidence_missing", missing=missing)
    before = snapshot(assignment, REPORT_FIELDS)
    _move(assignment, AssignmentStatus.SUBMITTED.value)
    _flush(assignment)
    after = snapshot(assignment, REPORT_FIELDS)
    if assignment.task.is_quantity:
        after["total"] = quantity_total(assignment)
    _record("report.submit", assignment, actor, before, after)
    return assignment


def check_evidence_change(assignment: Assignment, actor, now: datetime | None = None):
    """Evidence may be added or removed while the unit may still change its report."""
    _check_reporter(assignment, actor, now)
    _check_editable(assignment)


def add_evidence(assignment: Assignment, actor, uploads, now: datetime | None = None) -> list[Evidence]:
    """Attach stored uploads (see evidence.services.store_upload) to the report."""
    from ..evidence.services import attach_evidence

    check_evidence_change(assignment, actor, now)
    if not uploads:
        raise ReportError("no_files")
    _lock_row(assignment)
    _check_editable(assignment)
    added = [attach_evidence(assignment, upload, actor) for upload in uploads]
    db.session.flush()
    _record("report.evidence_add", assignment, actor, after={
        "evidence": [{"id": item.id, "name": item.original_name} for item in added],
    })
    return added


def remove_evidence_from(assignment: Assignment, evidence: Evidence, actor, now: datetime | None = None):
    from ..evidence.services import remove_evidence

    check_evidence_change(assignment, actor, now)
    if evidence.assignment_id != assignment.id or evidence.removed_at is not None:
        raise ReportError("evidence_not_found")
    _lock_row(assignment)
    _check_editable(assignment)
    remove_evidence(evidence, actor)
    db.session.flush()
    _record("report.evidence_remove", assignment, actor,
            before={"evidence": [{"id": evidence.id, "name": evidence.original_name}]})


# --- review ----------------------------------------------------------------------------------

def approve(assignment: Assignment, reviewer, *, expected_version, now: datetime | None = None) -> Assignment:
    _check_reviewer(assignment, reviewer)
    _lock_row(assignment)
    _check_version(assignment, expected_version)
    if assignment.status != AssignmentStatus.SUBMITTED.value:
        raise ReportError("not_submitted", status=assignment.status)
    before = snapshot(assignment, REPORT_FIELDS)
    _move(assignment, AssignmentStatus.APPROVED.value)
    assignment.reviewed_at = now or utcnow()
    assignment.reviewed_by_id = reviewer.id
    _flush(assignment)
    _record("report.approve", assignment, reviewer, before, snapshot(assignment, REPORT_FIELDS))
    return assignment


def return_report(assignment: Assignment, reviewer, *, expected_version, reason,
                  now: datetime | None = None) -> Assignment:
    """Send the report back to the unit with a reason; an approved report can be reopened too."""
    _check_reviewer(assignment, reviewer)
    reason = (reason or "").strip()
    if not reason:
        raise ReportError("reason_required")
    if len(reason) > MAX_REASON_LENGTH:
        raise ReportError("reason_too_long", max=MAX_REASON_LENGTH)
    _lock_row(assignment)
    _check_version(assignment, expected_version)
    if assignment.status not in (AssignmentStatus.SUBMITTED.value, AssignmentStatus.APPROVED.value):
        raise ReportError("not_submitted", status=assignment.status)
    before = snapshot(assignment, REPORT_FIELDS)
    _move(assignment, AssignmentStatus.RETURNED.value)
    assignment.return_reason = reason
    assignment.reviewed_at = now or utcnow()
    assignment.reviewed_by_id = reviewer.id
    _flush(assignment)
    _record("report.return", assignment, reviewer, before, snapshot(assignment, REPORT_FIELDS))
    return assignment


# --- lock exceptions -------------------------------------------------------------------------

def grant_lock_exception(campaign: Campaign, unit: Unit, actor, *, until: datetime, reason,
                         now: datetime | None = None) -> LockException:
    """Reopen reporting for one unit of one campaign after the deadline, until ``until`` (UTC)."""
    now = now or utcnow()
    if not permissions.has_permission(actor, "lock_exceptions.manage"):
        raise ReportError("not_allowed")
    if not permissions.can_see_campaign(actor, campaign):
        raise ReportError("not_allowed")
    if campaign.status != CampaignStatus.ACTIVE.value:
        raise ReportError("campaign_not_active")
    if unit is None or not permissions.unit_is_within(actor, unit) or not unit.is_within(campaign.root_unit):
        raise ReportError("unit_out_of_scope")
    if until is None or until.tzinfo is None:
        raise ReportError("until_required")
    if until <= now:
        raise ReportError("until_in_past")
    reason = (reason or "").strip()
    if not reason:
        raise ReportError("reason_required")
    if len(reason) > MAX_REASON_LENGTH:
        raise ReportError("reason_too_long", max=MAX_REASON_LENGTH)
    exception = LockException(campaign_id=campaign.id, unit_id=unit.id, until_at=until, reason=reason,
                              created_by_id=actor.id)
    db.session.add(exception)
    db.session.flush()
    record("lock_exception.grant", "lock_exception", exception.id,
           after={**snapshot(exception, LOCK_EXCEPTION_FIELDS), "unit": unit.name}, actor=actor)
    return exception
