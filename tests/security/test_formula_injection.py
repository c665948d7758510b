"""Formula injection: names a spreadsheet would run (=HYPERLINK, +1+1, -1+1, @SUM) in every export.

Each export is read back as a spreadsheet program would: CSV cells carry a leading ' and xlsx cells
are strings (data type 's'), never formulas ('f').
"""
import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from campaign.accounts.user_import import COLUMNS
from tests.conftest import log_in
from tests.security.conftest import STORED_FIELDS, build_world

FORMULAS = ('=HYPERLINK("http://evil","x")', "+1+1", "-1+1", "@SUM(1)")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PHONE = "=1+2"


def hostile(field: str) -> str:
    index = STORED_FIELDS.index(field)
    return f"{FORMULAS[index % len(FORMULAS)]}X{index:02d}"


@pytest.fixture
def world(app, db, tree, users):
    made = build_world(tree, users, hostile)
    tree.village_a1.phone = PHONE
    made.point.responsible_phone = PHONE
    db.session.commit()
    return made


def csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def xlsx_cells(data: bytes):
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]


def check_csv(data: bytes, fields) -> list[str]:
    cells = csv_cells(data)
    # A tab before digits only is how the exports keep codes from becoming 3.30112E+11: nothing there can run.
    runnable = [cell for cell in cells if cell.startswith(FORMULA_STARTS) and not re.fullmatch(r"\t\d+", cell)]
    assert not runnable, "a cell a spreadsheet would run"
    for field in fields:
        assert "'" + hostile(field) in cells, f"{field} not in the CSV as quoted text"
    return cells


def check_xlsx(data: bytes, fields):
    cells = xlsx_cells(data)
    formulas = [(cell.coordinate, cell.value) for cell in cells if cell.data_type == "f"]
    assert formulas == []
    texts = {cell.value for cell in cells if cell.data_type == "s"}
    for field in fields:
        value = hostile(field)
        assert any(value in text for text in texts), f"{field} not in the workbook as text"
    return cells


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


POINT_FIELDS = ("point.name", "point.responsible_name", "point.notes", "unit.name", "township.name")


def test_the_water_csv_quotes_every_formula(app, world):
    client = log_in(app.test_client(), "admin")
    cells = check_csv(download(client, "/water/export.csv").data, POINT_FIELDS)
    assert "'" + PHONE in cells


def test_the_water_xlsx_holds_text_only(app, world):
    client = log_in(app.test_client(), "admin")
    check_xlsx(download(client, "/water/export.xlsx").data, POINT_FIELDS)


def test_the_unit_tree_exports_quote_every_formula(app, world):
    client = log_in(app.test_client(), "admin")
    cells = check_csv(download(client, "/units/export.csv").data, ("unit.name", "township.name"))
    assert "'" + PHONE in cells
    check_xlsx(download(client, "/units/export.xlsx").data, ("unit.name", "township.name"))


def test_geojson_and_kml_carry_the_names_as_plain_text(app, world):
    client = log_in(app.test_client(), "admin")
    feature = json.loads(download(client, "/water/export.geojson").data)["features"][0]
    assert feature["properties"]["name"] == hostile("point.name")
    assert feature["properties"]["responsible_phone"] == PHONE
    root = ET.fromstring(download(client, "/water/export.kml").data)
    names = {element.text for element in root.iter("{http://www.opengis.net/kml/2.2}name")}
    assert hostile("point.name") in names


@pytest.mark.parametrize("group", ["village", "township"])
def test_the_water_register_form_holds_text_only(app, world, group):
    client = log_in(app.test_client(), "admin")
    data = download(client, f"/water/forms?form=register&group={group}").data
    check_xlsx(data, ("point.name", "point.responsible_name", "point.notes", "unit.name"))


def test_the_patrol_form_holds_text_only(app, world):
    client = log_in(app.test_client(), "admin")
    data = download(client, "/water/forms?form=patrols&group=village").data
    check_xlsx(data, ("point.name", "patrol.patroller_name", "patrol.findings", "unit.name"))


def test_the_chasing_csv_quotes_every_formula(app, world):
    client = log_in(app.test_client(), "admin")
    data = download(client, f"/progress/campaigns/{world.campaign.id}/chasing.csv").data
    cells = check_csv(data, ("unit.name", "unit.contact_name", "task.title", "township.name"))
    assert "'" + PHONE in cells


@pytest.mark.parametrize("role", ["admin", "township_officer"])
def test_the_county_workbook_holds_text_only(app, world, role):
    client = log_in(app.test_client(), role)
    data = download(client, f"/summary/campaigns/{world.campaign.id}/workbook.xlsx").data
    check_xlsx(data, ("campaign.title", "task.title", "unit.name", "township.name", "summary.work_done",
                      "summary.highlights", "summary.problems", "summary.next_steps"))


def test_the_users_import_template_echoes_nothing_typed(app, world):
    client = log_in(app.test_client(), "admin")
    cells = csv_cells(download(client, "/users/import/template.csv").data)
    assert cells == list(COLUMNS)
