"""Security fixtures: a world where every user-typed field holds a hostile string, the routes of the
app's url_map filled with that world's ids, and a private upload folder."""
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign.api.services import create_token
from campaign.campaigns.models import Assignment
from campaign.campaigns.services import launch_campaign
from campaign.database import utcnow
from campaign.evidence.services import store_bytes
from campaign.extensions import db as _db
from campaign.reporting import services as reporting
from campaign.summary.township import save_summary
from campaign.water.models import WaterPhoto
from tests import factories
from tests.conftest import CSRF_PATTERN, log_in
from tests.reporting.conftest import assignment_of, jpeg_bytes, make_running_campaign
from tests.water.conftest import make_hazard, make_patrol, make_point

ROUTE_ARGUMENT = re.compile(r"<(?:[^:>]+:)?([^>]+)>")

# Every field a user types that the app stores, as (name, object, attribute) in build order.
STORED_FIELDS = (
    "unit.name", "unit.contact_name", "township.name", "reporter.display_name", "officer.display_name",
    "campaign.title", "campaign.theme", "campaign.description", "task.title", "task.description",
    "report.note", "instalment.note", "report.return_reason", "lock_exception.reason",
    "evidence.original_name", "point.name", "point.responsible_name", "point.notes",
    "patrol.patroller_name", "patrol.findings", "hazard.description", "hazard.owner_name",
    "hazard.closing_note", "water_photo.original_name", "summary.work_done", "summary.highlights",
    "summary.problems", "summary.next_steps", "figure.correction_note", "api_token.name",
)


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    """Each test stores under its own folder, so what it finds on disk is what it made."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture
def place(app, db, tree, users):
    """(village_a1's reporter logged in, a CSRF token, the sign task's assignment id, API headers, the campaign)."""
    running = make_running_campaign(tree)
    assignment = assignment_of(running.signs, tree.village_a1)
    _token, clear = create_token(users.village_reporter, "phone")
    db.session.commit()
    client = log_in(app.test_client(), "village_reporter")
    page = client.get(f"/reports/{assignment.id}").get_data(as_text=True)
    return client, CSRF_PATTERN.search(page).group(1), assignment.id, {"Authorization": f"Bearer {clear}"}, running


@pytest.fixture
def import_client(app, db, tree, users):
    """(the county officer logged in, a CSRF token): who may import water points."""
    client = log_in(app.test_client(), "county_officer")
    page = client.get("/water/import").get_data(as_text=True)
    return client, CSRF_PATTERN.search(page).group(1)


def build_world(tree, users, text_for) -> SimpleNamespace:
    """One object of every kind around village_a1, each typed field set to ``text_for(field)``.

    Values go through the services where a user's input does (so audit records carry them too);
    the evidence name is set on the row afterwards, since the upload check cleans file names
    and the pages must stay safe even for a name stored before that check existed.
    """
    reporter, officer = users.village_reporter, users.township_officer
    village, township = tree.village_a1, tree.township_a
    village.name = text_for("unit.name")
    village.contact_name = text_for("unit.contact_name")
    township.name = text_for("township.name")
    reporter.display_name = text_for("reporter.display_name")
    officer.display_name = text_for("officer.display_name")

    campaign = factories.make_campaign(
        tree.county, title=text_for("campaign.title"), theme=text_for("campaign.theme"),
        description=text_for("campaign.description"),
    )
    signs = factories.make_task(campaign, title=text_for("task.title"), description=text_for("task.description"),
                                kinds=("village", "community"), target=10)
    factories.make_task(campaign, title="制定实施方案", kinds=("township",), measure="done")
    launch_campaign(campaign)
    assignment = _db.session.scalar(
        select(Assignment).where(Assignment.task_id == signs.id, Assignment.unit_id == village.id))

    reporting.save_report(assignment, reporter, expected_version=assignment.version, note=text_for("report.note"))
    reporting.add_instalment(assignment, reporter, quantity=6, reported_on=campaign.start_date,
                             note=text_for("instalment.note"))
    upload = store_bytes(jpeg_bytes(), "现场.jpg", allowed_kinds=("image",))
    evidence = reporting.add_evidence(assignment, reporter, [upload])[0]
    evidence.original_name = text_for("evidence.original_name")
    reporting.submit_report(assignment, reporter, expected_version=assignment.version)
    reporting.return_report(assignment, officer, expected_version=assignment.version,
                            reason=text_for("report.return_reason"))
    reporting.grant_lock_exception(campaign, village, users.admin, until=utcnow() + timedelta(days=60),
                                   reason=text_for("lock_exception.reason"))

    point = make_point(village, name=text_for("point.name"), responsible_name=text_for("point.responsible_name"),
                       notes=text_for("point.notes"))
    patrol = make_patrol(point, patroller_name=text_for("patrol.patroller_name"), findings=text_for("patrol.findings"))
    hazard = make_hazard(point, description=text_for("hazard.description"), owner_name=text_for("hazard.owner_name"),
                         closing_note=text_for("hazard.closing_note"), status="closed", closed_at=utcnow())
    photo = WaterPhoto(stored_file_id=upload.stored_file.id, water_point_id=point.id, patrol_id=patrol.id,
                       purpose="patrol", original_name=text_for("water_photo.original_name"))
    _db.session.add(photo)

    save_summary(
        campaign, township, actor=officer, version=0, submit=True,
        narrative={field: text_for(f"summary.{field}") for field in ("work_done", "highlights", "problems",
                                                                     "next_steps")},
        corrections={signs.id: (5, text_for("figure.correction_note"))},
    )
    token, _clear = create_token(users.admin, text_for("api_token.name"))
    _db.session.commit()
    return SimpleNamespace(
        campaign=campaign, task=signs, assignment=assignment, evidence=evidence, point=point, patrol=patrol,
        hazard=hazard, photo=photo, token=token,
        ids={
            "campaign_id": campaign.id, "task_id": signs.id, "assignment_id": assignment.id,
            "evidence_id": evidence.id, "unit_id": village.id, "user_id": reporter.id, "point_id": point.id,
            "hazard_id": hazard.id, "photo_id": photo.id, "token_id": token.id, "fmt": "csv",
        },
    )


def get_routes(app):
    """The GET routes of the url_map (not static files)."""
    return [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"]


def url_of(rule, ids) -> str:
    return ROUTE_ARGUMENT.sub(lambda match: str(ids[match.group(1)]), rule.rule)


def extra_urls(world) -> list[str]:
    """Pages and exports behind query strings that the bare routes do not reach."""
    ids = world.ids
    campaign, unit = ids["campaign_id"], ids["unit_id"]
    return [
        f"/water/map?unit={unit}", f"/water/map.js?unit={unit}",
        "/water/export.csv", "/water/export.geojson", "/water/export.kml",
        "/water/forms?form=register&group=village", "/water/forms?form=register&group=township",
        "/water/forms?form=patrols&group=village", "/water/hazards?status=all", "/water/hazards?status=closed",
        "/water/patrols", f"/reports/review?status=returned&campaign={campaign}",
        f"/summary/campaigns/{campaign}/township", f"/progress/campaigns/{campaign}/units/{unit}",
        "/units/?q=" + "%3C", "/audit/?page=1",
    ]
