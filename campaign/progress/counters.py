"""Progress counters: the figures of ``campaign_progress`` kept per (campaign, task, unit subtree).

Every flush that changes a report (a save, a submission, a return, an approval, an instalment, an
assignment made or removed through the ORM) adds the difference it makes to the counters of the unit
and of every unit above it, in the same transaction (``UPDATE … SET n = n + d``, so concurrent reports
never overwrite each other). A change of a campaign's deadline or a task's target or measure, a launch
(assignments inserted in bulk) and a unit moved in the tree rebuild the campaign's counters from the
assignments. ``flask progress rebuild-counters`` rebuilds them all; ``campaign_progress`` stays the
reference the tests compare the counters with.
"""
from collections import defaultdict

from sqlalchemy import delete, event, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..campaigns.models import Assignment, AssignmentStatus, Campaign, Instalment, Measure, Task
from ..database import utcnow
from ..extensions import db
from ..units.models import Unit
from .models import ProgressCounter
from .services import COUNTED_STATUSES, Figures, Progress, Row, _unit_order

FIELDS = ("expected", "submitted", "approved", "returned", "on_time", "late", "missing", "reported", "reached")
ZERO = (0,) * len(FIELDS)


def contribution(status, done, first_submitted_at, quantity, measure, target, deadline) -> tuple:
    """What one assignment adds to each counter: the rules of ``progress.services``, row by row."""
    counted = status in COUNTED_STATUSES
    done_task = measure == Measure.DONE.value
    if done_task:
        reported = 1 if counted and done else 0
        reached = reported
    else:
        reported = quantity if counted else 0
        reached = 1 if counted and (target is None or quantity >= target) else 0
    return (
        1,
        int(counted),
        int(status == AssignmentStatus.APPROVED.value),
        int(status == AssignmentStatus.RETURNED.value),
        int(first_submitted_at is not None and first_submitted_at <= deadline),
        int(first_submitted_at is not None and first_submitted_at > deadline),
        int(first_submitted_at is None),
        reported,
        reached,
    )


def ancestors(path: str) -> list[int]:
    """The unit and every unit above it, from its materialised path ("/1/7/42/" → [1, 7, 42])."""
    return [int(part) for part in path.strip("/").split("/")]


# --- reading ----------------------------------------------------------------------------------------

def figures_of(counts, task) -> Figures:
    expected, submitted, approved, returned, on_time, late, missing, reported, reached = counts
    target_total = expected if task.measure == Measure.DONE.value else (task.target or 0) * expected
    return Figures(expected, submitted, approved, returned, on_time, late, missing, reported, target_total, reached)


def counted_progress(campaign, scope_unit, now=None) -> Progress:
    """``campaign_progress(campaign, scope_unit)`` (without detail) read from the counters: three queries
    whatever the number of units or reports. The scope's own row is its subtree's counters less its
    children's."""
    now = now or utcnow()
    tasks = list(
        db.session.scalars(select(Task).where(Task.campaign_id == campaign.id).order_by(Task.position, Task.id))
    )
    task_by_id = {task.id: task for task in tasks}
    units = {
        unit_id: (name, kind, code)
        for unit_id, name, kind, code in db.session.execute(
            select(Unit.id, Unit.name, Unit.kind, Unit.code)
            .where(or_(Unit.parent_id == scope_unit.id, Unit.id == scope_unit.id))
        )
    }
    # Two plain index look-ups rather than a join: no plan to get wrong before ANALYZE.
    found = db.session.execute(
        select(ProgressCounter.unit_id, ProgressCounter.task_id, *(getattr(ProgressCounter, name) for name in FIELDS))
        .where(ProgressCounter.campaign_id == campaign.id, ProgressCounter.unit_id.in_(sorted(units)))
    ).all()
    counts, below = {}, defaultdict(lambda: [0] * len(FIELDS))
    for unit_id, task_id, *values in found:
        if task_id not in task_by_id:
            continue
        counts[(unit_id, task_id)] = values
        if unit_id != scope_unit.id:
            for index, value in enumerate(values):
                below[task_id][index] += value
    for task_id, values in below.items():
        whole = counts.get((scope_unit.id, task_id), values)
        counts[(scope_unit.id, task_id)] = [w - b for w, b in zip(whole, values)]
    rows: dict[int, Row] = {}
    totals: dict[int, Figures] = {}
    for (unit_id, task_id), values in counts.items():
        if values[0] <= 0:  # no assignment of this task there
            continue
        row = rows.get(unit_id)
        if row is None:
            row = rows[unit_id] = Row(unit_id, *units[unit_id])
        row.cells[task_id] = figures_of(values, task_by_id[task_id])
        totals.setdefault(task_id, Figures()).add(figures_of(values, task_by_id[task_id]))
    return Progress(campaign=campaign, scope=scope_unit, now=now, tasks=tasks,
                    rows=sorted(rows.values(), key=_unit_order), totals=totals)


