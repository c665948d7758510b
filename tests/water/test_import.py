"""Importing water points from CSV or XLSX: all rows or none, each wrong row named by its line."""
import io

import pandas as pd
import pytest
from sqlalchemy import func, select

from campaign.audit.models import AuditRecord
from campaign.water.importing import import_water_points
from campaign.water.models import WaterPoint
from tests.water.conftest import make_point

HEADER = "village_code,name,kind,latitude,longitude,is_key,danger_level,has_permanent_sign,sign_count,life_buoys,poles,ropes,has_fence,responsible_name,responsible_phone,notes"
A1, A2, B1 = "330112002235", "330112002236", "330112101201"


def csv_bytes(*lines, header=HEADER, encoding="utf-8") -> bytes:
    return "\n".join([header, *lines, ""]).encode(encoding)


def xlsx_bytes(records) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(records).to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def count(db):
    return db.session.scalar(select(func.count(WaterPoint.id)))


def test_a_good_csv_creates_every_point(tree, db):
    data = csv_bytes(
        f"{A1},村口池塘,pond,30.24,119.71,1,high,1,2,1,1,1,0,张三,13800000001,",
        f"{A2},前山水库,reservoir,30.20,119.76,yes,medium,no,0,0,0,0,1,李四,13800000002,库区",
    )
    result = import_water_points(data, "points.csv")
    db.session.commit()
    assert result.ok, result.errors
    assert (result.created, result.updated) == (2, 0)
    pond = db.session.scalar(select(WaterPoint).where(WaterPoint.name == "村口池塘"))
    assert (pond.unit_id, pond.is_key, pond.danger_level, pond.sign_count, pond.has_fence) == (
        tree.village_a1.id, True, "high", 2, False)
    assert db.session.scalar(select(AuditRecord).where(AuditRecord.action == "water_point.import")) is not None


def test_chinese_headers_and_names_in_gb18030(tree, db):
    header = "村（社区）代码,水域名称,水域类型,纬度,经度,是否重点水域,危险程度,是否设置永久性警示标识,警示标识数量,安全信息员,联系电话,备注"
    data = csv_bytes(f"{A1},夏禹桥山塘,山塘,30.24,119.71,是,高,有,3,王五,13900000000,汛期重点",
                     f"{B1},白沙溪,河流,30.38,119.58,否,低,无,0,,,", header=header, encoding="gb18030")
    result = import_water_points(data, "水域.csv")
    assert result.ok, result.errors
    pond = db.session.scalar(select(WaterPoint).where(WaterPoint.name == "夏禹桥山塘"))
    assert (pond.kind, pond.is_key, pond.danger_level, pond.has_permanent_sign, pond.sign_count) == (
        "pond", True, "high", True, 3)


def test_a_csv_with_a_byte_order_mark_and_an_xlsx_import_the_same(tree, db):
    bom = "\ufeff".encode() + csv_bytes(f"{A1},村口池塘,pond,30.24,119.71,,,,,,,,,,,")
    assert import_water_points(bom, "a.csv").ok
    records = [{"village_code": int(A2), "name": "前山水库", "kind": "水库", "latitude": 30.2, "longitude": 119.76,
                "is_key": "是", "sign_count": 2.0}]
    result = import_water_points(xlsx_bytes(records), "b.xlsx")
    assert result.ok, result.errors
    assert count(db) == 2


def test_a_row_matching_an_existing_point_updates_it(tree, db):
    make_point(tree.village_a1, "村口池塘", danger_level="low")
    db.session.commit()
    result = import_water_points(csv_bytes(f"{A1},村口池塘,pond,30.24,119.71,1,high,,,,,,,,,"), "a.csv")
    assert (result.created, result.updated) == (0, 1)
    db.session.expire_all()
    assert db.session.scalar(select(WaterPoint)).danger_level == "high"


