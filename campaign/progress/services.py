"""The figures of a campaign's progress: ONE computation shared by the dashboard, the workbook and the API.

The rules (the health-information-system rules the county office knows):

- expected: the assignments of the participating units in scope (one per task per unit);
- submitted: reports whose status is submitted or approved; approved and returned likewise by status;
- on time: first submitted at or before the deadline (``first_submitted_at <= deadline_at``, to the
  second); late: first submitted after it — a lock exception lets a unit submit late, and it stays late;
  a resubmission after a return keeps the first submission's time;
- missing: never submitted (``first_submitted_at`` is None);
- reported: a report's figure is the SUM of its instalments; only submitted and approved reports count
  (a draft is unfinished, a returned report is being corrected). For a yes/no task, reported is the
  number of counted reports marked done;
- target total: target × expected for a quantity task, expected for a yes/no task;
- % reached: reported / target total; a unit reached the target when its own counted report is ≥ the
  target (a quantity task without a target: any counted report; a yes/no task: counted and done);
- every rate with a zero denominator is None (shown "—"), never a division error;
- days left: the deadline's local date minus today's local date (negative once it has passed).

Every figure comes from GROUP BY aggregates in a fixed number of queries, whatever the number of units.
"""
from dataclasses import dataclass, field, fields
from datetime import datetime

from natsort import natsort_keygen
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from ..campaigns.models import Assignment, AssignmentStatus, Campaign, Measure, Task
from ..campaigns.models import Instalment
from ..database import utcnow
from ..extensions import db
from ..timeutil import to_local
from ..units.models import Unit, UnitKind

COUNTED_STATUSES = (AssignmentStatus.SUBMITTED.value, AssignmentStatus.APPROVED.value)
OPEN_STATUSES = (
    AssignmentStatus.NOT_STARTED.value,
    AssignmentStatus.DRAFT.value,
    AssignmentStatus.RETURNED.value,
)


def ratio(part, whole):
    return None if not whole else part / whole


@dataclass
class Figures:
    """The counts of one task over a set of units; all additive, the rates derived."""

    expected: int = 0
    submitted: int = 0
    approved: int = 0
    returned: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    reported: int = 0
    target_total: int = 0
    reached: int = 0

    def counts(self) -> tuple:
        return tuple(getattr(self, name) for name in COUNT_FIELDS)

    def add(self, other: "Figures") -> "Figures":
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def submitted_rate(self):
        return ratio(self.submitted, self.expected)

    @property
    def on_time_rate(self):
        return ratio(self.on_time, self.expected)

    @property
    def late_rate(self):
        return ratio(self.late, self.expected)

    @property
    def missing_rate(self):
        return ratio(self.missing, self.expected)

    @property
    def pct_reached(self):
        return ratio(self.reported, self.target_total)

    @property
    def reached_share(self):
        return ratio(self.reached, self.expected)


COUNT_FIELDS = tuple(f.name for f in fields(Figures))


@dataclass
class Row:
    """A unit (a township, a village …) and its figures per task id."""

    unit_id: int
    name: str
    kind: str
    code: str | None = None
    township_id: int | None = None
    township_name: str = ""
    contact_name: str = ""
    phone: str = ""
    path: str = ""
    cells: dict[int, Figures] = field(default_factory=dict)

    def cell(self, task_id) -> Figures:
        return self.cells.get(task_id) or Figures()


@dataclass
class Progress:
    campaign: Campaign
    scope: Unit
    now: datetime
    tasks: list[Task]
    rows: list[Row]  # one per unit directly below the scope (the scope itself when it has its own tasks)
    totals: dict[int, Figures]
    units: list[Row] | None = None  # one per assigned unit, when asked for (detail=True)

    @property
    def deadline_local(self):
        return to_local(self.campaign.deadline_at)

    @property
    def days_left(self) -> int:
        return (self.deadline_local.date() - to_local(self.now).date()).days

    def total(self, task_id) -> Figures:
        return self.totals.get(task_id) or Figures()

    def task_rows(self, task_id) -> list[Row]:
        """The rows that have the task (units of another kind do not show an empty line)."""
        return [row for row in self.rows if task_id in row.cells]


