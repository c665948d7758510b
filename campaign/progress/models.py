"""The outbox of reminders: every message queued, sent, failed and retried is a row."""
import enum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class Channel(str, enum.Enum):
    OUTBOX = "outbox"  # kept here and written to the log: the default, needs no server
    EMAIL = "email"
    SMS = "sms"


class MessageStatus(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # retried until the attempts run out


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique per reminder occasion and recipient, so an hourly cron never sends anything twice.
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(120), default="")  # e-mail address or phone number
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=MessageStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)

    campaign = relationship("Campaign")
    unit = relationship("Unit")
    user = relationship("User", foreign_keys=[user_id])


class ProgressCounter(db.Model):
    """The additive figures of one task over one unit's whole subtree (the unit and every unit below it),
    kept by ``progress.counters`` in the same transaction as every report change; ``campaign_progress``
    computes the same figures from the assignments and stays the reference."""

    __tablename__ = "progress_counter"
    __table_args__ = (Index("ix_progress_counter_campaign_unit", "campaign_id", "unit_id"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    expected: Mapped[int] = mapped_column(default=0)
    submitted: Mapped[int] = mapped_column(default=0)
    approved: Mapped[int] = mapped_column(default=0)
    returned: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
    late: Mapped[int] = mapped_column(default=0)
    missing: Mapped[int] = mapped_column(default=0)
    reported: Mapped[int] = mapped_column(BigInteger, default=0)
    reached: Mapped[int] = mapped_column(default=0)
