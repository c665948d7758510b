"""A township's summary of a campaign: its narrative and its figures, reviewed like a report."""
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..campaigns.models import AssignmentStatus, ReviewedSubmission
from ..database import UTCDateTime, utcnow
from ..extensions import db


class TownshipSummary(ReviewedSubmission, db.Model):
    __tablename__ = "township_summary"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    work_done: Mapped[str] = mapped_column(Text, default="")
    highlights: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    # The same states and steps as a report: not started → draft → submitted → returned / approved.
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.NOT_STARTED.value)
    submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    first_submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    return_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    campaign = relationship("Campaign")
    unit = relationship("Unit")
    figures: Mapped[list["SummaryFigure"]] = relationship(
        back_populates="summary", cascade="all, delete-orphan", order_by="SummaryFigure.task_id"
    )
    __mapper_args__ = {"version_id_col": version}



class SummaryFigure(db.Model):
    """A task's figure for the township: compiled from its villages' approved reports, and the
    township's correction with the reason, when it corrects it."""

    __tablename__ = "summary_figure"
    __table_args__ = (UniqueConstraint("summary_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    summary_id: Mapped[int] = mapped_column(ForeignKey("township_summary.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    compiled_value: Mapped[int] = mapped_column(default=0)
    corrected_value: Mapped[int | None]
    correction_note: Mapped[str] = mapped_column(Text, default="")

    summary: Mapped[TownshipSummary] = relationship(back_populates="figures")
    task = relationship("Task")

    @property
    def value(self) -> int:
        return self.corrected_value if self.corrected_value is not None else self.compiled_value
