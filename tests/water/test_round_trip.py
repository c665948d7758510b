"""The water-point export re-imports: into the same database without a duplicate, into an empty one
without a loss; two points of one name in a village, archived points and patrol intervals included."""
import csv
import io

import openpyxl
import pytest
from flask import current_app
from sqlalchemy import func, select

from campaign.extensions import db as _db
from campaign.units.importing import import_units
from campaign.water import messages
from campaign.water.importing import import_water_points
from campaign.water.models import WaterPoint
from tests.conftest import empty_all_tables
from tests.water.conftest import FORMULA_NAME, make_point

FIELDS = ("code", "name", "kind", "latitude", "longitude", "is_key", "danger_level", "has_permanent_sign",
          "sign_count", "life_buoys", "poles", "ropes", "has_fence", "responsible_name", "responsible_phone",
          "notes", "status", "patrol_interval_days")


@pytest.fixture
def points(positioned_tree, db):
    tree = positioned_tree
    made = [
        make_point(tree.village_a1, "山塘", is_key=True, danger_level="high", has_permanent_sign=True, sign_count=2,
                   life_buoys=1, poles=2, ropes=1, responsible_name="张三", responsible_phone="13800000001",
                   patrol_interval_days=7),
        make_point(tree.village_a1, "山塘", latitude=30.241, longitude=119.712, notes="东侧，靠近公路"),
        make_point(tree.village_a2, "前山水库", kind="reservoir", danger_level="medium", has_fence=True,
                   responsible_name=FORMULA_NAME, responsible_phone="+8657100000000"),
        make_point(tree.village_b1, "白沙溪", kind="river", status="archived", notes="=1+1"),
    ]
    db.session.commit()
    return made


def snapshot() -> set:
    rows = _db.session.execute(select(WaterPoint, WaterPoint.unit.property.mapper.class_.code)
                               .join(WaterPoint.unit)).all()
    return {(village_code, *(getattr(point, name) for name in FIELDS)) for point, village_code in rows}


def point_count() -> int:
    return _db.session.scalar(select(func.count(WaterPoint.id)))


def export(client, fmt) -> bytes:
    response = client.get(f"/water/export.{fmt}?status=")
    assert response.status_code == 200
    return response.get_data()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_export_reimports_into_the_same_database_without_a_duplicate(as_county_officer, users, points, fmt):
    before = snapshot()

    result = import_water_points(export(as_county_officer, fmt), f"水域.{fmt}", actor=users.county_officer)
    _db.session.commit()

    assert result.ok, result.errors
    assert (result.created, result.updated) == (0, 4)
    assert point_count() == 4
    assert snapshot() == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_export_rebuilds_every_point_in_an_empty_database(as_county_officer, points, fmt):
    before = snapshot()
    units_file = as_county_officer.get(f"/units/export.{fmt}").get_data()
    points_file = export(as_county_officer, fmt)
    _db.session.remove()
    empty_all_tables(_db.engine)

    assert import_units(units_file, f"单位.{fmt}").ok
    result = import_water_points(points_file, f"水域.{fmt}")
    _db.session.commit()

    assert result.ok, result.errors
    assert (result.created, result.updated) == (4, 0)
    assert snapshot() == before


def test_the_xlsx_export_speaks_chinese_and_keeps_codes_and_phones_as_text(as_county_officer, points):
    sheet = openpyxl.load_workbook(io.BytesIO(export(as_county_officer, "xlsx"))).active
    header = [cell.value for cell in sheet[1]]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    first = rows[points[0].code]
    value = dict(zip(header, (cell.value for cell in first)))

    assert header[:6] == ["编号", "乡镇（街道）", "村（社区）", "村（社区）代码", "水域名称", "水域类型"]
    assert (value["村（社区）代码"], value["水域类型"], value["危险程度"], value["是否重点水域"],
            value["状态"], value["巡查间隔（天）"], value["安全信息员电话"]) == (
        "330112002235", "池塘", "高", "是", "在用", 7, "13800000001")
    assert first[header.index("村（社区）代码")].data_type == "s"
    assert first[header.index("安全信息员电话")].data_type == "s"
    archived = dict(zip(header, (cell.value for cell in rows[points[3].code])))
    assert archived["状态"] == "已归档（已填埋或消失）" and archived["备注"] == "=1+1"


def test_the_csv_export_keeps_codes_from_becoming_numbers_and_formulas_from_running(as_county_officer, points):
    text = export(as_county_officer, "csv").decode("utf-8-sig")
    rows = {row["编号"]: row for row in csv.DictReader(io.StringIO(text))}

    reservoir = rows[points[2].code]
    assert reservoir["村（社区）代码"] == "\t330112002236"
    assert reservoir["安全信息员"] == "'" + FORMULA_NAME and reservoir["安全信息员电话"] == "'+8657100000000"
    assert rows[points[0].code]["安全信息员电话"] == "\t13800000001"


def message(error) -> str:
    with current_app.test_request_context():
        return messages.import_error_message(error)


def test_two_points_of_one_name_without_codes_are_refused_with_the_way_out(users, points):
    data = "村（社区）代码,水域名称,水域类型,纬度,经度\n330112002235,山塘,池塘,30.24,119.71\n".encode()

    result = import_water_points(data, "水域.csv", actor=users.county_officer)

    assert [(error.line, error.code) for error in result.errors] == [(2, "ambiguous_point")]
    assert "有 2 处名为“山塘”的水域" in message(result.errors[0]) and "编号" in message(result.errors[0])


