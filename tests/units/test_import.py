"""Importing the unit tree from CSV or XLSX: all rows or none, every bad row named with its line."""
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditRecord
from campaign.units.models import Unit
from tests import factories
from tests.units.conftest import (
    csv_bytes,
    reasons,
    unit_by_code,
    unit_by_name,
    unit_count,
    xlsx_bytes,
)

DEMO_CSV = Path(__file__).resolve().parents[2] / "campaign" / "demo" / "data" / "linan-district-units.csv"

SMALL_TREE = (
    "330100000000,杭州市,city,",
    "330112000000,临安区,county,330100000000",
    "330112002000,玲珑街道,township,330112000000",
    "330112002235,夏禹桥村委会,village,330112002000",
    "330112002001,玲珑山社区,community,330112002000",
    ",玲珑中学,school,330112002000",
)


def test_a_clean_file_builds_the_tree_with_paths_and_depths(run_import):
    result = run_import(csv_bytes(*SMALL_TREE))

    assert result.ok and (result.created, result.updated, result.unchanged) == (6, 0, 0)
    city, county, township = (unit_by_code(code) for code in ("330100000000", "330112000000", "330112002000"))
    village = unit_by_code("330112002235")
    school = unit_by_name("玲珑中学")
    assert city.path == f"/{city.id}/" and city.depth == 0 and city.parent_id is None
    assert village.path == f"/{city.id}/{county.id}/{township.id}/{village.id}/" and village.depth == 3
    assert school.parent_id == township.id and school.kind == "school" and school.code is None


def test_the_demo_district_imports_and_reimports_unchanged(run_import):
    first = run_import(DEMO_CSV.read_bytes(), DEMO_CSV.name)
    second = run_import(DEMO_CSV.read_bytes(), DEMO_CSV.name)

    assert first.ok and first.created == unit_count() > 300
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.created)


def test_rows_order_does_not_matter_children_may_come_before_parents(run_import):
    result = run_import(csv_bytes(*reversed(SMALL_TREE)))

    assert result.ok and result.created == 6
    assert unit_by_name("玲珑中学").depth == 3


# --- Each kind of bad row ----------------------------------------------------------------------


def test_unknown_parent_is_reported_with_its_line(run_import):
    result = run_import(csv_bytes("330112000000,临安区,county,", "330112002000,玲珑街道,township,330112999000"))

    assert reasons(result) == [(3, "unknown_parent")]
    assert result.errors[0].value == "330112999000"


def test_duplicate_code_in_the_file_names_both_lines(run_import):
    result = run_import(csv_bytes(
        "330112000000,临安区,county,",
        "330112002000,玲珑街道,township,330112000000",
        "330112002000,锦南街道,township,330112000000",
    ))

    assert reasons(result) == [(4, "duplicate_code")]
    assert result.errors[0].details == {"first_line": 3}


@pytest.mark.parametrize("code", ["33011200200", "3301120020001", "33011200200X"])
def test_a_code_that_is_not_12_digits_is_refused(run_import, code):
    result = run_import(csv_bytes("330112000000,临安区,county,", f"{code},玲珑街道,township,330112000000"))

    assert reasons(result) == [(3, "bad_code")]
    assert result.errors[0].value == code


def test_unknown_kind_is_refused(run_import):
    result = run_import(csv_bytes("330112000000,临安区,county,", "330112002000,玲珑街道,hamlet,330112000000"))

    assert reasons(result) == [(3, "unknown_kind")]
    assert result.errors[0].column == "kind" and result.errors[0].value == "hamlet"


def test_a_cycle_through_parent_codes_is_reported_on_every_row_of_it(run_import):
    result = run_import(csv_bytes(
        "330112000000,临安区,county,",
        "330112002000,玲珑街道,township,330112002235",
        "330112002235,夏禹桥村委会,village,330112002000",
    ))

    assert reasons(result) == [(3, "cycle"), (4, "cycle")]


def test_a_unit_that_is_its_own_parent_is_a_cycle(run_import):
    result = run_import(csv_bytes("330112000000,临安区,county,330112000000"))

    assert reasons(result) == [(2, "cycle")]


