"""Evidence fixtures: a private upload folder per test, files built in memory, assignments to attach to."""
import io
import zipfile
from types import SimpleNamespace

import pytest
from PIL import Image

from campaign.campaigns.models import Assignment
from campaign.evidence import services
from tests.factories import make_campaign, make_task


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    """Each test stores under its own folder, so what it finds on disk is what it made."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    return folder


def files_under(folder):
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def to_rational(value):
    """Degrees as EXIF (degrees, minutes, seconds)."""
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (degrees, minutes, seconds)


def make_jpeg(size=(64, 48), color=(200, 40, 40), taken="2025:10:03 09:30:15", gps=None, orientation=None,
              offset=None) -> bytes:
    """A JPEG made with Pillow; gps=(lat, lon) in decimal degrees."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[36867] = taken
    if offset:
        exif.get_ifd(0x8769)[36881] = offset
    if gps:
        latitude, longitude = gps
        exif.get_ifd(0x8825).update({
            1: "N" if latitude >= 0 else "S",
            2: to_rational(latitude),
            3: "E" if longitude >= 0 else "W",
            4: to_rational(longitude),
        })
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90)
    return buffer.getvalue()


def make_png(size=(40, 30), mode="RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 120, 200, 128) if mode == "RGBA" else (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def make_pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def make_zip(parts: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def make_docx() -> bytes:
    """A minimal Word document built by hand (python-docx is not installed)."""
    return make_zip({
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>森林防火宣传月实施方案</w:t></w:r></w:p></w:body></w:document>"
        ),
    })


def make_xlsx() -> bytes:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"村": ["夏禹桥村"], "标牌": [10]}).to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def make_assignment(db, unit, task):
    assignment = Assignment(campaign_id=task.campaign.id, task_id=task.id, unit_id=unit.id)
    db.session.add(assignment)
    db.session.flush()
    return assignment


@pytest.fixture
def assignments(db, tree):
    """The sign-posting task assigned to village_a1, village_a2 and village_b1 of an active campaign."""
    campaign = make_campaign(tree.county, status="active")
    task = make_task(campaign)
    made = SimpleNamespace(
        campaign=campaign,
        task=task,
        village_a1=make_assignment(db, tree.village_a1, task),
        village_a2=make_assignment(db, tree.village_a2, task),
        village_b1=make_assignment(db, tree.village_b1, task),
    )
    db.session.commit()
    return made


@pytest.fixture
def attach(db, users):
    """attach(assignment, data=None, name=...) → committed Evidence uploaded by the village reporter."""

    def make(assignment, data=None, name="标牌.jpg", actor=None):
        upload = services.store_bytes(data if data is not None else make_jpeg(), name)
        evidence = services.attach_evidence(assignment, upload, actor or users.village_reporter)
        db.session.commit()
        return evidence

    return make
