"""Exports: CSV (no formula injection), GeoJSON and KML (escaped), and the two official Excel forms."""
import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date

import openpyxl
import pytest

from campaign.water import forms_export
from campaign.exports import safe_cell
from campaign.water.io import points_csv, points_geojson, points_kml
from tests import factories
from tests.water.conftest import (
    FORMULA_NAME,
    TEMPLATE_NAME,
    XSS_NAME,
    ago,
    make_patrol,
    make_point,
)

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture
def nasty(tree, db):
    point = make_point(tree.village_a1, XSS_NAME, responsible_name=FORMULA_NAME, notes=TEMPLATE_NAME,
                       responsible_phone="+8613800000000", is_key=True)
    make_point(tree.village_b1, "白沙溪", kind="river", is_key=True)
    make_patrol(point, ago(days=1), patroller_name=FORMULA_NAME, findings=XSS_NAME)
    db.session.commit()
    return point


def test_safe_cell_prefixes_formula_starts():
    assert [safe_cell(value) for value in ("=1+1", "+1", "-1", "@SUM(A1)", "plain", 3.5, True)] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "plain", 3.5, "1"]


def test_the_csv_export_defuses_formulas_and_keeps_the_text(as_county_officer, nasty):
    response = as_county_officer.get("/water/export.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    rows = {row["水域名称"]: row for row in csv.DictReader(io.StringIO(text))}
    row = rows[XSS_NAME]
    assert row["安全信息员"] == "'" + FORMULA_NAME
    assert row["安全信息员电话"] == "'+8613800000000"
    assert row["备注"] == TEMPLATE_NAME
    assert set(rows) == {XSS_NAME, "白沙溪"}


def test_the_csv_export_is_scoped_and_filtered_like_the_list(as_village_reporter, as_county_officer, nasty):
    text = as_village_reporter.get("/water/export.csv").get_data().decode("utf-8-sig")
    assert "白沙溪" not in text
    text = as_county_officer.get("/water/export.csv?kind=river").get_data().decode("utf-8-sig")
    assert "白沙溪" in text and "onerror" not in text


def test_the_geojson_export_is_valid_json_with_the_text_intact(as_county_officer, nasty):
    response = as_county_officer.get("/water/export.geojson")
    assert response.mimetype == "application/geo+json"
    data = json.loads(response.get_data(as_text=True))
    feature = next(item for item in data["features"] if item["id"] == nasty.id)
    assert feature["properties"]["name"] == XSS_NAME
    assert feature["properties"]["notes"] == TEMPLATE_NAME
    assert feature["geometry"] == {"type": "Point", "coordinates": [nasty.longitude, nasty.latitude]}


def test_the_kml_export_escapes_the_markup(as_county_officer, nasty):
    response = as_county_officer.get("/water/export.kml")
    raw = response.get_data(as_text=True)
    assert XSS_NAME not in raw and "&lt;img src=x onerror=alert(1)&gt;" in raw
    root = ET.fromstring(response.get_data())
    names = [element.text for element in root.iter(f"{KML}name")]
    assert XSS_NAME in names
    placemark = next(p for p in root.iter(f"{KML}Placemark") if p.find(f"{KML}name").text == XSS_NAME)
    assert placemark.find(f"{KML}Point/{KML}coordinates").text == f"{nasty.longitude},{nasty.latitude},0"


def test_the_pure_writers_handle_an_empty_list():
    assert points_csv([]).decode("utf-8-sig").startswith("Water point code,Township (street),Village (community),")
    assert json.loads(points_geojson([])) == {"type": "FeatureCollection", "features": []}
    assert ET.fromstring(points_kml([])).find(f"{KML}Document") is not None


def test_unknown_export_formats_are_not_found(as_county_officer):
    assert as_county_officer.get("/water/export.exe").status_code == 404


def register_row(**fields):
    row = {"township": "玲珑街道", "village": "夏禹桥村委会", "name": "村口池塘", "kind": "pond", "latitude": 30.24,
           "longitude": 119.71, "danger_level": "high", "has_permanent_sign": True, "sign_count": 2, "life_buoys": 1,
           "poles": 1, "ropes": 1, "responsible_name": "张三", "responsible_phone": "13800000000", "notes": ""}
    row.update(fields)
    return row


def patrol_row(**fields):
    row = {"township": "玲珑街道", "village": "夏禹桥村委会", "point_name": "村口池塘", "patrolled_at": "2024-07-01 08:30",
           "patroller_name": "张三", "sign_intact": True, "rescue_equipment_present": False, "people_swimming": 2,
           "findings": "已劝离"}
    row.update(fields)
    return row


def open_book(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def test_the_register_form_has_the_official_layout():
    data = forms_export.register_workbook([register_row(), register_row(name="前山水库", village="前山村委会")],
                                          "village", filled_on=date(2024, 7, 1))
    book = open_book(data)
    assert book.sheetnames == ["夏禹桥村委会", "前山村委会"]
    sheet = book["夏禹桥村委会"]
    assert sheet["A1"].value == "重点水域排查情况登记表"
    assert "A1:O1" in {str(merged) for merged in sheet.merged_cells.ranges}
    assert "J3:L3" in {str(merged) for merged in sheet.merged_cells.ranges}  # 救生设施 over its three columns
    assert [sheet.cell(3, column).value for column in range(1, 10)] == [
        "序号", "村（社区）", "水域名称", "水域类型", "位置（经度在前）", None, "危险\n程度", "是否设置永久性警示标识",
        "警示标识数量\n（块）"]
    assert (sheet["E4"].value, sheet["F4"].value) == ("经度", "纬度")
    assert (sheet["E5"].value, sheet["F5"].value) == ("119.710000", "30.240000")
    assert sheet["J3"].value == "救生设施" and sheet["M3"].value == "安全信息员" and sheet["O3"].value == "备注"
    assert [sheet.cell(5, column).value for column in (1, 3, 4, 7, 8, 9)] == [1, "村口池塘", "池塘", "高", "是", 2]
    assert sheet["B2"].value is None and sheet["A2"].value == "填报单位：夏禹桥村委会"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9
    assert sheet.print_title_rows == "$3:$4"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth or 1) == 1 and sheet.page_setup.fitToHeight == 0  # 1 wide is the default
    assert "第 &P 页" in sheet.oddFooter.center.text and "&N" not in sheet.oddFooter.center.text
    assert sheet["C5"].font.name == "宋体" and sheet["C5"].border.left.style == "thin"


def test_the_register_form_groups_by_township():
    data = forms_export.register_workbook(
        [register_row(), register_row(township="太湖源镇", village="白沙村委会")], "township")
    book = open_book(data)
    assert book.sheetnames == ["玲珑街道", "太湖源镇"]
    assert book["玲珑街道"]["B5"].value == "夏禹桥村委会"


def test_the_patrol_form_has_the_official_columns():
    data = forms_export.patrol_workbook([patrol_row()], "village")
    sheet = open_book(data)["夏禹桥村委会"]
    assert sheet["A1"].value == "水域巡查记录表"
    assert [sheet.cell(3, column).value for column in range(1, 9)] == [
        "序号", "水域名称", "巡查时间", "巡查人", "警示标识是否完好", "救生设施是否齐全", "是否发现有人游泳", "发现问题及处理情况"]
    assert [sheet.cell(4, column).value for column in range(1, 9)] == [
        1, "村口池塘", "2024-07-01 08:30", "张三", "是", "否", "是（2人）", "已劝离"]
    assert sheet.print_title_rows == "$3:$3"
    by_township = open_book(forms_export.patrol_workbook([patrol_row()], "township"))["玲珑街道"]
    assert by_township["B3"].value == "村（社区）" and by_township["B4"].value == "夏禹桥村委会"


def test_user_text_stays_text_in_the_forms():
    data = forms_export.register_workbook([register_row(name=FORMULA_NAME, responsible_name=XSS_NAME,
                                                        notes="=1+1", responsible_phone="+86 138")], "village")
    sheet = open_book(data).active
    assert sheet["C5"].value == FORMULA_NAME and sheet["C5"].data_type == "s"
    assert sheet["O5"].value == "=1+1" and sheet["O5"].data_type == "s"
    assert sheet["M5"].value == XSS_NAME
    patrols = open_book(forms_export.patrol_workbook([patrol_row(findings="=HYPERLINK(\"x\")",
                                                                 patroller_name="@SUM(1)")], "village")).active
    assert patrols["H4"].data_type == "s" and patrols["D4"].value == "@SUM(1)"


def test_sheet_names_are_made_safe_and_unique():
    rows = [register_row(village="村/一[组]"), register_row(village="村/一[组]", name="二号"),
            register_row(village="村_一_组_"), register_row(village="很" * 40)]
    book = open_book(forms_export.register_workbook(rows, "village"))
    assert book.sheetnames == ["村_一_组_", "村_一_组_(2)", "很" * 31]


def test_an_empty_form_still_has_its_headers():
    sheet = open_book(forms_export.register_workbook([], "village")).active
    assert sheet["A1"].value == "重点水域排查情况登记表" and sheet["A3"].value == "序号"


def test_the_forms_download_from_the_web_scoped(as_township_officer, nasty, db):
    response = as_township_officer.get("/water/forms?form=register&group=village&key=1")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = open_book(response.get_data())
    assert book.sheetnames == ["夏禹桥村委会"]
    assert book.active["C5"].value == XSS_NAME
    response = as_township_officer.get(f"/water/forms?form=patrols&group=township&start={factories.a_date(-3)}")
    sheet = open_book(response.get_data()).active
    assert sheet.title == "玲珑街道" and sheet["E4"].value == FORMULA_NAME and sheet["E4"].data_type == "s"


def test_the_forms_page_is_chinese(as_county_officer):
    page = as_county_officer.get("/water/forms").get_data(as_text=True)
    assert "重点水域排查情况登记表" in page and "每个村（社区）一张工作表" in page
