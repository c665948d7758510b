"""Everything the county workbook and the print page show, gathered in a fixed number of queries.

The figures come from ``progress.services.campaign_progress``, the same function as the dashboard's,
so the workbook, the print page and the dashboard agree.
"""
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from natsort import natsort_keygen
from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import aliased

from ..campaigns.models import Assignment, AssignmentStatus, Instalment, Measure, Task
from ..database import utcnow
from ..extensions import db
from ..i18n import ASSIGNMENT_STATUS_LABELS, MEASURE_UNIT_LABELS, UNIT_KIND_LABELS
from ..progress.services import (
    LateRow,
    Progress,
    campaign_progress,
    late_or_missing_assignments,
    township_columns,
    within,
)
from ..printing import Signature, chinese_date
from ..timeutil import format_local, to_local
from ..units.models import Unit, UnitKind
from ..water.models import Hazard, HazardStatus, WaterPoint, WaterPointStatus
from .models import SummaryFigure, TownshipSummary

natural = natsort_keygen()
CITY_SCALE_KINDS = frozenset({UnitKind.CITY.value, UnitKind.PROVINCE.value})
# A township's corrections reach the county once it has submitted its summary.
SUBMITTED_SUMMARY = frozenset({AssignmentStatus.SUBMITTED.value, AssignmentStatus.APPROVED.value})


@dataclass
class Township:
    id: int
    name: str
    code: str | None
    county: str  # the parent's name: shown at city scale

    @property
    def order(self):
        return (self.code is None, natural(self.code or ""), natural(self.name))


@dataclass
class TownshipFigure:
    compiled: int
    corrected: int | None = None
    note: str = ""

    @property
    def adopted(self) -> int:
        return self.corrected if self.corrected is not None else self.compiled


@dataclass
class TownshipFigures:
    """A township's own figures: compiled from its villages' approved reports, and its corrections."""

    township: Township
    status: str  # label
    figures: dict[int, TownshipFigure] = field(default_factory=dict)


@dataclass
class Narrative:
    township: str
    county: str
    status: str  # label
    work_done: str
    highlights: str
    problems: str
    next_steps: str
    submitted_at: str  # local, "" when not submitted


@dataclass
class WaterFigures:
    township: str
    county: str = ""
    order: tuple = ()
    points: int = 0
    key_points: int = 0
    without_sign: int = 0
    open_hazards: int = 0
    overdue_hazards: int = 0


@dataclass
class WorkbookData:
    progress: Progress
    late: list[LateRow]
    narratives: list[Narrative]
    water: list[WaterFigures]
    compiled_at: datetime
    compiled_by: str
    status_labels: dict[str, str]
    kind_labels: dict[str, str]
    measure_unit_labels: dict[str, str]
    townships: dict[int, Township] = field(default_factory=dict)
    township_figures: list[TownshipFigures] = field(default_factory=list)

    @property
    def campaign(self):
        return self.progress.campaign

    @property
    def scope(self):
        return self.progress.scope

    @property
    def city_scale(self) -> bool:
        """A city (or province) scope: the sheets add a county column."""
        return self.scope.kind in CITY_SCALE_KINDS

    @property
    def signature(self) -> Signature:
        return Signature(unit=self.scope.name, filled_by=self.compiled_by, phone=self.scope.phone or "",
                         filled_on=chinese_date(to_local(self.compiled_at).date()))

    def title(self, form: str) -> str:
        """"2026年森林防火宣传月活动汇总表（玲珑街道）": the campaign, the form and the scope."""
        return _("%(campaign)s %(form)s (%(scope)s)", campaign=self.campaign.title, form=form, scope=self.scope.name)

    def township_of(self, township_id) -> Township | None:
        return self.townships.get(township_id)

    def detail_rows(self):
        """The detail rows by township code, then unit code, in natural order ("1-1镇" before "1-10镇")."""
        def order(row):
            township = self.townships.get(row.township_id)
            return (township.order if township else (True, natural(row.township_name), ()),
                    row.code is None, natural(row.code or ""), natural(row.name))
        return sorted(self.progress.units or [], key=order)

    @property
    def compiled_at_local(self) -> str:
        return format_local(self.compiled_at)

    @property
    def deadline_local(self) -> str:
        return format_local(self.campaign.deadline_at)


