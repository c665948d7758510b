"""``flask --app wsgi files orphans [--delete]``: files under UPLOAD_DIR that no stored_file row names.

A file is written before its row commits (see services.py), so a worker killed in between, a
failed transaction or a full disk can leave a file, or a ``.upload-*.part`` temp file, behind.
Files younger than ``--older-than`` minutes (default 60) are left alone: an upload in flight
has written its file but not yet committed its row.
"""
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from ..cli import in_default_locale
from ..extensions import db
from .models import FileKind, StoredFile
from .services import upload_root

files_cli = AppGroup("files", help="Check the stored upload files.")

STORED_NAME = re.compile(r"^(?P<sha>[0-9a-f]{64})\.(?P<ext>[a-z0-9]{1,8})$")
TEMP_NAME = re.compile(r"^\.upload-.*\.part$")
DEFAULT_GRACE_MINUTES = 60


@dataclass
class OrphanReport:
    orphans: list[Path] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)
    unknown: list[Path] = field(default_factory=list)  # not ours by name: listed, never deleted
    checked: int = 0

    @property
    def removable(self) -> list[Path]:
        return [*self.orphans, *self.temp_files]


def _expected_paths(root: Path) -> set[Path]:
    rows = db.session.execute(select(StoredFile.sha256, StoredFile.extension, StoredFile.kind)).all()
    expected = set()
    for sha, extension, kind in rows:
        expected.add(root / sha[:2] / sha[2:4] / f"{sha}.{extension}")
        if kind == FileKind.IMAGE.value:
            expected.add(root / "thumbs" / sha[:2] / f"{sha}.jpg")
    return expected


def find_orphans(older_than_seconds: float = DEFAULT_GRACE_MINUTES * 60, now: float | None = None) -> OrphanReport:
    """Walk UPLOAD_DIR once and compare with the stored_file table (one query)."""
    root = upload_root()
    report = OrphanReport()
    if not root.exists():
        return report
    now = time.time() if now is None else now
    expected = _expected_paths(root)
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        report.checked += 1
        try:
            old_enough = now - path.stat().st_mtime >= older_than_seconds
        except FileNotFoundError:
            continue  # removed meanwhile (an upload renamed its temp file into place)
        if TEMP_NAME.match(path.name):
            if old_enough:
                report.temp_files.append(path)
        elif STORED_NAME.match(path.name) and _in_stored_layout(root, path):
            if path not in expected and old_enough:
                report.orphans.append(path)
        else:
            report.unknown.append(path)
    return report


def _in_stored_layout(root: Path, path: Path) -> bool:
    parts = path.relative_to(root).parts
    sha = path.name[:64]
    return len(parts) == 3 and parts[:2] in ((sha[:2], sha[2:4]), ("thumbs", sha[:2]))


def delete_orphans(report: OrphanReport) -> int:
    """Delete what ``find_orphans`` found, re-checking each stored file's row just before."""
    root = upload_root()
    deleted = 0
    for path in report.removable:
        if path in report.orphans and path in _expected_paths_for(root, path):
            continue  # its row was committed since the walk
        try:
            path.unlink()
            deleted += 1
        except FileNotFoundError:
            pass
    return deleted


def _expected_paths_for(root: Path, path: Path) -> set[Path]:
    sha = path.name[:64]
    row = db.session.execute(
        select(StoredFile.sha256, StoredFile.extension, StoredFile.kind).where(StoredFile.sha256 == sha)
    ).first()
    if row is None:
        return set()
    expected = {root / sha[:2] / sha[2:4] / f"{sha}.{row.extension}"}
    if row.kind == FileKind.IMAGE.value:
        expected.add(root / "thumbs" / sha[:2] / f"{sha}.jpg")
    return expected


@files_cli.command("orphans")
@click.option("--delete", "delete", is_flag=True, help="Delete the orphan and stale temporary files found.")
@click.option("--older-than", "older_than", type=click.IntRange(min=0), default=DEFAULT_GRACE_MINUTES,
              show_default=True, help="Only files last written at least this many minutes ago.")
@in_default_locale
def orphans_command(delete, older_than):
    """List (or delete) upload files that no stored file record refers to, and stale temp files."""
    report = find_orphans(older_than_seconds=older_than * 60)
    root = upload_root()
    for path in report.orphans:
        click.echo(_("Orphan file: %(path)s", path=path.relative_to(root)))
    for path in report.temp_files:
        click.echo(_("Unfinished temporary file: %(path)s", path=path.relative_to(root)))
    for path in report.unknown:
        click.echo(_("Not a stored upload, left alone: %(path)s", path=path.relative_to(root)), err=True)
    click.echo(_("%(checked)s files checked: %(orphans)s orphan(s), %(temp)s unfinished temporary file(s).",
                 checked=report.checked, orphans=len(report.orphans), temp=len(report.temp_files)))
    if delete and report.removable:
        deleted = delete_orphans(report)
        click.echo(_("%(count)s file(s) deleted.", count=deleted))
