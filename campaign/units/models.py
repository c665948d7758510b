"""The unit tree (单位): county → township → village, with schools and agencies hung under it."""
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..database import UTCDateTime, utcnow
from ..extensions import db


class UnitKind(str, enum.Enum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    COMMUNITY = "community"
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    AGENCY = "agency"

    @classmethod
    def values(cls) -> list[str]:
        return [kind.value for kind in cls]


# Kinds whose units count people by households; the others count students.
HOUSEHOLD_KINDS = {UnitKind.VILLAGE.value, UnitKind.COMMUNITY.value}
STUDENT_KINDS = {UnitKind.SCHOOL.value, UnitKind.KINDERGARTEN.value}


class Unit(db.Model):
    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        CheckConstraint("households IS NULL OR households >= 0", name="households_not_negative"),
        CheckConstraint("students IS NULL OR students >= 0", name="students_not_negative"),
        Index("ix_unit_path", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    # Finer grouping inside a kind, e.g. agency "carrier" or "weather": tasks can target it.
    category: Mapped[str | None] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # Materialised path of ids, "/1/7/42/": a subtree is one indexed prefix match.
    path: Mapped[str] = mapped_column(String(255), default="")
    depth: Mapped[int] = mapped_column(default=0)
    contact_name: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    households: Mapped[int | None]
    students: Mapped[int | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.id")

    @validates("kind")
    def _check_kind(self, key, value):
        if value not in UnitKind.values():
            raise ValueError(f"unknown unit kind {value!r}")
        return value

    @validates("code")
    def _check_code(self, key, value):
        if value is not None and not (len(value) == 12 and value.isdigit()):
            raise ValueError(f"a division code has 12 digits, not {value!r}")
        return value or None

    @validates("name")
    def _check_name(self, key, value):
        if not value or not value.strip():
            raise ValueError("a unit needs a name")
        return value.strip()

    def place_under(self, parent: "Unit | None"):
        """Set the parent and recompute this unit's own path (the id must be known)."""
        self.parent = parent
        self.parent_id = parent.id if parent else None
        self.path = f"{parent.path if parent else '/'}{self.id}/"
        self.depth = (parent.depth + 1) if parent else 0

    def is_within(self, other: "Unit") -> bool:
        """True when self is other or lies below it."""
        return self.path.startswith(other.path)

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def __repr__(self):
        return f"<Unit {self.id} {self.code or '-'} {self.name}>"