def gather(campaign, scope_unit, compiled_by: str, now=None, full=True) -> WorkbookData:
    """The workbook's data; ``full=False`` leaves out the per-unit detail, the narratives and the water
    figures (the print page shows the summary and the late list only)."""
    now = now or utcnow()
    townships = townships_in(scope_unit) if full else {}
    return WorkbookData(
        progress=campaign_progress(campaign, scope_unit, now=now, detail=full),
        late=late_or_missing_assignments(campaign, scope_unit),
        narratives=township_narratives(campaign, scope_unit, townships) if full else [],
        water=water_figures(scope_unit, townships, now) if full else [],
        compiled_at=now,
        compiled_by=compiled_by,
        status_labels={key: str(label) for key, label in ASSIGNMENT_STATUS_LABELS.items()},
        kind_labels={key: str(label) for key, label in UNIT_KIND_LABELS.items()},
        measure_unit_labels={key: str(label) for key, label in MEASURE_UNIT_LABELS.items()},
        townships=townships,
        township_figures=township_figures(campaign, scope_unit, townships) if full else [],
    )


def townships_in(scope_unit) -> dict[int, Township]:
    """Every township in scope with its county (its parent), in code order. One query."""
    parent = aliased(Unit)
    rows = db.session.execute(
        select(Unit.id, Unit.name, Unit.code, parent.name)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(Unit.kind == UnitKind.TOWNSHIP.value, within(scope_unit))
    ).all()
    townships = [Township(id, name, code, county or "") for id, name, code, county in rows]
    return {township.id: township for township in sorted(townships, key=lambda item: item.order)}


