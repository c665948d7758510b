"""Everything the county workbook and the print page show, gathered in a fixed number of queries.

The figures come from ``progress.services.campaign_progress``, the same function as the dashboard's,
so the workbook, the print page and the dashboard agree.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

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
from ..timeutil import format_local, to_local
from ..units.models import Unit, UnitKind
from ..water.models import Hazard, HazardStatus, WaterPoint, WaterPointStatus
from .models import TownshipSummary


@dataclass
class Narrative:
    township: str
    status: str  # label
    work_done: str
    highlights: str
    problems: str
    next_steps: str
    submitted_at: str  # local, "" when not submitted


@dataclass
class WaterFigures:
    township: str
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

    @property
    def campaign(self):
        return self.progress.campaign

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
    return WorkbookData(
        progress=campaign_progress(campaign, scope_unit, now=now, detail=full),
        late=late_or_missing_assignments(campaign, scope_unit),
        narratives=township_narratives(campaign, scope_unit) if full else [],
        water=water_figures(scope_unit, now) if full else [],
        compiled_at=now,
        compiled_by=compiled_by,
        status_labels={key: str(label) for key, label in ASSIGNMENT_STATUS_LABELS.items()},
        kind_labels={key: str(label) for key, label in UNIT_KIND_LABELS.items()},
        measure_unit_labels={key: str(label) for key, label in MEASURE_UNIT_LABELS.items()},
    )


def township_narratives(campaign, scope_unit) -> list[Narrative]:
    """Every township in scope with its summary's narrative (empty fields when it has written none). One query."""
    query = (
        select(Unit.name, TownshipSummary)
        .outerjoin(
            TownshipSummary,
            and_(TownshipSummary.unit_id == Unit.id, TownshipSummary.campaign_id == campaign.id),
        )
        .where(Unit.kind == UnitKind.TOWNSHIP.value, within(scope_unit))
        .order_by(Unit.code, Unit.name)
    )
    labels = ASSIGNMENT_STATUS_LABELS
    narratives = []
    for name, summary in db.session.execute(query):
        if summary is None:
            narratives.append(Narrative(name, str(labels["not_started"]), "", "", "", "", ""))
            continue
        narratives.append(
            Narrative(
                township=name,
                status=str(labels.get(summary.status, summary.status)),
                work_done=summary.work_done or "",
                highlights=summary.highlights or "",
                problems=summary.problems or "",
                next_steps=summary.next_steps or "",
                submitted_at=format_local(summary.first_submitted_at),
            )
        )
    return narratives


def water_figures(scope_unit, now=None) -> list[WaterFigures]:
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
        figures.append(
            WaterFigures(
                township=name or "",
                points=int(count or 0),
                key_points=int(key_count or 0),
                without_sign=int(without_sign or 0),
                open_hazards=int(hazard[2] or 0) if hazard else 0,
                overdue_hazards=int(hazard[3] or 0) if hazard else 0,
            )
        )
    return sorted(figures, key=lambda item: item.township)