def test_one_bad_row_imports_nothing_and_every_error_names_its_line(tree, db):
    data = csv_bytes(
        f"{A1},好的池塘,pond,30.24,119.71,,,,,,,,,,,",
        f"{A1},,pond,nan,119.71,,,,,,,,,,,",
        f"999999999999,无此村,pond,30.2,119.7,,,,,,,,,,,",
        f"{A2},反了的塘,pond,119.71,30.24,,,,,,,,,,,",
        f"{A2},数错的塘,沼泽,91,119.7,也许,极高,,-1,,,,,,,",
        f"{A1},好的池塘,pond,30.24,119.71,,,,,,,,,,,",
    )
    result = import_water_points(data, "bad.csv")
    assert not result.ok
    assert count(db) == 0
    found = {(error.line, error.code) for error in result.errors}
    assert {(3, "name_required"), (3, "latitude_not_number"), (4, "unknown_village"), (5, "swapped"),
            (6, "unknown_kind"), (6, "latitude_out_of_range"), (6, "bad_boolean"), (6, "unknown_danger"),
            (6, "bad_count"), (7, "duplicate_point")} <= found
    assert all(error.line >= 2 for error in result.errors)


def test_missing_columns_and_unreadable_files_are_reported(tree, db):
    result = import_water_points(b"village_code,name\n330112002235,x\n", "a.csv")
    assert [error.code for error in result.errors] == ["missing_columns"]
    assert "kind" in result.errors[0].details["columns"]
    assert import_water_points(b"PK\x03\x04broken", "a.xlsx").errors[0].code == "unreadable_file"
    assert import_water_points(csv_bytes(), "a.csv").errors[0].code == "empty_file"


def test_a_user_imports_only_into_villages_within_their_area(users, tree, db):
    result = import_water_points(csv_bytes(f"{B1},白沙溪,river,30.38,119.58,,,,,,,,,,,"), "a.csv",
                                 actor=users.township_officer)
    assert [error.code for error in result.errors] == ["unknown_village"]
    assert count(db) == 0


def test_a_far_row_is_imported_and_flagged(positioned_tree, db):
    result = import_water_points(csv_bytes(f"{A1},远塘,pond,39.9,116.4,,,,,,,,,,,",
                                           f"{A1},近塘,pond,30.24,119.71,,,,,,,,,,,"), "a.csv")
    assert result.ok and result.flagged == 1
    flagged = db.session.scalars(select(WaterPoint.name).where(WaterPoint.needs_position_check.is_(True))).all()
    assert flagged == ["远塘"]


@pytest.mark.parametrize("role, status", [("admin", 200), ("county_officer", 200), ("township_officer", 200),
                                          ("village_reporter", 403), ("inspector", 403), ("viewer", 403)])
def test_the_import_page_is_for_the_office_and_townships(login, role, status):
    assert login(role).get("/water/import").status_code == status


def test_the_web_import_lists_the_errors_in_chinese(as_county_officer, tree, db):
    response = as_county_officer.post_form("/water/import", {
        "file": (io.BytesIO(csv_bytes(f"{A1},村口池塘,pond,abc,119.71,,,,,,,,,,,")), "p.csv")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "未导入任何数据" in page and "不是数字" in page
    assert count(db) == 0


def test_the_web_import_creates_the_points(as_township_officer, tree, db):
    response = as_township_officer.post_form("/water/import", {
        "file": (io.BytesIO(csv_bytes(f"{A1},村口池塘,pond,30.24,119.71,,,,,,,,,,,")), "p.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200 and "导入成功" in response.get_data(as_text=True)
    assert count(db) == 1


def test_the_cli_imports_a_file(app, tree, db, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(f"{A1},村口池塘,pond,30.24,119.71,,,,,,,,,,,"))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(f"{A1},村口池塘,pond,91,119.71,,,,,,,,,,,"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["water", "import", str(bad), "--lang", "en"])
    assert result.exit_code == 1 and "Line 2" in result.output
    result = runner.invoke(args=["water", "import", str(good)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert count(db) == 1


def test_an_exported_csv_imports_again_unchanged(as_county_officer, tree, db):
    from tests.water.conftest import FORMULA_NAME

    make_point(tree.village_a1, "村口池塘", responsible_phone="+8613800000000", notes=FORMULA_NAME)
    db.session.commit()
    exported = as_county_officer.get("/water/export.csv").get_data()
    result = import_water_points(exported, "export.csv")
    assert result.ok, result.errors
    assert (result.created, result.updated) == (0, 1)
    db.session.expire_all()
    point = db.session.scalar(select(WaterPoint))
    assert (point.responsible_phone, point.notes) == ("+8613800000000", FORMULA_NAME)
