"""Files are stored once by content hash, written atomically, with a thumbnail and EXIF facts."""
import hashlib
import io
import os
from datetime import datetime, timezone

import pytest
from PIL import Image

from campaign.audit.models import AuditRecord
from campaign.evidence import services
from campaign.evidence.models import Evidence, StoredFile
from tests.evidence.conftest import files_under, make_jpeg, make_pdf, make_png


def test_a_file_is_stored_under_its_hash_outside_the_database(db, upload_dir):
    data = make_pdf()
    stored = services.store_bytes(data, "方案.pdf").stored_file
    sha = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == sha and stored.size == len(data)
    path = services.stored_path(stored)
    assert path == upload_dir / sha[:2] / sha[2:4] / f"{sha}.pdf"
    assert path.read_bytes() == data
    assert services.thumbnail_path(stored) is None


def test_the_same_photo_twice_is_stored_once(db, upload_dir, assignments, users):
    photo = make_jpeg()
    first = services.store_bytes(photo, "a.jpg")
    services.attach_evidence(assignments.village_a1, first, users.village_reporter)
    db.session.commit()
    second = services.store_bytes(photo, "b.jpg")
    services.attach_evidence(assignments.village_a2, second, users.county_officer)
    db.session.commit()

    assert second.stored_file.id == first.stored_file.id
    assert db.session.query(StoredFile).count() == 1
    assert db.session.query(Evidence).count() == 2
    originals = [path for path in files_under(upload_dir) if "thumbs" not in path.parts]
    assert originals == [services.stored_path(first.stored_file)]


def test_a_missing_file_on_disk_is_written_again_on_the_next_upload(db, upload_dir):
    data = make_pdf()
    stored = services.store_bytes(data, "a.pdf").stored_file
    db.session.commit()
    services.stored_path(stored).unlink()
    services.store_bytes(data, "a.pdf")
    assert services.stored_path(stored).read_bytes() == data


def test_a_concurrent_insert_of_the_same_content_reuses_the_other_row(app, db, monkeypatch):
    """Two uploads of one photo at once: the loser of the unique-hash race reuses the winner's row."""
    data = make_pdf()
    sha = hashlib.sha256(data).hexdigest()
    real_lookup = services._stored_file_by_hash
    calls = []

    def lookup_missing_the_other_upload(found_sha):
        calls.append(found_sha)
        if len(calls) == 1:
            with app.app_context():  # the other request, committed in its own session
                services.store_bytes(data, "other.pdf")
                db.session.commit()
            return None
        return real_lookup(found_sha)

    monkeypatch.setattr(services, "_stored_file_by_hash", lookup_missing_the_other_upload)
    stored = services.store_bytes(data, "mine.pdf").stored_file
    db.session.commit()
    assert stored.sha256 == sha and stored.id is not None
    assert db.session.query(StoredFile).filter_by(sha256=sha).count() == 1


def test_writes_are_atomic_and_leave_no_temporary_files(db, upload_dir):
    services.store_bytes(make_jpeg(), "a.jpg")
    services.store_bytes(make_pdf(), "b.pdf")
    names = [path.name for path in files_under(upload_dir)]
    assert len(names) == 3  # two originals and one thumbnail
    assert not [name for name in names if name.startswith(".") or name.endswith(".part")]


def test_a_failed_write_leaves_neither_a_half_file_nor_a_temporary_file(db, upload_dir, monkeypatch):
    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(services.UploadError) as caught:
        services.store_bytes(make_pdf(), "a.pdf")
    assert caught.value.code == "storage_failed"
    assert files_under(upload_dir) == []
    assert db.session.query(StoredFile).count() == 0


def test_a_thumbnail_is_made_once_upright_and_small(db, upload_dir):
    # Orientation 6: the camera was turned, the picture must be rotated 90° to stand upright.
    photo = make_jpeg(size=(1200, 800), orientation=6)
    stored = services.store_bytes(photo, "a.jpg").stored_file
    thumb = services.thumbnail_path(stored)
    assert thumb == upload_dir / "thumbs" / stored.sha256[:2] / f"{stored.sha256}.jpg"
    with Image.open(thumb) as image:
        assert image.format == "JPEG"
        assert image.size == (213, 320)
    made_at = thumb.stat().st_mtime_ns
    os.utime(thumb, ns=(made_at - 10**9, made_at - 10**9))

    services.store_bytes(photo, "again.jpg")
    assert thumb.stat().st_mtime_ns == made_at - 10**9
    # The original is kept as it came from the phone.
    assert services.stored_path(stored).read_bytes() == photo


def test_a_transparent_png_gets_a_jpeg_thumbnail(db):
    stored = services.store_bytes(make_png(size=(800, 400)), "a.png").stored_file
    with Image.open(services.thumbnail_path(stored)) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (320, 160))


