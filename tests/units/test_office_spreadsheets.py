"""Unit trees as offices really keep them: title rows, merged 上级代码 blocks, codes as numbers or
mangled to 3.30112E+11, files too big to read; and the tree exported in the import's own columns."""
import csv
import io
import zipfile

import openpyxl
import pytest
from sqlalchemy import select

from campaign.extensions import db as _db
from campaign.units.importing import import_units
from campaign.units import messages
from campaign.units.models import Unit
from tests.conftest import empty_all_tables
from tests.units.conftest import reasons, unit_by_code, unit_count

HEADER = ["代码", "单位名称", "类型", "上级代码"]
TREE_ROWS = [
    ["330112000000", "临安区", "区", ""],
    ["330112002000", "玲珑街道", "街道", "330112000000"],
    ["330112101000", "太湖源镇", "镇", "330112000000"],
    ["330112002001", "玲珑山社区", "社区", "330112002000"],
    ["330112002235", "夏禹桥村", "村", None],
    ["330112002236", "前山村", "村", None],
    ["330112101201", "白沙村", "村", "330112101000"],
    ["330112101202", "太湖源村", "村", None],
]


def office_xlsx(header, rows, title="临安区行政区划代码表", merges=(), formats=None) -> bytes:
    """A sheet laid out as offices do: a merged title row, the header, the rows; ``merges`` are
    ranges like "D6:D8" merged after the values are in (openpyxl then empties all but the first)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    for ref, number_format in (formats or {}).items():
        sheet[ref].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def import_error_message(error) -> str:
    """The message as the office reads it (Chinese, the default language)."""
    from flask import current_app

    with current_app.test_request_context():
        return messages.import_error_message(error)


def parent_code(code) -> str | None:
    unit = unit_by_code(code)
    return unit.parent.code if unit.parent else None


def test_a_parent_code_merged_per_township_gives_every_village_its_parent(run_import):
    # Rows 6–8 are 玲珑街道's, rows 9–10 太湖源镇's: each block's 上级代码 is one merged cell.
    data = office_xlsx(HEADER, TREE_ROWS, merges=["D6:D8", "D9:D10"])

    result = run_import(data, "区划.xlsx")

    assert result.ok, result.errors
    assert result.created == 8
    assert [parent_code(code) for code in ("330112002001", "330112002235", "330112002236")] == ["330112002000"] * 3
    assert [parent_code(code) for code in ("330112101201", "330112101202")] == ["330112101000"] * 2
    assert _db.session.scalar(select(Unit).where(Unit.parent_id.is_(None))).code == "330112000000"


def test_a_merge_over_two_columns_of_different_meaning_is_refused_with_its_rows(run_import):
    data = office_xlsx(HEADER, TREE_ROWS, merges=["C7:D8"])

    result = run_import(data, "区划.xlsx")

    assert reasons(result) == [(7, "merged_cells")]
    assert result.errors[0].details == {"first_line": 7, "last_line": 8, "columns": "类型, 上级代码"}
    assert unit_count() == 0


def test_rows_are_numbered_as_the_spreadsheet_numbers_them_and_columns_named_as_the_file_names_them(
        as_county_officer, tree):
    rows = [["330112002237", "", "村", "330112002000"], ["330112002238", "新村", "村", "330112009999"]]
    data = office_xlsx(["单位代码", "单位名称", "单位类型", "上级区划代码"], rows)

    page = as_county_officer.post_form("/units/import", {"file": (io.BytesIO(data), "新村.xlsx")},
                                       content_type="multipart/form-data").get_data(as_text=True)

    assert "<td>3</td>\n      <td>单位名称</td>" in page
    assert "<td>4</td>\n      <td>上级区划代码</td>" in page
    assert "名称为空。" in page and "没有上级代码为“330112009999”的单位" in page


def test_a_chinese_header_csv_in_gb18030_below_two_title_rows_imports(run_import):
    lines = ["临安区行政区划代码表,,,", "填报单位：临安区民政局,,,", ",".join(HEADER),
             *(",".join(cell or "" for cell in row) for row in TREE_ROWS[:4])]
    data = "\r\n".join(lines).encode("gb18030")

    result = run_import(data, "区划.csv")

    assert result.ok, result.errors
    assert result.headers["parent_code"] == "上级代码"
    assert parent_code("330112002001") == "330112002000"


def test_codes_stored_as_numbers_are_read_as_twelve_digits(run_import):
    rows = [[330112000000, "临安区", "区", None], [330112002000.0, "玲珑街道", "街道", 330112000000]]

    result = run_import(office_xlsx(HEADER, rows), "区划.xlsx")

    assert result.ok, result.errors
    assert parent_code("330112002000") == "330112000000"


def test_codes_a_spreadsheet_turned_into_scientific_notation_are_refused_with_the_way_out(run_import):
    data = "代码,名称,类型,上级代码\r\n3.30112E+11,临安区,区,\r\n3.30112E+11,玲珑街道,街道,3.30112E+11\r\n".encode()

    result = run_import(data, "区划.csv")

    assert reasons(result) == [(2, "scientific_code"), (3, "scientific_code"), (3, "scientific_code")]
    message = import_error_message(result.errors[0])
    assert "“代码”列" in message and "科学计数" in message and "文本" in message


def test_a_number_shown_in_scientific_format_in_an_xlsx_is_refused_too(run_import):
    rows = [[330112000000, "临安区", "区", None]]

    result = run_import(office_xlsx(HEADER, rows, formats={"A3": "0.00E+00"}), "区划.xlsx")

    assert reasons(result) == [(3, "scientific_code")]


def test_a_file_without_the_header_row_names_the_columns_it_needs_in_chinese(run_import):
    result = run_import(office_xlsx(["序号", "单位"], [[1, "临安区"]]), "区划.xlsx")

    assert reasons(result) == [(1, "missing_columns")]
    assert "代码 (code), 名称 (name), 类型 (kind), 上级代码 (parent_code)" in import_error_message(result.errors[0])


# --- Bounds ------------------------------------------------------------------------------------


def zip_bomb(rows=200_000) -> bytes:
    """A valid XLSX of a few hundred KB whose sheet unpacks to about 45 MB of XML."""
    source = zipfile.ZipFile(io.BytesIO(office_xlsx(HEADER, [])))
    cells = "".join('<c t="inlineStr"><is><t>330112002001</t></is></c>' for _ in "ABCDE")
    body = f"<row>{cells}</row>" * rows
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for member in source.infolist():
            data = sheet.encode() if member.filename == "xl/worksheets/sheet1.xml" else source.read(member)
            bomb.writestr(member.filename, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb():
    return zip_bomb()


def test_an_xlsx_that_unpacks_hundreds_of_times_its_size_is_refused_unread(run_import, bomb):
    assert len(bomb) < 1_000_000

    result = run_import(bomb, "区划.xlsx")

    assert reasons(result) == [(1, "packed_too_tight")]
    assert "100 倍" in import_error_message(result.errors[0])


@pytest.mark.parametrize("url", ["/units/import", "/water/import"])
def test_the_zip_bomb_posted_to_an_import_page_gets_a_clear_answer(as_county_officer, bomb, url):
    response = as_county_officer.post_form(url, {"file": (io.BytesIO(bomb), "bomb.xlsx")},
                                           content_type="multipart/form-data")

    assert response.status_code == 200
    assert "解压后超过原大小的 100 倍" in response.get_data(as_text=True)


@pytest.mark.parametrize("limit, value, code", [
    ("TABLE_MAX_ROWS", 3, "too_many_rows"),
    ("TABLE_MAX_CELLS", 20, "too_many_cells"),
    ("TABLE_MAX_UNPACKED_MB", 0.001, "unpacks_too_large"),
    ("TABLE_MAX_FILE_MB", 0.001, "file_too_large"),
])
def test_each_limit_refuses_the_file_and_says_which_limit(app, run_import, monkeypatch, limit, value, code):
    monkeypatch.setitem(app.config, limit, value)

    result = run_import(office_xlsx(HEADER, TREE_ROWS), "区划.xlsx")

    assert reasons(result) == [(1, code)]
    assert str(value) in import_error_message(result.errors[0])
    assert unit_count() == 0


def test_a_csv_past_the_row_limit_is_refused(app, run_import, monkeypatch):
    monkeypatch.setitem(app.config, "TABLE_MAX_ROWS", 3)
    data = "\n".join([",".join(HEADER), *(",".join(cell or "" for cell in row) for row in TREE_ROWS)]).encode()

    assert reasons(run_import(data, "区划.csv")) == [(1, "too_many_rows")]


# --- Export ------------------------------------------------------------------------------------


def tree_shape() -> set:
    return {(unit.code, unit.name, unit.kind, unit.parent.name if unit.parent else None, unit.households,
             unit.students, unit.category) for unit in _db.session.scalars(select(Unit))}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_exported_tree_reimports_into_the_same_database_unchanged(as_county_officer, county_officer_user, fmt):
    data = as_county_officer.get(f"/units/export.{fmt}").get_data()

    result = import_units(data, f"units.{fmt}", actor=county_officer_user)

    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (0, 0, unit_count())


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_exported_tree_rebuilds_itself_in_an_empty_database(as_county_officer, users, fmt):
    before = tree_shape()
    data = as_county_officer.get(f"/units/export.{fmt}").get_data()
    _db.session.remove()
    empty_all_tables(_db.engine)

    result = import_units(data, f"units.{fmt}")
    _db.session.commit()

    assert result.ok, result.errors
    assert tree_shape() == before


def test_the_export_writes_chinese_headers_labels_and_codes_as_text(as_county_officer):
    sheet = openpyxl.load_workbook(io.BytesIO(as_county_officer.get("/units/export.xlsx").get_data())).active
    rows = list(sheet.iter_rows(values_only=True))

    assert rows[0][:5] == ("代码", "单位名称", "类型", "上级代码", "上级单位")
    assert rows[1][:4] == ("330112000000", "临安区", "县（区）", None)
    village = next(row for row in rows if row[1] == "夏禹桥村委会")
    assert village[:5] == ("330112002235", "夏禹桥村委会", "行政村", "330112002000", "玲珑街道")
    assert sheet["A2"].data_type == "s"


def test_the_csv_export_protects_codes_with_a_leading_tab(as_county_officer):
    text = as_county_officer.get("/units/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))

    assert rows[0][:4] == ["代码", "单位名称", "类型", "上级代码"]
    village = next(row for row in rows if row[1] == "夏禹桥村委会")
    assert village[0] == "\t330112002235" and village[3] == "\t330112002000"


def test_a_township_officer_exports_only_the_township(as_township_officer):
    text = as_township_officer.get("/units/export.csv").get_data().decode("utf-8-sig")

    assert "玲珑街道" in text and "夏禹桥村委会" in text
    assert "太湖源镇" not in text and "白沙村委会" not in text


@pytest.mark.parametrize("role, status", [
    ("admin", 200), ("county_officer", 200), ("township_officer", 200), ("village_reporter", 403),
    ("school_reporter", 403), ("agency_reporter", 403), ("inspector", 403), ("viewer", 403),
])
def test_who_may_export_the_tree(login, role, status):
    assert login(role).get("/units/export.xlsx").status_code == status


def test_a_unit_outside_the_area_or_an_unknown_format_is_not_found(as_township_officer, tree):
    assert as_township_officer.get(f"/units/export.xlsx?unit={tree.township_b.id}").status_code == 404
    assert as_township_officer.get("/units/export.pdf").status_code == 404


def test_the_unit_page_offers_the_export_to_those_who_may_use_it(as_county_officer, as_viewer, tree):
    assert f"/units/export.xlsx?unit={tree.county.id}" in as_county_officer.get("/units/").get_data(as_text=True)
    assert "/units/export.xlsx" not in as_viewer.get("/units/").get_data(as_text=True)


@pytest.fixture
def county_officer_user(users):
    return users.county_officer


def test_categories_written_as_words_are_stored_as_the_fixed_list_knows_them(run_import):
    data = ("代码,名称,类型,上级代码,类别,户数\n"
            "330112000000,临安区,区,,,\n"
            ",玲珑小学,学校,330112000000,小学,\n"
            ",中国移动临安分公司,机关单位,330112000000,通信运营商,\n"
            ",区气象局,机关单位,330112000000,Weather bureau,\n"
            ",区博物馆,机关单位,330112000000,博物馆,\n").encode()

    result = run_import(data, "单位.csv")

    assert result.ok, result.errors
    categories = dict(_db.session.execute(select(Unit.name, Unit.category)).all())
    assert categories["玲珑小学"] == "primary"
    assert categories["中国移动临安分公司"] == "carrier"
    assert categories["区气象局"] == "weather"
    assert categories["区博物馆"] == "博物馆"  # not in the list: kept as the office wrote it


def test_a_count_in_superscript_digits_is_refused_not_a_crash(run_import):
    data = "代码,名称,类型,上级代码,户数\n330112000000,临安区,区,,²\n".encode()

    result = run_import(data, "单位.csv")

    assert not result.ok and reasons(result) == [(2, "bad_count")]