def test_moving_a_stored_unit_under_its_own_descendant_is_a_cycle(run_import, tree):
    result = run_import(csv_bytes("330112002000,玲珑街道,township,330112002235"))

    assert reasons(result) == [(2, "cycle")]
    assert unit_by_code("330112002000").parent_id == tree.county.id


def test_an_empty_name_is_refused(run_import):
    result = run_import(csv_bytes("330112000000,临安区,county,", "330112002000,  ,township,330112000000"))

    assert reasons(result) == [(3, "name_required")]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("households", "many", "bad_count"),
        ("households", "-3", "bad_count"),
        ("students", "12.5", "bad_count"),
        ("latitude", "north", "bad_latitude"),
        ("latitude", "91", "bad_latitude"),
        ("longitude", "-181", "bad_longitude"),
        ("longitude", "nan", "bad_longitude"),
    ],
)
def test_a_bad_number_is_refused(run_import, column, value, code):
    result = run_import(csv_bytes(
        "330112000000,临安区,county,",
        f"330112002000,玲珑街道,township,330112000000,{value}",
        header=f"code,name,kind,parent_code,{column}",
    ))

    assert reasons(result) == [(3, code)]
    assert result.errors[0].column == column and result.errors[0].value == value


def test_good_numbers_are_kept(run_import):
    result = run_import(csv_bytes(
        "330112000000,临安区,county,,,,",
        "330112002235,夏禹桥村委会,village,330112000000,420,30.2345,119.7261",
        header="code,name,kind,parent_code,households,latitude,longitude",
    ))

    village = unit_by_code("330112002235")
    assert result.ok
    assert (village.households, village.latitude, village.longitude) == (420, 30.2345, 119.7261)


def test_two_codeless_units_with_the_same_name_under_one_parent_are_refused(run_import):
    result = run_import(csv_bytes(
        "330112002000,玲珑街道,township,",
        ",玲珑中学,school,330112002000",
        ",玲珑中学,school,330112002000",
    ))

    assert reasons(result) == [(4, "duplicate_name")]
    assert result.errors[0].details == {"first_line": 3}


def test_a_new_unit_may_not_take_the_name_of_a_stored_sibling(run_import, tree):
    result = run_import(csv_bytes("330112002999,夏禹桥村委会,village,330112002000"))

    assert reasons(result) == [(2, "name_taken")]


def test_a_missing_required_column_is_one_error_for_the_file(run_import):
    result = run_import(csv_bytes("330112000000,临安区,", header="code,name,parent_code"))

    assert reasons(result) == [(1, "missing_columns")]
    assert result.errors[0].details == {"columns": "类型 (kind)"}


def test_an_unreadable_file_is_refused(run_import):
    result = run_import(b"PK\x03\x04 not really a workbook", "units.xlsx")

    assert reasons(result) == [(1, "unreadable_file")]


def test_every_bad_row_is_listed_and_nothing_is_imported(run_import, tree, db):
    before = unit_count()
    result = run_import(csv_bytes(
        "330112002999,新村,village,330112002000",
        "330112002998,,village,330112002000",
        "",
        "12345,短码村,village,330112002000",
        "330112002997,怪村,hamlet,330112002000",
        "330112002996,远村,village,330199999999",
    ))

    assert reasons(result) == [(3, "name_required"), (5, "bad_code"), (6, "unknown_kind"), (7, "unknown_parent")]
    assert unit_count() == before
    assert unit_by_code("330112002999") is None
    assert db.session.scalar(select(AuditRecord).where(AuditRecord.action == "unit.import")) is None


# --- Encodings, formats, Chinese ---------------------------------------------------------------