@dataclass
class LateRow:
    assignment_id: int
    unit_id: int
    unit_name: str
    unit_kind: str
    township_id: int | None
    township_name: str
    task_id: int
    task_title: str
    status: str
    contact_name: str
    phone: str
    first_submitted_at: datetime | None = None


def progress_scope(user, campaign) -> Unit:
    """Where a user's view of a campaign starts: their own unit, or the campaign's root when it lies below."""
    root = campaign.root_unit
    return user.unit if user.unit.is_within(root) else root


def campaign_progress(campaign, scope_unit, now=None, detail=False) -> Progress:
    """Progress of ``campaign`` within ``scope_unit``: rows per unit directly below the scope (per
    township for the county, per village for a township), totals, and with ``detail`` a row per
    assigned unit with its township. Three queries (five with ``detail``), whatever the number of units.

    The unit below the scope that an assignment counts for is read from the unit's path: the id that
    follows the scope's own path ("/1/7/42/" under "/1/" counts for 7)."""
    now = now or utcnow()
    tasks = list(
        db.session.scalars(select(Task).where(Task.campaign_id == campaign.id).order_by(Task.position, Task.id))
    )
    task_by_id = {task.id: task for task in tasks}

    cells = _cells(campaign, scope_unit, _child_of_scope(scope_unit), task_by_id)
    children = db.session.execute(
        select(Unit.id, Unit.name, Unit.kind, Unit.code)
        .where(or_(Unit.parent_id == scope_unit.id, Unit.id == scope_unit.id))
    ).all()
    rows = []
    totals: dict[int, Figures] = {}
    for unit_id, name, kind, code in children:
        key = "" if unit_id == scope_unit.id else str(unit_id)
        if key not in cells:
            continue
        rows.append(Row(unit_id, name, kind, code, cells=cells[key]))
        for task_id, figures in cells[key].items():
            totals.setdefault(task_id, Figures()).add(figures)

    return Progress(
        campaign=campaign,
        scope=scope_unit,
        now=now,
        tasks=tasks,
        rows=sorted(rows, key=_unit_order),
        totals=totals,
        units=_unit_rows(campaign, scope_unit, task_by_id) if detail else None,
    )