# --- rebuilding -------------------------------------------------------------------------------------

def counter_rows(connection, campaign_ids=None) -> list[dict]:
    """The counters computed from the assignments (one query), for the given campaigns or all."""
    quantity = (
        select(func.coalesce(func.sum(Instalment.quantity), 0))
        .where(Instalment.assignment_id == Assignment.id)
        .correlate(Assignment)
        .scalar_subquery()
    )
    query = (
        select(Assignment.campaign_id, Assignment.task_id, Unit.path, Assignment.status, Assignment.done,
               Assignment.first_submitted_at, quantity, Task.measure, Task.target, Campaign.deadline_at)
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(Task, Task.id == Assignment.task_id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
    )
    if campaign_ids is not None:
        query = query.where(Assignment.campaign_id.in_(sorted(campaign_ids)))
    totals: dict = defaultdict(lambda: [0] * len(FIELDS))
    for campaign_id, task_id, path, *report in connection.execute(query):
        adds = contribution(*report)
        for unit_id in ancestors(path):
            sums = totals[(campaign_id, task_id, unit_id)]
            for index, value in enumerate(adds):
                sums[index] += value
    return [
        {"campaign_id": c, "task_id": t, "unit_id": u, **dict(zip(FIELDS, sums))}
        for (c, t, u), sums in sorted(totals.items())
    ]


def rebuild_counters(connection, campaign_ids=None) -> int:
    """Replace the counters of the given campaigns (all when None) by the ones computed afresh."""
    rows = counter_rows(connection, campaign_ids)
    removal = delete(ProgressCounter)
    if campaign_ids is not None:
        if not campaign_ids:
            return 0
        removal = removal.where(ProgressCounter.campaign_id.in_(sorted(campaign_ids)))
    connection.execute(removal)
    if rows:
        connection.execute(insert(ProgressCounter), rows)
    return len(rows)


def rebuild_campaign(campaign) -> int:
    """For services that insert assignments in bulk (a launch) or move units: flush, then rebuild."""
    db.session.flush()
    return rebuild_counters(db.session.connection(), {campaign.id})


def rebuild_all() -> int:
    db.session.flush()
    return rebuild_counters(db.session.connection())


# --- keeping them in the same transaction ---------------------------------------------------------

def _old(obj, name):
    history = db.inspect(obj).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    if history.added:
        return None
    return getattr(obj, name)


def _apply(connection, deltas: dict):
    rows = [
        {"campaign_id": c, "task_id": t, "unit_id": u, **dict(zip(FIELDS, values))}
        for (c, t, u), values in sorted(deltas.items()) if any(values)
    ]
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ProgressCounter)
    statement = statement.on_conflict_do_update(
        index_elements=["campaign_id", "task_id", "unit_id"],
        set_={name: getattr(ProgressCounter, name) + getattr(statement.excluded, name) for name in FIELDS},
    )
    connection.execute(statement, rows)


def _quantity_changes(session) -> dict:
    """{assignment id: instalment quantity added by this flush} (removed quantities count negative)."""
    changes: dict = defaultdict(int)
    for obj in session.new:
        if isinstance(obj, Instalment):
            changes[obj.assignment_id] += obj.quantity
    for obj in session.deleted:
        if isinstance(obj, Instalment):
            changes[_old(obj, "assignment_id")] -= _old(obj, "quantity") or 0
    for obj in session.dirty:
        if isinstance(obj, Instalment) and session.is_modified(obj):
            changes[_old(obj, "assignment_id")] -= _old(obj, "quantity") or 0
            changes[obj.assignment_id] += obj.quantity
    return changes