def test_a_gb18030_csv_as_excel_in_china_writes_it_imports(run_import):
    data = csv_bytes("330112000000,临安区,县,", "330112002000,玲珑街道,街道,330112000000",
                     header="区划代码,名称,类型,上级代码", encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    result = run_import(data)

    assert result.ok and result.created == 2
    assert unit_by_code("330112002000").name == "玲珑街道"


def test_a_gbk_csv_imports(run_import):
    result = run_import(csv_bytes("330112000000,临安区,county,", encoding="gbk"))

    assert result.ok and unit_by_code("330112000000").name == "临安区"


def test_a_utf8_csv_with_bom_imports(run_import):
    data = b"\xef\xbb\xbf" + csv_bytes("330112000000,临安区,county,")

    result = run_import(data)

    assert result.ok and unit_by_code("330112000000").name == "临安区"


def test_an_xlsx_workbook_imports_with_codes_kept_as_text(run_import):
    data = xlsx_bytes([
        {"区划代码": "330112000000", "单位名称": "临安区", "单位类型": "区", "上级区划代码": "", "户数": ""},
        {"区划代码": "330112002235", "单位名称": "夏禹桥村委会", "单位类型": "行政村", "上级区划代码": "330112000000",
         "户数": 420},
        {"区划代码": "", "单位名称": "区气象局", "单位类型": "部门", "上级区划代码": "330112000000", "户数": ""},
    ])

    result = run_import(data, "units.xlsx")

    assert result.ok and result.created == 3
    assert unit_by_code("330112002235").households == 420
    assert unit_by_name("区气象局").kind == "agency"


def test_errors_in_an_xlsx_workbook_carry_excel_line_numbers(run_import):
    data = xlsx_bytes([
        {"code": "330112000000", "name": "临安区", "kind": "county", "parent_code": ""},
        {"code": "", "name": "", "kind": "", "parent_code": ""},
        {"code": "330112002235", "name": "夏禹桥村委会", "kind": "village", "parent_code": "330112000001"},
    ])

    result = run_import(data, "units.xlsx")

    assert reasons(result) == [(4, "unknown_parent")]


def test_chinese_headers_and_kind_names_are_understood(run_import):
    header = "代码,单位名称,单位类型,上级区划代码,联系人,电话,学生数,类别"
    result = run_import(csv_bytes(
        "330000000000,浙江省,省,,,,,",
        "330100000000,杭州市,市,330000000000,,,,",
        "330112000000,临安区,县区,330100000000,,,,",
        "330112002000,玲珑街道,乡镇,330112000000,,,,",
        "330112002235,夏禹桥村委会,村,330112002000,王五,0571-1234567,,",
        "330112002001,玲珑山社区,社区,330112002000,,,,",
        ",玲珑中学,学校,330112002000,,,900,",
        ",玲珑幼儿园,幼儿园,330112002000,,,120,",
        ",中国移动临安分公司,单位,330112000000,,,,carrier",
        header=header,
    ))

    assert result.ok and result.created == 9
    kinds = {unit.name: unit.kind for unit in (unit_by_name(name) for name in (
        "浙江省", "杭州市", "临安区", "玲珑街道", "夏禹桥村委会", "玲珑山社区", "玲珑中学", "玲珑幼儿园", "中国移动临安分公司"))}
    assert list(kinds.values()) == ["province", "city", "county", "township", "village", "community", "school",
                                    "kindergarten", "agency"]
    village = unit_by_code("330112002235")
    assert (village.contact_name, village.phone) == ("王五", "0571-1234567")
    assert unit_by_name("玲珑中学").students == 900
    assert unit_by_name("中国移动临安分公司").category == "carrier"


# --- Re-import, updates, moves ------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(run_import, db):
    run_import(csv_bytes(*SMALL_TREE))
    stamps = dict(db.session.execute(select(Unit.id, Unit.updated_at)).all())
    audits = db.session.query(AuditRecord).count()

    result = run_import(csv_bytes(*SMALL_TREE))

    assert (result.created, result.updated, result.unchanged) == (0, 0, 6)
    assert dict(db.session.execute(select(Unit.id, Unit.updated_at)).all()) == stamps
    assert db.session.query(AuditRecord).count() == audits


def test_a_changed_row_updates_the_unit_with_that_code_and_is_audited(run_import, tree, db):
    result = run_import(csv_bytes(
        "330112002235,夏禹桥村,village,330112002000,李四,13800000000,450",
        "330112002236,前山村委会,village,330112002000,,,310",
        header="code,name,kind,parent_code,contact_name,phone,households",
    ))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    village = db.session.get(Unit, tree.village_a1.id)
    assert (village.name, village.contact_name, village.phone, village.households) == ("夏禹桥村", "李四", "13800000000", 450)
    entry = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "unit.update"))
    assert entry.entity_id == str(village.id)
    assert entry.before["name"] == "夏禹桥村委会" and entry.after["name"] == "夏禹桥村"
    summary = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "unit.import"))
    assert summary.after["updated"] == 1 and summary.after["created"] == 0


