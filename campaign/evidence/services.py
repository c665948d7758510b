"""Evidence files: checked by content, stored once by SHA-256 under UPLOAD_DIR, served by scope.

The database row and the file on disk cannot share one transaction. Files are written first,
atomically (temp file + os.replace); if the database transaction then fails the file stays as an
orphan under its hash, which is harmless: the next upload of the same content reuses it.
"""
import hashlib
import io
import os
import struct
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import abort, current_app, send_file
from babel.numbers import format_compact_decimal
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record, snapshot
from ..campaigns.models import Assignment
from ..database import utcnow
from ..extensions import db
from ..permissions import units_within
from ..private_files import private_dirs
from ..units.models import Unit
from .images import CheckedImage, make_thumbnail, open_image, read_exif
from .messages import (
    FALLBACK_MESSAGE,
    KIND_LABELS,
    KIND_SEPARATOR,
    NAMED_MESSAGE,
    UPLOAD_ERROR_MESSAGES,
    UploadError,
)
from .models import Evidence, FileKind, StoredFile

ALL_KINDS = ("image", "pdf", "docx", "xlsx")
DEFAULT_MAX_FILE_MB = 10
DISPLAY_NAME_MAX = 120
DOCUMENT_TYPES = {
    "pdf": ("pdf", "application/pdf"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
ZIP_SIGNATURE = b"PK\x03\x04"
PDF_SIGNATURE = b"%PDF-"
UNSAFE_NAME_CHARS = set('<>:"/\\|?*')

EVIDENCE_FIELDS = (
    "assignment_id", "stored_file_id", "original_name", "uploaded_by_id",
    "taken_at", "latitude", "longitude", "removed_at", "removed_by_id",
)


def upload_error_message(error) -> str:
    code = getattr(error, "code", None)
    details = dict(getattr(error, "details", {}) or {})
    template = UPLOAD_ERROR_MESSAGES.get(code, FALLBACK_MESSAGE)
    if code == "image_too_large":
        # "40 million" in English, "4000万" in Chinese.
        details["limit"] = format_compact_decimal(details.get("limit_pixels", 0), format_type="long",
                                                  locale=get_locale())
        if "pixels" in details:
            details["pixels"] = format_compact_decimal(details["pixels"], format_type="long", locale=get_locale())
        else:
            template = UPLOAD_ERROR_MESSAGES["image_too_large_size_unknown"]
    if code == "bad_type":
        kinds = details.get("allowed") or ALL_KINDS
        details["allowed"] = str(KIND_SEPARATOR).join(str(KIND_LABELS.get(kind, kind)) for kind in kinds)
    try:
        message = str(template) % details
    except (KeyError, TypeError, ValueError):
        message = str(FALLBACK_MESSAGE)
    name = details.get("name")
    if name:
        return str(NAMED_MESSAGE) % {"name": name, "message": message}
    return message


@dataclass
class StoredUpload:
    stored_file: StoredFile
    original_name: str
    taken_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class _Detected:
    kind: str
    extension: str
    content_type: str
    image: None = None


def max_file_bytes() -> int:
    return int(current_app.config.get("MAX_FILE_MB", DEFAULT_MAX_FILE_MB)) * 1024 * 1024


def store_upload(file_storage, allowed_kinds=ALL_KINDS) -> StoredUpload:
    """Check and store a werkzeug FileStorage; never reads more than the limit plus one byte."""
    if file_storage is None:
        raise UploadError("missing")
    name = file_storage.filename or ""
    data = file_storage.stream.read(max_file_bytes() + 1)
    if not data and not name:
        raise UploadError("missing")
    return store_bytes(data, name, allowed_kinds)


def store_bytes(data: bytes, original_name: str, allowed_kinds=ALL_KINDS) -> StoredUpload:
    display_name = clean_display_name(original_name or "")
    if not data:
        raise UploadError("empty", name=display_name)
    limit = max_file_bytes()
    if len(data) > limit:
        raise UploadError("too_large", name=display_name, limit_mb=limit // (1024 * 1024))
    detected = _detect(data, display_name, allowed_kinds)
    taken_at = latitude = longitude = None
    if isinstance(detected, CheckedImage):
        taken_at, latitude, longitude = read_exif(detected.image)
    if not display_name:
        display_name = f"{detected.kind}.{detected.extension}"
    stored_file = _store(data, detected, display_name)
    return StoredUpload(stored_file, display_name, taken_at, latitude, longitude)


def clean_display_name(name: str) -> str:
    """The client's file name made safe to show: no path, no control characters, at most 120 characters."""
    name = unicodedata.normalize("NFC", str(name))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    if len(name) >= 2 and name[1] == ":" and name[0].isascii() and name[0].isalpha():
        name = name[2:]
    name = "".join(
        " " if char.isspace() else ("_" if char in UNSAFE_NAME_CHARS else char)
        for char in name
        if char.isspace() or not unicodedata.category(char).startswith("C")
    )
    name = " ".join(name.split()).strip(". ")
    if len(name) <= DISPLAY_NAME_MAX:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        return name[:DISPLAY_NAME_MAX].rstrip(". ")
    stem = stem[: DISPLAY_NAME_MAX - len(extension) - 1].rstrip(". ")
    return f"{stem}.{extension}"


def _detect(data: bytes, name: str, allowed_kinds) -> _Detected | CheckedImage:
    allowed = tuple(allowed_kinds)

    def refuse():
        raise UploadError("bad_type", name=name, allowed=allowed)

    if data.startswith(PDF_SIGNATURE):
        detected = _Detected("pdf", *DOCUMENT_TYPES["pdf"])
    elif data.startswith(ZIP_SIGNATURE):
        kind = _office_kind(data)
        if kind is None:
            refuse()
        detected = _Detected(kind, *DOCUMENT_TYPES[kind])
    else:
        if "image" not in allowed:
            refuse()
        detected = open_image(data, name, allowed)
    if detected.kind not in allowed:
        refuse()
    return detected


def _office_kind(data: bytes) -> str | None:
    """DOCX or XLSX by the parts named in the zip's central directory; nothing is decompressed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def stored_path(stored_file) -> Path:
    sha = stored_file.sha256
    return upload_root() / sha[:2] / sha[2:4] / f"{sha}.{stored_file.extension}"


def thumbnail_path(stored_file) -> Path | None:
    if stored_file.kind != FileKind.IMAGE.value:
        return None
    sha = stored_file.sha256
    return upload_root() / "thumbs" / sha[:2] / f"{sha}.jpg"


def _store(data: bytes, detected: _Detected | CheckedImage, name: str) -> StoredFile:
    sha = hashlib.sha256(data).hexdigest()
    stored_file = _stored_file_by_hash(sha)
    if stored_file is None:
        stored_file = StoredFile(
            sha256=sha,
            size=len(data),
            content_type=detected.content_type,
            kind=detected.kind,
            extension=detected.extension,
            width=getattr(detected, "width", None),
            height=getattr(detected, "height", None),
        )
    thumb = thumbnail_path(stored_file)
    thumbnail = None
    if thumb is not None and not thumb.exists():
        try:
            image = detected.image if detected.image is not None else open_image(data, name, ALL_KINDS).image
            thumbnail = make_thumbnail(image)
        except (ValueError, SyntaxError, struct.error, OSError, MemoryError) as error:
            # Pillow accepted the image but cannot turn it into a JPEG thumbnail (an odd colour mode).
            raise UploadError("corrupt_image", name=name) from error
    try:
        _ensure_on_disk(stored_file, data, thumbnail)
    except OSError as error:
        # A full disk, a read-only or vanished upload folder: the temp file is gone, nothing is recorded.
        current_app.logger.error("could not store upload %s under %s: %s", sha, upload_root(), error)
        raise UploadError("storage_failed", name=name) from error
    if stored_file.id is None:
        stored_file = _insert_or_reuse(stored_file)
    return stored_file


def _stored_file_by_hash(sha: str) -> StoredFile | None:
    return db.session.scalars(select(StoredFile).where(StoredFile.sha256 == sha)).first()


def _insert_or_reuse(stored_file: StoredFile) -> StoredFile:
    """Insert inside a savepoint: a concurrent upload of the same content wins, and we reuse its row."""
    try:
        with db.session.begin_nested():
            db.session.add(stored_file)
    except IntegrityError:
        existing = _stored_file_by_hash(stored_file.sha256)
        if existing is None:
            raise
        return existing
    return stored_file


def _ensure_on_disk(stored_file: StoredFile, data: bytes, thumbnail: bytes | None):
    path = stored_path(stored_file)
    if not (path.exists() and path.stat().st_size == len(data)):
        write_atomically(path, data)
    if thumbnail is not None:
        write_atomically(thumbnail_path(stored_file), thumbnail)


def write_atomically(path: Path, data: bytes):
    """Write beside the final name and rename into place: a crash never leaves a half file there."""
    private_dirs(path.parent)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".part")  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


SAME_EXTENSIONS = {"jpg": ("jpg", "jpeg")}


def named_as_stored(name: str, extension: str) -> str:
    """The name with the extension of what was stored: a JPEG named "x.html" is saved as "x.jpg"."""
    stem, dot, current = name.rpartition(".")
    if dot and current.lower() in SAME_EXTENSIONS.get(extension, (extension,)):
        return name
    return f"{(stem if dot else name) or 'file'}.{extension}"


def send_stored_file(stored_file, *, thumbnail=False, download_name=None):
    """The file as a response: real type, inline for images, attachment for documents, private cache."""
    if thumbnail:
        path = thumbnail_path(stored_file)
        if path is None:
            abort(404)
        if not path.exists():
            original = stored_path(stored_file)
            if not original.exists():
                abort(404)
            try:
                image = open_image(original.read_bytes(), "", ALL_KINDS).image
            except UploadError:
                current_app.logger.warning("no thumbnail for %s: refused by today's image checks", original)
                abort(404)
            write_atomically(path, make_thumbnail(image))
        mimetype = "image/jpeg"
        if download_name:
            download_name = f"{download_name.rsplit('.', 1)[0] or 'thumbnail'}.jpg"
    else:
        path = stored_path(stored_file)
        if not path.exists():
            current_app.logger.error("stored file %s missing on disk at %s", stored_file.sha256, path)
            abort(404)
        mimetype = stored_file.content_type
        if download_name:
            download_name = named_as_stored(download_name, stored_file.extension)
    inline = stored_file.kind == FileKind.IMAGE.value
    download_name = download_name or f"{stored_file.sha256[:12]}.{'jpg' if thumbnail else stored_file.extension}"
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=not inline,
        download_name=download_name,
        conditional=True,
        etag=True,
        max_age=None,
    )
    # The file itself is never kept by a cache (it may outlive the user's access); a thumbnail is
    # kept but revalidated on every use, so the access check runs each time and a 304 costs nothing.
    response.headers["Cache-Control"] = "private, no-cache" if thumbnail else "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def attach_evidence(assignment, upload: StoredUpload, actor) -> Evidence:
    evidence = Evidence(
        assignment_id=assignment.id,
        stored_file_id=upload.stored_file.id,
        original_name=upload.original_name[:255],
        uploaded_by_id=actor.id if actor is not None else None,
        uploaded_at=utcnow(),
        taken_at=upload.taken_at,
        latitude=upload.latitude,
        longitude=upload.longitude,
    )
    evidence.stored_file = upload.stored_file
    db.session.add(evidence)
    db.session.flush()
    after = snapshot(evidence, EVIDENCE_FIELDS)
    after.update(sha256=upload.stored_file.sha256, size=upload.stored_file.size, kind=upload.stored_file.kind)
    record("evidence.attach", "evidence", evidence.id, after=after, actor=actor)
    return evidence


def remove_evidence(evidence, actor):
    if evidence.removed_at is not None:
        return evidence
    before = snapshot(evidence, ("removed_at", "removed_by_id"))
    evidence.removed_at = utcnow()
    evidence.removed_by_id = actor.id if actor is not None else None
    db.session.flush()
    after = snapshot(evidence, ("removed_at", "removed_by_id"))
    record("evidence.remove", "evidence", evidence.id, before=before, after=after, actor=actor)
    return evidence


def visible_evidence_or_404(user, evidence_id) -> Evidence:
    """Evidence not removed, on an assignment of the user's unit or a unit below it; else 404."""
    try:
        evidence_id = int(evidence_id)
    except (TypeError, ValueError):
        abort(404)
    evidence = db.session.scalars(
        select(Evidence)
        .join(Assignment, Evidence.assignment_id == Assignment.id)
        .join(Unit, Assignment.unit_id == Unit.id)
        .where(Evidence.id == evidence_id, Evidence.removed_at.is_(None), units_within(user))
    ).first()
    if evidence is None:
        abort(404)
    return evidence
