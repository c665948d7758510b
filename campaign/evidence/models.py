"""Stored files (one row per distinct content) and the evidence attached to reports."""
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class FileKind(str, enum.Enum):
    IMAGE = "image"
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"


class StoredFile(db.Model):
    """A file on disk under UPLOAD_DIR, named by its SHA-256: the same photo twice is stored once."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    extension: Mapped[str] = mapped_column(String(8))
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Evidence(db.Model):
    """A file attached to an assignment's report; removal is recorded, never a hard delete."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"), index=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), index=True)
    # The client's file name, cleaned, for display only: never used as a path.
    original_name: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    # From the photo's EXIF, when present: evidence of where and when a sign was put up.
    taken_at: Mapped[object | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    removed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    stored_file = relationship("StoredFile", lazy="joined")
    assignment = relationship("Assignment")
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])