def test_a_code_of_a_point_outside_the_area_is_refused(users, points):
    data = f"编号,村（社区）代码,水域名称,水域类型,纬度,经度\n{points[3].code},330112002235,白沙溪,河流,30.24,119.71\n"

    result = import_water_points(data.encode(), "水域.csv", actor=users.township_officer)

    assert [(error.line, error.code, error.column) for error in result.errors] == [
        (2, "point_out_of_scope", "code")]
    assert _db.session.get(WaterPoint, points[3].id).unit.code == "330112101201"


def test_a_code_twice_in_one_file_is_refused(users, points):
    line = f"{points[0].code},330112002235,山塘,池塘,30.24,119.71"
    data = "\n".join(["编号,村（社区）代码,水域名称,水域类型,纬度,经度", line, line]).encode()

    result = import_water_points(data, "水域.csv", actor=users.county_officer)

    assert [(error.line, error.code) for error in result.errors] == [(3, "duplicate_point_code")]


def test_a_new_code_from_another_system_is_kept(users, positioned_tree, db):
    data = "编号,村（社区）代码,水域名称,水域类型,纬度,经度\nLA-0001,330112002235,新塘,池塘,30.24,119.71\n".encode()

    assert import_water_points(data, "水域.csv", actor=users.county_officer).ok
    db.session.commit()

    assert db.session.scalar(select(WaterPoint.name).where(WaterPoint.code == "LA-0001")) == "新塘"


def test_a_village_code_merged_over_its_points_in_an_xlsx_with_a_title_row_reaches_every_point(
        users, positioned_tree, db):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["玲珑街道重点水域排查情况登记表"])
    sheet.merge_cells("A1:E1")
    sheet.append(["村（社区）代码", "水域名称", "水域类型", "纬度", "经度"])
    sheet.append(["330112002235", "村口塘", "池塘", 30.24, 119.71])
    sheet.append([None, "后山塘", "山塘", 30.242, 119.713])
    sheet.append([None, "溪口", "河流", 30.243, 119.714])
    sheet.merge_cells("A3:A5")
    buffer = io.BytesIO()
    book.save(buffer)

    result = import_water_points(buffer.getvalue(), "水域.xlsx", actor=users.township_officer)
    db.session.commit()

    assert result.ok, result.errors
    villages = set(db.session.scalars(select(WaterPoint.unit_id)))
    assert villages == {positioned_tree.village_a1.id}
    assert point_count() == 3


def test_phone_numbers_mangled_to_scientific_notation_are_refused(users, positioned_tree):
    data = "村（社区）代码,水域名称,水域类型,纬度,经度,联系电话\n330112002235,村口塘,池塘,30.24,119.71,1.38E+10\n"

    result = import_water_points(data.encode(), "水域.csv", actor=users.county_officer)

    assert [(error.line, error.code, error.column) for error in result.errors] == [
        (2, "scientific_code", "responsible_phone")]
    assert "“联系电话”列" in message(result.errors[0])


@pytest.mark.parametrize("role, status", [
    ("county_officer", 200), ("township_officer", 200), ("village_reporter", 200), ("viewer", 200),
])
def test_every_role_that_sees_water_points_may_export_its_own(login, points, role, status):
    response = login(role).get("/water/export.xlsx?status=")

    assert response.status_code == status
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_list_offers_the_xlsx_export_with_its_filters(as_county_officer, points):
    page = as_county_officer.get("/water/?kind=river").get_data(as_text=True)

    assert "/water/export.xlsx?" in page and "kind=river" in page


def test_the_point_page_shows_the_code_the_export_carries(as_county_officer, points):
    page = as_county_officer.get(f"/water/{points[0].id}").get_data(as_text=True)

    assert "<th>编号</th>" in page and f"<code>{points[0].code}</code>" in page


def test_a_two_row_header_with_merged_headers_is_read_from_its_lower_row(users, positioned_tree, db):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["重点水域排查情况登记表"])
    sheet.append(["村（社区）代码", "水域名称", "水域类型", "位置", None, "救生设备", None])
    sheet.append([None, None, None, "纬度", "经度", "救生圈", "救生杆"])
    sheet.append(["330112002235", "村口塘", "池塘", 30.24, 119.71, 2, 1])
    sheet.append(["330112002235", "后山塘", "山塘", 30.242, 119.713, None, None])
    for ref in ("A1:G1", "A2:A3", "B2:B3", "C2:C3", "D2:E2", "F2:G2"):
        sheet.merge_cells(ref)
    buffer = io.BytesIO()
    book.save(buffer)

    result = import_water_points(buffer.getvalue(), "登记表.xlsx", actor=users.county_officer)
    db.session.commit()

    assert result.ok, result.errors
    assert result.headers["village_code"] == "村（社区）代码" and result.headers["life_buoys"] == "救生圈"
    pond = db.session.scalar(select(WaterPoint).where(WaterPoint.name == "村口塘"))
    assert (pond.latitude, pond.longitude, pond.life_buoys, pond.poles) == (30.24, 119.71, 2, 1)
