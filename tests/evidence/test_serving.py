"""Evidence files are served only to users who may see the assignment's unit."""
from urllib.parse import quote

import pytest

from campaign.evidence import services
from tests.evidence.conftest import make_docx, make_jpeg, make_pdf, make_xlsx

ROLES = ["admin", "county_officer", "township_officer", "village_reporter", "school_reporter",
         "agency_reporter", "inspector", "viewer"]
# Who may fetch a file of village_a1 (township_a) and of village_b1 (township_b).
SEES_A1 = {"admin", "county_officer", "township_officer", "village_reporter", "inspector", "viewer"}
SEES_B1 = {"admin", "county_officer", "inspector", "viewer"}


@pytest.fixture
def photos(assignments, attach):
    return {
        "village_a1": attach(assignments.village_a1, make_jpeg(color=(1, 2, 3)), "夏禹桥村标牌.jpg"),
        "village_b1": attach(assignments.village_b1, make_jpeg(color=(4, 5, 6)), "白沙村标牌.jpg"),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("suffix", ["", "/thumb"])
def test_each_role_fetches_only_the_evidence_of_its_units(login, photos, role, suffix):
    client = login(role)
    for village, allowed in (("village_a1", SEES_A1), ("village_b1", SEES_B1)):
        response = client.get(f"/files/evidence/{photos[village].id}{suffix}")
        expected = 200 if role in allowed else 404
        assert response.status_code == expected, (role, village)
        if expected == 200:
            assert response.mimetype == "image/jpeg"


def test_files_need_a_login(client, photos):
    response = client.get(f"/files/evidence/{photos['village_a1'].id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_photo_is_served_inline_with_safe_headers(as_village_reporter, photos):
    evidence = photos["village_a1"]
    response = as_village_reporter.get(f"/files/evidence/{evidence.id}")
    assert response.status_code == 200
    assert response.get_data() == services.stored_path(evidence.stored_file).read_bytes()
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"  # never kept after access is lost
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline;")
    assert f"filename*=UTF-8''{quote('夏禹桥村标牌.jpg')}" in disposition


def test_a_thumbnail_is_a_small_jpeg(as_village_reporter, photos):
    response = as_village_reporter.get(f"/files/evidence/{photos['village_a1'].id}/thumb")
    assert response.status_code == 200
    assert response.get_data() == services.thumbnail_path(photos["village_a1"].stored_file).read_bytes()
    assert "inline" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("make", "name", "content_type"),
    [
        (make_pdf, "玲珑街道实施方案.pdf", "application/pdf"),
        (make_docx, "实施方案.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (make_xlsx, "台账.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_a_document_is_served_as_an_attachment(as_township_officer, assignments, attach, make, name, content_type):
    evidence = attach(assignments.village_a1, make(), name)
    response = as_township_officer.get(f"/files/evidence/{evidence.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name)}" in disposition
    assert response.headers["Cache-Control"] == "no-store"  # never kept after access is lost


def test_a_document_has_no_thumbnail(as_county_officer, assignments, attach):
    evidence = attach(assignments.village_a1, make_pdf(), "方案.pdf")
    assert as_county_officer.get(f"/files/evidence/{evidence.id}/thumb").status_code == 404


def test_removed_evidence_is_no_longer_served(db, as_county_officer, photos, users):
    evidence = photos["village_a1"]
    services.remove_evidence(evidence, users.village_reporter)
    db.session.commit()
    assert as_county_officer.get(f"/files/evidence/{evidence.id}").status_code == 404
    assert as_county_officer.get(f"/files/evidence/{evidence.id}/thumb").status_code == 404


def test_an_unknown_id_is_404(as_admin, photos):
    assert as_admin.get("/files/evidence/999999").status_code == 404


def test_a_file_lost_from_disk_is_404_not_an_error(as_admin, photos):
    services.stored_path(photos["village_a1"].stored_file).unlink()
    assert as_admin.get(f"/files/evidence/{photos['village_a1'].id}").status_code == 404


def test_a_lost_thumbnail_is_made_again_from_the_original(as_admin, photos):
    thumb = services.thumbnail_path(photos["village_a1"].stored_file)
    thumb.unlink()
    assert as_admin.get(f"/files/evidence/{photos['village_a1'].id}/thumb").status_code == 200
    assert thumb.exists()


def test_a_lost_thumbnail_of_a_photo_over_todays_budget_is_not_decoded_again(app, as_admin, photos, monkeypatch):
    thumb = services.thumbnail_path(photos["village_a1"].stored_file)
    thumb.unlink()
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS", 100)  # the 64 × 48 photo is now over the budget
    assert as_admin.get(f"/files/evidence/{photos['village_a1'].id}/thumb").status_code == 404
    assert not thumb.exists()
    assert as_admin.get(f"/files/evidence/{photos['village_a1'].id}").status_code == 200


def test_a_url_naming_a_path_never_reaches_the_disk(as_admin, photos):
    assert as_admin.get("/files/evidence/..%2F..%2Fsecret_key").status_code == 404
    assert as_admin.get("/files/evidence/-1").status_code == 404


def test_visible_evidence_is_scoped_in_the_service_too(app, db, photos, users):
    from werkzeug.exceptions import NotFound

    assert services.visible_evidence_or_404(users.village_reporter, photos["village_a1"].id) == photos["village_a1"]
    with pytest.raises(NotFound):
        services.visible_evidence_or_404(users.village_reporter, photos["village_b1"].id)
    with pytest.raises(NotFound):
        services.visible_evidence_or_404(users.village_reporter, "abc")