def late_or_missing_assignments(campaign, scope_unit, task_id=None) -> list[LateRow]:
    """The assignments in scope whose report is not in: never submitted, saved as a draft, or returned
    (status neither submitted nor approved), with the unit's contact and phone and its township —
    found through the parent links (the unit itself, its parent or its grandparent at township level).
    One query."""
    parent = aliased(Unit)
    grandparent = aliased(Unit)
    township_id, township_name = township_columns(parent, grandparent)
    query = (
        select(
            Assignment.id,
            Assignment.status,
            Assignment.first_submitted_at,
            Unit.id.label("unit_id"),
            Unit.name.label("unit_name"),
            Unit.kind.label("unit_kind"),
            Unit.contact_name,
            Unit.phone,
            Task.id.label("task_id"),
            Task.title.label("task_title"),
            township_id,
            township_name,
        )
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(Task, Task.id == Assignment.task_id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .outerjoin(grandparent, grandparent.id == parent.parent_id)
        .where(
            Assignment.campaign_id == campaign.id,
            Assignment.status.in_(OPEN_STATUSES),
            within(scope_unit),
        )
        .order_by(township_name, Unit.path, Task.position, Task.id)
    )
    if task_id is not None:
        query = query.where(Assignment.task_id == task_id)
    return [
        LateRow(
            assignment_id=r.id,
            unit_id=r.unit_id,
            unit_name=r.unit_name,
            unit_kind=r.unit_kind,
            township_id=r.township_id,
            township_name=r.township_name or "",
            task_id=r.task_id,
            task_title=r.task_title,
            status=r.status,
            contact_name=r.contact_name or "",
            phone=r.phone or "",
            first_submitted_at=r.first_submitted_at,
        )
        for r in db.session.execute(query)
    ]


@dataclass
class UnitReport:
    assignment_id: int
    task: Task
    status: str
    done: bool
    quantity: int
    first_submitted_at: datetime | None
    on_time: bool | None  # None: not submitted yet


def unit_reports(campaign, unit) -> list[UnitReport]:
    """One unit's reports in the campaign, task by task, with their figures (one query)."""
    quantity = (
        select(func.coalesce(func.sum(Instalment.quantity), 0))
        .where(Instalment.assignment_id == Assignment.id)
        .scalar_subquery()
    )
    query = (
        select(Assignment, Task, quantity)
        .join(Task, Task.id == Assignment.task_id)
        .where(Assignment.campaign_id == campaign.id, Assignment.unit_id == unit.id)
        .order_by(Task.position, Task.id)
    )
    reports = []
    for assignment, task, total in db.session.execute(query):
        first = assignment.first_submitted_at
        reports.append(
            UnitReport(
                assignment_id=assignment.id,
                task=task,
                status=assignment.status,
                done=assignment.done,
                quantity=int(total or 0),
                first_submitted_at=first,
                on_time=None if first is None else first <= campaign.deadline_at,
            )
        )
    return reports


# --- the aggregate ---------------------------------------------------------------------------

def within(scope_unit):
    """SQL filter on Unit: the scope and every unit below it, as a range on the path index
    ("/1/7/" ≤ path < "/1/70": "0" is the character after "/"), equal to ``path LIKE '/1/7/%'``."""
    return and_(Unit.path >= scope_unit.path, Unit.path < scope_unit.path[:-1] + "0")


def _scoped_assignments(campaign, scope_unit):
    """SQL filter on Assignment: the campaign's, for units in scope (uses the (campaign, unit) index)."""
    return and_(
        Assignment.campaign_id == campaign.id,
        Assignment.unit_id.in_(select(Unit.id).where(within(scope_unit))),
    )


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _aggregate(campaign, scope_unit, key):
    """SELECT key, task, counts … GROUP BY key and task, over the campaign's assignments in scope.

    A report's quantity is a correlated sum over its instalments (one index look-up per assignment),
    not a join to an aggregated derived table: PostgreSQL without fresh statistics (just after a
    launch) plans such a join as a nested loop over the whole aggregate, minutes at city scale."""
    quantity = (
        select(func.coalesce(func.sum(Instalment.quantity), 0))
        .where(Instalment.assignment_id == Assignment.id)
        .correlate(Assignment)
        .scalar_subquery()
    )
    report = (
        select(
            key.label("key"),
            Assignment.id,
            Assignment.task_id,
            Assignment.status,
            Assignment.done,
            Assignment.first_submitted_at,
            Task.measure,
            Task.target,
            quantity.label("quantity"),
        )
        .select_from(Assignment)
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(Task, Task.id == Assignment.task_id)
        .where(_scoped_assignments(campaign, scope_unit))
        .subquery()
    )
    r = report.c
    counted = r.status.in_(COUNTED_STATUSES)
    is_done_task = r.measure == Measure.DONE.value
    done = r.done.is_(True)
    reached = and_(
        counted,
        case(
            (is_done_task, done),
            else_=or_(r.target.is_(None), r.quantity >= r.target),
        ),
    )
    deadline = campaign.deadline_at
    return (
        select(
            r.key,
            r.task_id,
            func.count(r.id).label("expected"),
            _count(counted).label("submitted"),
            _count(r.status == AssignmentStatus.APPROVED.value).label("approved"),
            _count(r.status == AssignmentStatus.RETURNED.value).label("returned"),
            _count(r.first_submitted_at <= deadline).label("on_time"),
            _count(r.first_submitted_at > deadline).label("late"),
            _count(r.first_submitted_at.is_(None)).label("missing"),
            func.sum(
                case(
                    (and_(counted, is_done_task), case((done, 1), else_=0)),
                    (counted, r.quantity),
                    else_=0,
                )
            ).label("reported"),
            _count(reached).label("reached"),
        )
        .group_by(r.key, r.task_id)
    )


def _cells(campaign, scope_unit, key, task_by_id) -> dict:
    """{key: {task_id: Figures}} from one aggregate query."""
    cells: dict = {}
    for record in db.session.execute(_aggregate(campaign, scope_unit, key)):
        cells.setdefault(record.key, {})[record.task_id] = _figures(record, task_by_id[record.task_id])
    return cells


def _child_of_scope(scope_unit):
    """SQL: the id (as text) of the unit directly below the scope on Unit's path; '' for the scope itself."""
    start = len(scope_unit.path) + 1
    rest = func.substr(Unit.path, start)
    find = func.strpos if db.engine.dialect.name == "postgresql" else func.instr
    return case(
        (Unit.id == scope_unit.id, ""),
        else_=func.substr(Unit.path, start, find(rest, "/") - 1),
    )


def _figures(record, task) -> Figures:
    """Figures from an aggregate row (key, task_id, then the counts in _aggregate's order)."""
    expected, submitted, approved, returned, on_time, late, missing, reported, reached = (
        int(value or 0) for value in record[2:]
    )
    if task.measure == Measure.DONE.value:
        target_total = expected
    else:
        target_total = (task.target or 0) * expected
    return Figures(expected, submitted, approved, returned, on_time, late, missing, reported, target_total, reached)


def township_columns(parent, grandparent):
    """SQL columns (township_id, township_name) of ``Unit``: itself, its parent or its grandparent at
    township level (a village, a school under a township or under a village); NULL above that level.
    The query must outer-join ``parent`` on Unit.parent_id and ``grandparent`` on parent.parent_id."""
    township = UnitKind.TOWNSHIP.value
    township_id = case(
        (Unit.kind == township, Unit.id),
        (parent.kind == township, parent.id),
        (grandparent.kind == township, grandparent.id),
        else_=None,
    ).label("township_id")
    township_name = case(
        (Unit.kind == township, Unit.name),
        (parent.kind == township, parent.name),
        (grandparent.kind == township, grandparent.name),
        else_=None,
    ).label("township_name")
    return township_id, township_name


def _unit_rows(campaign, scope_unit, task_by_id) -> list[Row]:
    """A row per assigned unit in scope, with its township, contact and phone (two queries)."""
    cells = _cells(campaign, scope_unit, Assignment.unit_id, task_by_id)
    parent = aliased(Unit)
    grandparent = aliased(Unit)
    township_id, township_name = township_columns(parent, grandparent)
    units = db.session.execute(
        select(Unit.id, Unit.name, Unit.kind, Unit.code, Unit.contact_name, Unit.phone, Unit.path,
               township_id, township_name)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .outerjoin(grandparent, grandparent.id == parent.parent_id)
        .where(within(scope_unit), Unit.id.in_(
            select(Assignment.unit_id).where(Assignment.campaign_id == campaign.id)
        ))
    ).all()
    rows = [
        Row(
            unit.id, unit.name, unit.kind, unit.code,
            township_id=unit.township_id,
            township_name=unit.township_name or "",
            contact_name=unit.contact_name or "",
            phone=unit.phone or "",
            path=unit.path,
            cells=cells[unit.id],
        )
        for unit in units
        if unit.id in cells
    ]
    return sorted(rows, key=lambda row: (row.township_name, row.path))


KIND_ORDER = {kind: index for index, kind in enumerate(UnitKind.values())}
_natural = natsort_keygen()


def _unit_order(row: Row):
    """By kind, then division code, then name, in natural order ("1-1镇" before "1-10镇")."""
    return (KIND_ORDER.get(row.kind, 99), row.code is None, _natural(row.code or ""), _natural(row.name))
