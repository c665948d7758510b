"""Campaigns, their tasks, and one assignment per task per participating unit."""
import enum
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..units.models import UnitKind


class InvalidTransition(Exception):
    """A status change the workflow does not allow."""

    def __init__(self, current, wanted):
        super().__init__(f"cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


class CampaignStatus(str, enum.Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


CAMPAIGN_TRANSITIONS = {
    CampaignStatus.DRAFT.value: {CampaignStatus.ACTIVE.value},
    CampaignStatus.ACTIVE.value: {CampaignStatus.CLOSED.value},
    CampaignStatus.CLOSED.value: set(),
}


class Measure(str, enum.Enum):
    DONE = "done"  # yes / no
    QUANTITY = "quantity"  # a figure against a target


class MeasureUnit(str, enum.Enum):
    """Units of measure; their Chinese names (块, 条, 份, 次, 人 …) live in the catalogue."""

    BOARD = "board"  # 块
    SLOGAN = "slogan"  # 条
    COPY = "copy"  # 份
    TIME = "time"  # 次
    PERSON = "person"  # 人
    LESSON = "lesson"  # 节
    MESSAGE = "message"  # 条 (SMS)
    HOUSEHOLD = "household"  # 户
    PLACE = "place"  # 处


class AssignmentStatus(str, enum.Enum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"


ASSIGNMENT_TRANSITIONS = {
    AssignmentStatus.NOT_STARTED.value: {AssignmentStatus.DRAFT.value, AssignmentStatus.SUBMITTED.value},
    AssignmentStatus.DRAFT.value: {AssignmentStatus.DRAFT.value, AssignmentStatus.SUBMITTED.value},
    AssignmentStatus.SUBMITTED.value: {AssignmentStatus.RETURNED.value, AssignmentStatus.APPROVED.value},
    AssignmentStatus.RETURNED.value: {AssignmentStatus.DRAFT.value, AssignmentStatus.SUBMITTED.value},
    AssignmentStatus.APPROVED.value: {AssignmentStatus.RETURNED.value},
}


class ReviewedSubmission:
    """The workflow a report and a township summary share: not started → draft → submitted →
    returned / approved. Needs ``status``, ``submitted_at`` and ``first_submitted_at`` columns."""

    def move_to(self, status: str):
        if status not in ASSIGNMENT_TRANSITIONS[self.status]:
            raise InvalidTransition(self.status, status)
        self.status = status
        if status == AssignmentStatus.SUBMITTED.value:
            self.submitted_at = utcnow()
            if self.first_submitted_at is None:
                self.first_submitted_at = self.submitted_at


class Campaign(db.Model):
    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("start_date <= end_date", name="window_in_order"),
        Index("ix_campaign_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    playbook_key: Mapped[str | None] = mapped_column(String(60))
    start_date: Mapped[date]
    end_date: Mapped[date]
    deadline_at: Mapped[object] = mapped_column(UTCDateTime)
    root_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    launched_at: Mapped[object | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # Automatic reminders, in days relative to the deadline: "-3,-1,1" = 3 and 1 days before, 1 after.
    reminder_offsets: Mapped[str] = mapped_column(String(60), default="-3,-1,1", server_default="-3,-1,1")

    root_unit = relationship("Unit")
    created_by = relationship("User")
    tasks: Mapped[list["Task"]] = relationship(
        back_populates="campaign", order_by="Task.position", cascade="all, delete-orphan"
    )

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignStatus.DRAFT.value

    @property
    def phase(self) -> str:
        """What a reader should be told: the status, except "upcoming" for a launched campaign
        whose window has not opened yet (launched in September for October)."""
        from ..timeutil import local_today

        if self.status == CampaignStatus.ACTIVE.value and local_today() < self.start_date:
            return "upcoming"
        return self.status

    def move_to(self, status: str):
        if status not in CAMPAIGN_TRANSITIONS[self.status]:
            raise InvalidTransition(self.status, status)
        self.status = status
        if status == CampaignStatus.ACTIVE.value:
            self.launched_at = utcnow()
        elif status == CampaignStatus.CLOSED.value:
            self.closed_at = utcnow()


class Task(db.Model):
    __tablename__ = "task"
    __table_args__ = (
        CheckConstraint("target IS NULL OR target >= 0", name="target_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Comma-separated unit kinds the task is assigned to, e.g. "village,community".
    unit_kinds: Mapped[str] = mapped_column(String(200))
    unit_category: Mapped[str | None] = mapped_column(String(40))
    measure: Mapped[str] = mapped_column(String(16), default=Measure.DONE.value)
    target: Mapped[int | None]
    measure_unit: Mapped[str | None] = mapped_column(String(16))
    requires_photo: Mapped[bool] = mapped_column(default=False)
    requires_document: Mapped[bool] = mapped_column(default=False)
    due_date: Mapped[date | None]

    campaign: Mapped[Campaign] = relationship(back_populates="tasks")

    @property
    def kinds(self) -> list[str]:
        return [kind for kind in self.unit_kinds.split(",") if kind]

    @kinds.setter
    def kinds(self, values):
        unknown = [kind for kind in values if kind not in UnitKind.values()]
        if unknown or not values:
            raise ValueError(f"a task needs known unit kinds, got {list(values)!r}")
        self.unit_kinds = ",".join(dict.fromkeys(values))

    @validates("measure")
    def _check_measure(self, key, value):
        if value not in {m.value for m in Measure}:
            raise ValueError(f"unknown measure {value!r}")
        return value

    @validates("measure_unit")
    def _check_measure_unit(self, key, value):
        if value and value not in {u.value for u in MeasureUnit}:
            raise ValueError(f"unknown unit of measure {value!r}")
        return value or None

    @property
    def is_quantity(self) -> bool:
        return self.measure == Measure.QUANTITY.value


class Assignment(ReviewedSubmission, db.Model):
    """A task for one unit, and that unit's report on it."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("task_id", "unit_id"),
        Index("ix_assignment_campaign_unit", "campaign_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.NOT_STARTED.value)
    done: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock: a save names the version it edited; a stale save is refused. The ORM also
    # checks it on every UPDATE (version_id_col), so a race between load and write is caught too.
    version: Mapped[int] = mapped_column(default=1)
    submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # The first submission decides on time or late; a resubmission after a return does not.
    first_submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    return_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign = relationship("Campaign")
    task = relationship("Task")
    unit = relationship("Unit")
    instalments: Mapped[list["Instalment"]] = relationship(
        back_populates="assignment", order_by="Instalment.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


    @property
    def quantity_total(self) -> int:
        return sum(instalment.quantity for instalment in self.instalments)


class Instalment(db.Model):
    """One reported quantity; a report's figure is the sum of its instalments, so two reporters
    adding at the same moment both count (inserts never overwrite each other)."""

    __tablename__ = "instalment"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    reported_on: Mapped[date]
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="instalments")
