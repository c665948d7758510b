"""The two water forms as paper the village hands upward: signature lines, a "无" row when empty,
longitude and latitude apart, headers that wrap whole, and a print set-up that stays legible."""
import io
from datetime import date

import openpyxl
import pytest

from campaign.water import forms_export
from tests.print_checks import assert_legible
from tests.water.conftest import make_patrol, make_point
from tests.water.test_exports import patrol_row, register_row

FILLED_ON = date(2026, 7, 1)


def open_sheet(data: bytes, name=None):
    book = openpyxl.load_workbook(io.BytesIO(data))
    return book[name] if name else book.active


def cell_texts(sheet) -> list[str]:
    return [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]


def signature_text(sheet) -> str:
    return next(text for text in cell_texts(sheet) if text.startswith("填报单位（盖章）"))


@pytest.mark.parametrize("build", [
    lambda **kw: forms_export.register_workbook([register_row()], "village", FILLED_ON, **kw),
    lambda **kw: forms_export.patrol_workbook([patrol_row()], "village", FILLED_ON, **kw),
])
def test_each_form_ends_with_the_signature_lines_filled_from_the_contacts(build):
    sheet = open_sheet(build(contacts={"夏禹桥村委会": ("李四", "13911112222")}))
    text = signature_text(sheet)
    assert "填报单位（盖章）：夏禹桥村委会" in text and "填报人：李四" in text and "联系电话：13911112222" in text
    assert "审核人（负责人）：＿＿" in text and "填报日期：2026年7月1日" in text
    assert sheet.print_area.endswith(f"${sheet.max_row}")


def test_what_the_app_does_not_know_is_a_line_to_sign_on():
    text = signature_text(open_sheet(forms_export.patrol_workbook([patrol_row()], "village", FILLED_ON)))
    assert "填报人：＿＿" in text and "联系电话：＿＿" in text


@pytest.mark.parametrize("build", [forms_export.register_workbook, forms_export.patrol_workbook])
def test_an_empty_form_prints_a_none_row_and_names_its_unit(build):
    sheet = open_sheet(build([], "village", FILLED_ON, area="前山村委会"))
    assert sheet.title == "前山村委会"
    assert sheet["A2"].value == "填报单位：前山村委会"
    first_data_row = 5 if build is forms_export.register_workbook else 4
    assert sheet.cell(first_data_row, 1).value == "无"
    assert any(str(merged).startswith(f"A{first_data_row}:") for merged in sheet.merged_cells.ranges)
    assert "填报单位（盖章）：前山村委会" in signature_text(sheet)


def test_longitude_comes_first_and_says_so():
    sheet = open_sheet(forms_export.register_workbook([register_row(latitude=30.123456, longitude=119.654321)],
                                                      "village", FILLED_ON))
    assert "经度在前" in sheet["E3"].value
    assert [sheet["E4"].value, sheet["F4"].value] == ["经度", "纬度"]
    assert [sheet["E5"].value, sheet["F5"].value] == ["119.654321", "30.123456"]


@pytest.mark.parametrize("build", [
    lambda: forms_export.register_workbook([register_row()], "village", FILLED_ON),
    lambda: forms_export.patrol_workbook([patrol_row()], "township", FILLED_ON),
])
def test_no_header_line_starts_with_a_closing_bracket(build):
    sheet = open_sheet(build())
    headers = [sheet.cell(row, col).value for row in (3, 4) for col in range(1, sheet.max_column + 1)]
    for header in (header for header in headers if isinstance(header, str)):
        for line in header.split("\n"):
            assert not line.startswith(("）", ")")), header
        for unit in ("（个）", "（根）", "（条）", "（块）"):
            if unit in header:
                assert f"\n{unit}" in header  # the unit on a line of its own, never split


@pytest.mark.parametrize("group", ["village", "township"])
def test_the_forms_fit_one_page_wide_at_seventy_percent_or_more(group):
    for data in (forms_export.register_workbook([register_row()], group, FILLED_ON),
                 forms_export.patrol_workbook([patrol_row()], group, FILLED_ON)):
        sheet = open_sheet(data)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert_legible(sheet)
        assert sheet.page_setup.useFirstPageNumber and (sheet.page_setup.firstPageNumber or 1) == 1  # per sheet
        assert "&A" in sheet.oddFooter.center.text and "&N" not in sheet.oddFooter.center.text


def test_rows_grow_with_wrapped_findings():
    long = "发现两名儿童在塘边玩水，已劝离并告知家长，已补设警示牌一块，村里将在周末再次巡查。" * 2
    sheet = open_sheet(forms_export.patrol_workbook([patrol_row(), patrol_row(findings=long)], "village", FILLED_ON))
    short, tall = sheet.row_dimensions[4].height, sheet.row_dimensions[5].height
    assert tall > short >= 20


def test_a_village_reporters_empty_register_names_the_village(db, tree, users, as_village_reporter):
    tree.village_a1.contact_name, tree.village_a1.phone = "王五", "13700001111"
    db.session.commit()
    sheet = open_sheet(as_village_reporter.get("/water/forms?form=register&group=village&key=1").get_data())
    assert sheet.title == "夏禹桥村委会" and sheet["A5"].value == "无"
    text = signature_text(sheet)
    assert "填报单位（盖章）：夏禹桥村委会" in text and "填报人：王五" in text and "13700001111" in text


def test_the_township_form_is_signed_by_the_township(db, tree, users, as_township_officer):
    tree.township_a.contact_name, tree.township_a.phone = "赵六", "0571-63700000"
    make_patrol(make_point(tree.village_a1, is_key=True))
    db.session.commit()
    response = as_township_officer.get("/water/forms?form=patrols&group=township")
    sheet = open_sheet(response.get_data(), "玲珑街道")
    text = signature_text(sheet)
    assert "填报单位（盖章）：玲珑街道" in text and "填报人：赵六" in text and "0571-63700000" in text


def test_an_empty_form_filtered_on_a_village_out_of_reach_names_the_users_unit(db, tree, users,
                                                                               as_township_officer):
    response = as_township_officer.get(f"/water/forms?form=register&group=village&village={tree.village_b1.id}")
    sheet = open_sheet(response.get_data())
    assert sheet["A2"].value == "填报单位：玲珑街道" and "白沙村委会" not in cell_texts(sheet)