def _after_flush(session, flush_context):
    rebuild = set()
    for obj in session.dirty:
        if isinstance(obj, Campaign) and db.inspect(obj).attrs.deadline_at.history.has_changes():
            rebuild.add(obj.id)
        elif isinstance(obj, Task) and any(
            db.inspect(obj).attrs[name].history.has_changes() for name in ("measure", "target")
        ):
            rebuild.add(obj.campaign_id)
    quantity_changes = _quantity_changes(session)
    assignments = {obj.id: obj for obj in session.new | session.dirty | session.deleted
                   if isinstance(obj, Assignment)}
    ids = (set(assignments) | set(quantity_changes)) - {None}
    if not ids and not rebuild:
        return
    connection = session.connection()
    deltas: dict = defaultdict(lambda: [0] * len(FIELDS))
    if ids:
        with session.no_autoflush:
            rows = connection.execute(
                select(Assignment.id, Assignment.campaign_id, Assignment.task_id, Assignment.status,
                       Assignment.done, Assignment.first_submitted_at, Unit.path, Task.measure, Task.target,
                       Campaign.deadline_at,
                       select(func.coalesce(func.sum(Instalment.quantity), 0))
                       .where(Instalment.assignment_id == Assignment.id).correlate(Assignment).scalar_subquery())
                .join(Unit, Unit.id == Assignment.unit_id).join(Task, Task.id == Assignment.task_id)
                .join(Campaign, Campaign.id == Assignment.campaign_id)
                .where(Assignment.id.in_(sorted(ids)))
            ).all()
        found = {row.id: row for row in rows}
        for assignment_id in sorted(ids):
            _add_difference(deltas, session, assignments.get(assignment_id), found.get(assignment_id),
                            quantity_changes.get(assignment_id, 0), rebuild)
    _apply(connection, {key: values for key, values in deltas.items() if key[0] not in rebuild})
    if rebuild:
        rebuild_counters(connection, rebuild)


def _add_difference(deltas, session, obj, row, quantity_change, rebuild):
    """Add (new contribution − old contribution) of one assignment to every unit above it."""
    if row is not None:  # the assignment as flushed: its new state
        key, path = (row.campaign_id, row.task_id), row.path
        if key[0] in rebuild:
            return
        new = contribution(row.status, row.done, row.first_submitted_at, row[-1], row.measure, row.target,
                           row.deadline_at)
        old_quantity = row[-1] - quantity_change
        if obj is None:
            old = contribution(row.status, row.done, row.first_submitted_at, old_quantity, row.measure,
                               row.target, row.deadline_at)
        elif obj in session.new:
            old = ZERO
        else:
            old = contribution(_old(obj, "status"), _old(obj, "done"), _old(obj, "first_submitted_at"),
                               old_quantity, row.measure, row.target, row.deadline_at)
    else:  # deleted in this flush: take back what it added
        if obj is None or obj not in session.deleted:
            return
        with session.no_autoflush:
            task, campaign = session.get(Task, obj.task_id), session.get(Campaign, obj.campaign_id)
            unit = session.get(Unit, obj.unit_id)
        if task is None or campaign is None or unit is None:
            return  # removed with its campaign or task: the counters went with them (ON DELETE CASCADE)
        key, path = (obj.campaign_id, obj.task_id), unit.path
        if key[0] in rebuild:
            return
        new = ZERO
        old = contribution(_old(obj, "status"), _old(obj, "done"), _old(obj, "first_submitted_at"),
                           sum(i.quantity for i in obj.instalments), task.measure, task.target, campaign.deadline_at)
    difference = [n - o for n, o in zip(new, old)]
    if not any(difference):
        return
    for unit_id in ancestors(path):
        sums = deltas[(*key, unit_id)]
        for index, value in enumerate(difference):
            sums[index] += value


def install():
    """Keep the counters on every ORM session (called once by the app factory)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
