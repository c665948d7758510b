"""Water points registered by villages, patrols of them, and hazards found and rectified."""
import enum
import secrets
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..campaigns.models import InvalidTransition
from ..database import UTCDateTime, utcnow
from ..extensions import db


class WaterKind(str, enum.Enum):
    RIVER = "river"
    POND = "pond"
    RESERVOIR = "reservoir"
    CANAL = "canal"
    DITCH = "ditch"
    CONSTRUCTION_PIT = "construction_pit"
    OTHER = "other"


class DangerLevel(str, enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class WaterPointStatus(str, enum.Enum):
    ACTIVE = "active"
    ARCHIVED = "archived"  # filled in, drained, or otherwise gone


class HazardStatus(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


HAZARD_TRANSITIONS = {
    HazardStatus.OPEN.value: {HazardStatus.IN_PROGRESS.value, HazardStatus.CLOSED.value},
    HazardStatus.IN_PROGRESS.value: {HazardStatus.CLOSED.value},
    HazardStatus.CLOSED.value: set(),
}


# Letters and digits nobody misreads (no 0/O, 1/I/L), and a letter first so no spreadsheet takes it for a number.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_point_code() -> str:
    """A water point's stable key across exports and imports, e.g. W7K3M9Q2X."""
    return "W" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


class WaterPoint(db.Model):
    __tablename__ = "water_point"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_in_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_in_range"),
        CheckConstraint("sign_count >= 0 AND life_buoys >= 0 AND poles >= 0 AND ropes >= 0",
                        name="counts_not_negative"),
        Index("ix_water_point_unit_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown in exports and matched on import, so a file re-imports without duplicating a point.
    code: Mapped[str] = mapped_column(String(16), unique=True, default=new_point_code)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    latitude: Mapped[float]  # WGS-84, always; map shifts (GCJ-02) are for display only
    longitude: Mapped[float]
    is_key: Mapped[bool] = mapped_column(default=False)  # 重点水域
    danger_level: Mapped[str] = mapped_column(String(10), default=DangerLevel.LOW.value)
    has_permanent_sign: Mapped[bool] = mapped_column(default=False)
    sign_count: Mapped[int] = mapped_column(default=0)
    life_buoys: Mapped[int] = mapped_column(default=0)
    poles: Mapped[int] = mapped_column(default=0)
    ropes: Mapped[int] = mapped_column(default=0)
    has_fence: Mapped[bool] = mapped_column(default=False)
    responsible_name: Mapped[str] = mapped_column(String(60), default="")  # 安全信息员
    responsible_phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=WaterPointStatus.ACTIVE.value)
    # Set when the position lies far outside the village's county: a second look is needed.
    needs_position_check: Mapped[bool] = mapped_column(default=False)
    # Days between patrols of a key water point; None: the configured default (WATER_PATROL_INTERVAL_DAYS).
    patrol_interval_days: Mapped[int | None]
    # Kept by the patrol service (the newest patrol's time) so "overdue" filters 20,000 points by index.
    last_patrol_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    unit = relationship("Unit")
    __mapper_args__ = {"version_id_col": version}

    @validates("kind")
    def _check_kind(self, key, value):
        if value not in {kind.value for kind in WaterKind}:
            raise ValueError(f"unknown water kind {value!r}")
        return value

    @validates("danger_level")
    def _check_danger(self, key, value):
        if value not in {level.value for level in DangerLevel}:
            raise ValueError(f"unknown danger level {value!r}")
        return value

    @validates("latitude", "longitude")
    def _check_coordinate(self, key, value):
        limit = 90 if key == "latitude" else 180
        if value is None or value != value or not -limit <= value <= limit:
            raise ValueError(f"{key} out of range: {value!r}")
        return float(value)


class Patrol(db.Model):
    """水域巡查记录: one visit to a water point."""

    __tablename__ = "patrol"
    __table_args__ = (Index("ix_patrol_point_at", "water_point_id", "patrolled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    water_point_id: Mapped[int] = mapped_column(ForeignKey("water_point.id", ondelete="CASCADE"))
    patrolled_at: Mapped[object] = mapped_column(UTCDateTime)
    patroller_name: Mapped[str] = mapped_column(String(60))
    sign_intact: Mapped[bool] = mapped_column(default=True)
    rescue_equipment_present: Mapped[bool] = mapped_column(default=True)
    people_swimming: Mapped[int] = mapped_column(default=0)
    findings: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    water_point = relationship("WaterPoint")


class Hazard(db.Model):
    """隐患: found at a water point, rectified by a date, closed with a note and evidence."""

    __tablename__ = "hazard"
    __table_args__ = (
        Index("ix_hazard_point_status", "water_point_id", "status"),
        Index("ix_hazard_status_rectify_by", "status", "rectify_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    water_point_id: Mapped[int] = mapped_column(ForeignKey("water_point.id", ondelete="CASCADE"))
    found_on: Mapped[date]
    description: Mapped[str] = mapped_column(Text)
    rectify_by: Mapped[date]
    owner_name: Mapped[str] = mapped_column(String(60))  # who must fix it
    status: Mapped[str] = mapped_column(String(16), default=HazardStatus.OPEN.value)
    closing_note: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    water_point = relationship("WaterPoint")

    def move_to(self, status: str):
        if status not in HAZARD_TRANSITIONS[self.status]:
            raise InvalidTransition(self.status, status)
        self.status = status
        if status == HazardStatus.CLOSED.value:
            self.closed_at = utcnow()


class WaterPhoto(db.Model):
    """A stored file attached to a water point, a patrol, or a hazard (found or closing evidence)."""

    __tablename__ = "water_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), index=True)
    water_point_id: Mapped[int] = mapped_column(ForeignKey("water_point.id", ondelete="CASCADE"), index=True)
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"), index=True)
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazard.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # point, patrol, hazard, closing
    original_name: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    stored_file = relationship("StoredFile", lazy="joined")