def test_exif_time_and_gps_are_read_from_a_photo(db):
    # 30°14'N 119°43'E, near Lin'an; taken 09:30:15 Beijing time.
    upload = services.store_bytes(make_jpeg(gps=(30.2345, 119.7123)), "a.jpg")
    assert upload.taken_at == datetime(2025, 10, 3, 1, 30, 15, tzinfo=timezone.utc)
    assert upload.latitude == pytest.approx(30.2345, abs=1e-5)
    assert upload.longitude == pytest.approx(119.7123, abs=1e-5)


def test_southern_and_western_positions_are_negative(db):
    upload = services.store_bytes(make_jpeg(gps=(-33.8568, -70.6483)), "a.jpg")
    assert upload.latitude == pytest.approx(-33.8568, abs=1e-5)
    assert upload.longitude == pytest.approx(-70.6483, abs=1e-5)


def test_an_exif_offset_is_used_when_present(db):
    upload = services.store_bytes(make_jpeg(offset="+02:00"), "a.jpg")
    assert upload.taken_at == datetime(2025, 10, 3, 7, 30, 15, tzinfo=timezone.utc)


def test_a_photo_without_exif_has_no_time_or_position(db):
    upload = services.store_bytes(make_jpeg(taken=None), "a.jpg")
    assert (upload.taken_at, upload.latitude, upload.longitude) == (None, None, None)


@pytest.mark.parametrize("taken", ["0000:00:00 00:00:00", "yesterday", "2025:13:45 99:00:00"])
def test_a_broken_exif_time_is_ignored(db, taken):
    assert services.store_bytes(make_jpeg(taken=taken), "a.jpg").taken_at is None


@pytest.mark.parametrize(
    "gps",
    [
        {1: "N", 2: (30, 14, 0)},  # no longitude
        {1: "N", 2: (200, 0, 0), 3: "E", 4: (119, 43, 0)},  # no such latitude
        {1: "N", 2: (0, 0, 0), 3: "E", 4: (0, 0, 0)},  # a phone without a fix
    ],
)
def test_an_incomplete_or_impossible_gps_position_is_ignored(db, gps):
    exif = Image.Exif()
    exif.get_ifd(0x8825).update(gps)
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "JPEG", exif=exif)
    upload = services.store_bytes(buffer.getvalue(), "a.jpg")
    assert (upload.latitude, upload.longitude) == (None, None)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_garbage_in_the_exif_block_is_ignored(db):
    photo = bytearray(make_jpeg(gps=(30.2345, 119.7123)))
    start = photo.index(b"Exif\x00\x00") + 6
    photo[start + 8 : start + 40] = b"\xff" * 32  # the IFD entries overwritten
    upload = services.store_bytes(bytes(photo), "a.jpg")
    assert (upload.taken_at, upload.latitude, upload.longitude) == (None, None, None)


def test_attaching_records_the_facts_and_an_audit_entry(db, assignments, users):
    upload = services.store_bytes(make_jpeg(gps=(30.2345, 119.7123)), "../标牌.jpg")
    evidence = services.attach_evidence(assignments.village_a1, upload, users.village_reporter)
    db.session.commit()

    db.session.expire_all()
    evidence = db.session.get(Evidence, evidence.id)
    assert evidence.original_name == "标牌.jpg"
    assert evidence.uploaded_by_id == users.village_reporter.id
    assert evidence.taken_at == datetime(2025, 10, 3, 1, 30, 15, tzinfo=timezone.utc)
    assert evidence.latitude == pytest.approx(30.2345, abs=1e-5)
    entry = db.session.query(AuditRecord).filter_by(action="evidence.attach").one()
    assert entry.entity_id == str(evidence.id)
    assert entry.username == "village_reporter"
    assert entry.after["sha256"] == evidence.stored_file.sha256
    assert entry.after["original_name"] == "标牌.jpg"


def test_removing_keeps_the_row_and_records_who(db, assignments, users, attach):
    evidence = attach(assignments.village_a1)
    services.remove_evidence(evidence, users.township_officer)
    db.session.commit()

    db.session.expire_all()
    evidence = db.session.get(Evidence, evidence.id)
    assert evidence.removed_at is not None
    assert evidence.removed_by_id == users.township_officer.id
    entry = db.session.query(AuditRecord).filter_by(action="evidence.remove").one()
    assert entry.username == "township_officer"
    assert entry.before == {"removed_at": None, "removed_by_id": None}
    assert services.stored_path(evidence.stored_file).exists()


def test_a_photo_that_cannot_be_made_into_a_thumbnail_is_refused_without_a_row(db, monkeypatch):
    def cannot(image):
        raise ValueError("conversion not supported")

    monkeypatch.setattr(services, "make_thumbnail", cannot)
    with pytest.raises(services.UploadError) as caught:
        services.store_bytes(make_jpeg(), "a.jpg")
    assert caught.value.code == "corrupt_image"
    assert db.session.query(StoredFile).count() == 0