def compiled_by_township(campaign, scope_unit) -> dict[tuple[int, int], int]:
    """{(township id, task id): figure} from the APPROVED reports, by the township summary's rule
    (township.compiled_figures): instalments summed, or approved reports marked done. One query."""
    parent = aliased(Unit)
    grandparent = aliased(Unit)
    township_id, _name = township_columns(parent, grandparent)
    is_done_task = Task.measure == Measure.DONE.value
    query = (
        select(
            township_id,
            Assignment.task_id,
            is_done_task.label("is_done_task"),
            func.count(distinct(case((Assignment.done.is_(True), Assignment.id)))).label("done"),
            func.coalesce(func.sum(Instalment.quantity), 0).label("quantity"),
        )
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(Task, Task.id == Assignment.task_id)
        .outerjoin(Instalment, Instalment.assignment_id == Assignment.id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .outerjoin(grandparent, grandparent.id == parent.parent_id)
        .where(Assignment.campaign_id == campaign.id, Assignment.status == AssignmentStatus.APPROVED.value,
               within(scope_unit))
        .group_by(township_id, Assignment.task_id, is_done_task)
    )
    return {
        (row.township_id, row.task_id): int(row.done if row.is_done_task else row.quantity)
        for row in db.session.execute(query)
        if row.township_id is not None
    }


def township_figures(campaign, scope_unit, townships) -> list[TownshipFigures]:
    """Per township and task: the compiled figure (as submitted once the township has submitted its
    summary, else afresh) and the township's correction with its note. Three queries."""
    summaries = {
        summary.unit_id: summary
        for summary in db.session.scalars(
            select(TownshipSummary).where(
                TownshipSummary.campaign_id == campaign.id,
                TownshipSummary.unit_id.in_(list(townships) or [0]),
            )
        )
    }
    stored = {}
    if summaries:
        for figure in db.session.scalars(
            select(SummaryFigure).where(SummaryFigure.summary_id.in_([s.id for s in summaries.values()]))
        ):
            stored[(figure.summary_id, figure.task_id)] = figure
    fresh = compiled_by_township(campaign, scope_unit)
    labels = ASSIGNMENT_STATUS_LABELS
    result = []
    for township in townships.values():
        summary = summaries.get(township.id)
        status = summary.status if summary else AssignmentStatus.NOT_STARTED.value
        line = TownshipFigures(township, str(labels.get(status, status)))
        for task in campaign.tasks:
            figure = stored.get((summary.id, task.id)) if summary else None
            if summary is not None and status in SUBMITTED_SUMMARY and figure is not None:
                line.figures[task.id] = TownshipFigure(figure.compiled_value, figure.corrected_value,
                                                       figure.correction_note or "")
            else:
                line.figures[task.id] = TownshipFigure(fresh.get((township.id, task.id), 0))
        result.append(line)
    return result


def township_narratives(campaign, scope_unit, townships) -> list[Narrative]:
    """Every township in scope with its summary's narrative (empty fields when it has written none). One query."""
    summaries = {
        summary.unit_id: summary
        for summary in db.session.scalars(
            select(TownshipSummary).where(
                TownshipSummary.campaign_id == campaign.id,
                TownshipSummary.unit_id.in_(list(townships) or [0]),
            )
        )
    }
    labels = ASSIGNMENT_STATUS_LABELS
    narratives = []
    for township in townships.values():
        summary = summaries.get(township.id)
        if summary is None:
            narratives.append(Narrative(township.name, township.county, str(labels["not_started"]), "", "", "", "", ""))
            continue
        narratives.append(
            Narrative(
                township=township.name,
                county=township.county,
                status=str(labels.get(summary.status, summary.status)),
                work_done=summary.work_done or "",
                highlights=summary.highlights or "",
                problems=summary.problems or "",
                next_steps=summary.next_steps or "",
                submitted_at=format_local(summary.first_submitted_at),
            )
        )
    return narratives


def water_figures(scope_unit, townships, now=None) -> list[WaterFigures]:
    """Water points and hazards per township, for the townships that have water points. Two queries.

    Counted: active water points; key (重点水域); without a permanent sign; open hazards (not closed);
    overdue hazards (not closed and the rectify-by date before today, local)."""
    today = to_local(now or utcnow()).date()
    parent = aliased(Unit)
    grandparent = aliased(Unit)
    township_id, township_name = township_columns(parent, grandparent)

    def scoped(query):
        return (
            query.join(Unit, Unit.id == WaterPoint.unit_id)
            .outerjoin(parent, parent.id == Unit.parent_id)
            .outerjoin(grandparent, grandparent.id == parent.parent_id)
            .where(within(scope_unit), WaterPoint.status == WaterPointStatus.ACTIVE.value)
            .group_by(township_id, township_name)
        )

    points = db.session.execute(
        scoped(
            select(
                township_id,
                township_name,
                func.count(WaterPoint.id),
                func.sum(case((WaterPoint.is_key.is_(True), 1), else_=0)),
                func.sum(case((WaterPoint.has_permanent_sign.is_(True), 0), else_=1)),
            ).select_from(WaterPoint)
        )
    ).all()
    if not points:
        return []
    not_closed = Hazard.status != HazardStatus.CLOSED.value
    hazards = {
        row[0]: row
        for row in db.session.execute(
            scoped(
                select(
                    township_id,
                    township_name,
                    func.sum(case((not_closed, 1), else_=0)),
                    func.sum(case((and_(not_closed, Hazard.rectify_by < today), 1), else_=0)),
                )
                .select_from(Hazard)
                .join(WaterPoint, WaterPoint.id == Hazard.water_point_id)
            )
        )
    }
    figures = []
    for tid, name, count, key_count, without_sign in points:
        hazard = hazards.get(tid)
        township = townships.get(tid)
        figures.append(
            WaterFigures(
                township=name or "",
                county=township.county if township else "",
                order=township.order if township else (True, natural(name or ""), ()),
                points=int(count or 0),
                key_points=int(key_count or 0),
                without_sign=int(without_sign or 0),
                open_hazards=int(hazard[2] or 0) if hazard else 0,
                overdue_hazards=int(hazard[3] or 0) if hazard else 0,
            )
        )
    return sorted(figures, key=lambda item: item.order)