def test_columns_absent_from_the_file_are_left_alone(run_import, tree, db):
    result = run_import(csv_bytes("330112002235,夏禹桥村委会,village,330112002000"))

    assert result.unchanged == 1
    assert db.session.get(Unit, tree.village_a1.id).households == 420


def test_moving_a_unit_updates_the_paths_of_its_whole_subtree(run_import, tree, db):
    result = run_import(csv_bytes("330112002000,玲珑街道,township,330112101000"))

    assert (result.updated, result.moved) == (1, 1)
    township_a = db.session.get(Unit, tree.township_a.id)
    village = db.session.get(Unit, tree.village_a1.id)
    school = db.session.get(Unit, tree.school_a.id)
    assert township_a.parent_id == tree.township_b.id
    assert township_a.path == f"/{tree.county.id}/{tree.township_b.id}/{tree.township_a.id}/"
    assert village.path == f"{township_a.path}{tree.village_a1.id}/" and village.depth == 3
    assert school.path == f"{township_a.path}{tree.school_a.id}/" and school.depth == 3
    assert db.session.get(Unit, tree.village_b1.id).path == f"/{tree.county.id}/{tree.township_b.id}/{tree.village_b1.id}/"


def test_a_unit_moves_under_a_new_parent_from_the_same_file(run_import, tree, db):
    result = run_import(csv_bytes(
        "330100000000,杭州市,city,",
        "330112000000,临安区,county,330100000000",
    ))

    assert (result.created, result.updated, result.moved) == (1, 1, 1)
    city = unit_by_code("330100000000")
    village = db.session.get(Unit, tree.village_a1.id)
    assert village.path == f"/{city.id}/{tree.county.id}/{tree.township_a.id}/{village.id}/"
    assert village.depth == 3


def test_a_codeless_row_is_matched_by_its_name_under_the_same_parent(run_import, tree, db):
    result = run_import(csv_bytes(
        ",玲珑中学,school,330112002000,950",
        ",玲珑中学,school,330112101000,300",
        header="code,name,kind,parent_code,students",
    ))

    assert (result.created, result.updated) == (1, 1)
    assert db.session.get(Unit, tree.school_a.id).students == 950
    twin = db.session.scalar(select(Unit).where(Unit.name == "玲珑中学", Unit.parent_id == tree.township_b.id))
    assert twin.students == 300 and twin.id != tree.school_a.id


def test_a_code_given_later_is_attached_to_the_unit_of_that_name(run_import, tree, db):
    result = run_import(csv_bytes("330112002900,玲珑中学,school,330112002000"))

    assert (result.created, result.updated) == (0, 1)
    assert db.session.get(Unit, tree.school_a.id).code == "330112002900"


def test_the_parent_may_already_be_in_the_database(run_import, tree, db):
    result = run_import(csv_bytes("330112101299,新建村委会,village,330112101000"))

    assert result.created == 1
    village = unit_by_code("330112101299")
    assert village.path == f"{tree.township_b.path}{village.id}/" and village.depth == 2


# --- An office user imports within their own area ------------------------------------------------


def test_a_user_cannot_import_outside_their_area(run_import, users, db):
    other_county = factories.make_unit("county", None, "余杭区", "330110000000")
    db.session.commit()

    result = run_import(csv_bytes(
        "330110000000,余杭区,county,",
        "330110001000,新街道,township,330110000000",
        "330199000000,新区,county,",
        "330112002299,新村,village,330112002000",
    ), actor=users.county_officer)

    assert reasons(result) == [(2, "out_of_scope"), (4, "top_out_of_scope")]
    assert other_county.id and unit_by_code("330112002299") is None


def test_a_parent_outside_the_users_area_is_unknown_to_them(run_import, users, db):
    factories.make_unit("county", None, "余杭区", "330110000000")
    db.session.commit()

    result = run_import(csv_bytes("330110001000,新街道,township,330110000000"), actor=users.county_officer)

    assert reasons(result) == [(2, "unknown_parent")]


def test_a_user_may_reimport_their_own_top_unit_without_its_parent_code(run_import, users):
    result = run_import(csv_bytes("330112000000,临安区,county,", "330112002299,新村,village,330112002000"),
                        actor=users.county_officer)

    assert result.ok and (result.created, result.unchanged) == (1, 1)
