"""The county workbook and the print page: same figures as the dashboard, types, print set-up, scoping."""
import io
import re
from datetime import date, timedelta

import openpyxl
import pandas as pd
import pytest

from campaign.progress.services import campaign_progress
from campaign.summary.cli import export
from campaign.summary.models import TownshipSummary
from campaign.water.models import Hazard, WaterPoint
from tests.progress.dashboard_helpers import hand_built

ALLOWED = ["admin", "county_officer", "township_officer", "inspector", "viewer"]
DENIED = ["village_reporter", "school_reporter", "agency_reporter"]
SHEETS = ["封面", "汇总表", "明细表", "乡镇上报数", "未报及退回单位", "乡镇总结", "水域及隐患"]


@pytest.fixture
def built(db, tree, users):
    return hand_built(tree)


def download(client, built, status=200):
    response = client.get(f"/summary/campaigns/{built.campaign.id}/workbook.xlsx")
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.data


def load(content):
    return openpyxl.load_workbook(io.BytesIO(content))


def read_table(content, sheet_name, **options):
    """A sheet's table, without the blank row and the signature lines under it."""
    return pd.read_excel(io.BytesIO(content), sheet_name=sheet_name, skipfooter=2, **options)


def summary_frame(content):
    return read_table(content, 1, header=[1, 2], index_col=0)


@pytest.mark.parametrize("role", ALLOWED)
def test_roles_with_summary_export_download_the_workbook(built, login, role):
    content = download(login(role), built)
    assert content[:2] == b"PK"


@pytest.mark.parametrize("role", DENIED)
def test_reporters_may_not_download_the_workbook_or_open_the_print_page(built, login, role):
    client = login(role)
    download(client, built, 403)
    assert client.get(f"/summary/campaigns/{built.campaign.id}/print").status_code == 403


def test_a_campaign_out_of_sight_gives_404(db, built, as_county_officer):
    from tests.factories import make_campaign, make_task, make_unit

    county = make_unit("county", None, "桐庐县")
    other = make_campaign(county, status="active")
    make_task(other)
    db.session.commit()
    assert as_county_officer.get(f"/summary/campaigns/{other.id}/workbook.xlsx").status_code == 404
    assert as_county_officer.get(f"/summary/campaigns/{other.id}/print").status_code == 404
    assert as_county_officer.get("/summary/campaigns/99999/print").status_code == 404


def test_the_workbook_has_the_form_sheets(built, as_county_officer):
    assert load(download(as_county_officer, built)).sheetnames == SHEETS[:6]  # no water points: no water sheet


def test_the_summary_sheet_figures_equal_the_dashboards(built, tree, as_county_officer):
    frame = summary_frame(download(as_county_officer, built))
    progress = campaign_progress(built.campaign, tree.county)

    for row in progress.rows:
        for task in progress.tasks:
            figures = row.cells.get(task.id)
            if figures is None:
                continue
            cells = frame.loc[row.name, frame.columns.get_level_values(0).str.startswith(task.title)]
            second = figures.target_total if task.is_quantity else figures.expected - figures.reported
            assert list(cells.iloc[:7]) == [
                figures.expected, figures.submitted, figures.late, figures.missing, figures.returned,
                figures.reported, second,
            ]
            rate = cells.iloc[7]
            assert rate == "—" if figures.pct_reached is None else rate == pytest.approx(figures.pct_reached)
    totals = frame.loc["合计"]
    signs = totals[[c for c in frame.columns if c[0].startswith(built.signs.title)]]
    # 应报 4, 已上报 2, 逾期 1, 未报 1, 已退回 1, 上报数量 15, 目标 40, 完成率 37.5 %
    assert list(signs) == [4, 2, 1, 1, 1, 15, 40, pytest.approx(0.375)]


def test_the_detail_sheet_has_one_row_per_unit_with_its_township(built, as_county_officer):
    frame = read_table(download(as_county_officer, built), 2, header=[1, 2])
    units = {(row.iloc[0], row.iloc[1]) for _, row in frame.iterrows()}
    assert units == {("玲珑街道", "夏禹桥村委会"), ("玲珑街道", "前山村委会"), ("玲珑街道", "玲珑山社区"),
                     ("太湖源镇", "白沙村委会"), ("太湖源镇", "太湖源幼儿园")}
    a2 = frame[frame.iloc[:, 1] == "前山村委会"].iloc[0]
    signs = [value for column, value in a2.items() if column[0].startswith(built.signs.title)]
    assert signs == [4, 10, pytest.approx(0.4), "逾期"]


def test_numbers_are_numbers_and_percentages_are_formatted(built, as_county_officer):
    sheet = load(download(as_county_officer, built))["汇总表"]
    reported, rate = sheet.cell(4, 7), sheet.cell(4, 9)
    assert reported.data_type == "n" and isinstance(reported.value, int)
    assert rate.data_type == "n" and rate.number_format == "0.0%"
    assert sheet.cell(4, 1).font.name == "宋体"
    assert sheet.cell(4, 2).border.left.style == "thin"


def test_a_unit_named_like_a_formula_stays_text(db, built, tree, as_county_officer):
    tree.village_b1.name = '=HYPERLINK("http://x","y")'
    tree.village_b1.contact_name = "http://evil.example"
    db.session.commit()

    book = load(download(as_county_officer, built))

    detail = [cell for row in book["明细表"].iter_rows() for cell in row if cell.value == tree.village_b1.name]
    late = [cell for row in book["未报及退回单位"].iter_rows() for cell in row if cell.value == tree.village_b1.name]
    assert detail and late
    assert all(cell.data_type == "s" for cell in detail + late)
    contact = [cell for row in book["未报及退回单位"].iter_rows() for cell in row if cell.value == "http://evil.example"]
    assert contact and contact[0].hyperlink is None


def test_every_sheet_prints_on_a4_landscape_numbered_per_sheet_with_repeated_headers(built, as_county_officer):
    book = load(download(as_county_officer, built))
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert int(sheet.page_setup.paperSize) == 9
        assert sheet.page_setup.useFirstPageNumber  # page 1 on every sheet
        assert "&A" in sheet.oddFooter.center.text and "第 &P 页" in sheet.oddFooter.center.text
    assert book["汇总表"].print_title_rows == "$2:$3" and book["汇总表"].print_title_cols == "$A:$A"
    assert book["明细表"].print_title_rows == "$2:$3" and book["明细表"].print_title_cols == "$A:$C"
    assert book["未报及退回单位"].print_title_rows == "$2:$2"


def test_the_summary_sheet_has_merged_two_level_headers(built, as_county_officer):
    sheet = load(download(as_county_officer, built))["汇总表"]
    merged = {str(rng) for rng in sheet.merged_cells.ranges}
    assert "A1:Q1" in merged  # the title over the first printed page: the unit column and two tasks of 8
    assert "A2:A3" in merged and "B2:I2" in merged
    assert sheet["B2"].value.startswith(built.signs.title)
    assert sheet["G3"].value == "上报数量\n（块）"


def test_the_cover_says_what_when_and_by_whom(built, users, as_county_officer):
    sheet = load(download(as_county_officer, built))["封面"]
    facts = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=3)}
    assert facts["专项行动"] == built.campaign.title
    assert facts["汇编人"] == users.county_officer.display_name
    assert facts["汇编时间"][:4].isdigit()


def test_the_late_sheet_lists_units_not_in_with_contact_and_phone(db, built, tree, as_county_officer):
    tree.village_b1.contact_name = "李四"
    tree.village_b1.phone = "13900000000"
    db.session.commit()
    frame = read_table(download(as_county_officer, built), 4, header=1, dtype=str)
    b1 = frame[frame["单位"] == "白沙村委会"].iloc[0]
    assert (b1["乡镇（街道）"], b1["联系人"], b1["联系电话"], b1["状态"]) == ("太湖源镇", "李四", "13900000000", "未填报")
    assert len(frame) == 3


def test_the_narratives_sheet_has_every_township_empty_when_none(db, built, tree, as_county_officer):
    db.session.add(TownshipSummary(campaign=built.campaign, unit=tree.township_a, work_done="悬挂横幅20条",
                                   problems="=1+1", status="submitted"))
    db.session.commit()
    sheet = load(download(as_county_officer, built))["乡镇总结"]
    # A township per four rows: 主要工作, 亮点特色, 存在问题, 下步打算
    assert (sheet["A3"].value, sheet["B3"].value) == ("玲珑街道", "已上报")
    assert [sheet.cell(row, 4).value for row in range(3, 7)] == ["主要工作", "亮点特色", "存在问题", "下步打算"]
    assert sheet["E3"].value == "悬挂横幅20条" and sheet["E5"].value == "=1+1" and sheet["E5"].data_type == "s"
    assert (sheet["A7"].value, sheet["B7"].value) == ("太湖源镇", "未填报")
    assert sheet["E7"].value in (None, "")


def test_the_water_sheet_counts_points_and_hazards_per_township(db, built, tree, as_county_officer):
    pond = WaterPoint(unit=tree.village_a1, name="山塘", kind="pond", latitude=30.2, longitude=119.7,
                      is_key=True, has_permanent_sign=False)
    river = WaterPoint(unit=tree.village_a2, name="溪", kind="river", latitude=30.2, longitude=119.7,
                       has_permanent_sign=True)
    db.session.add_all([pond, river])
    db.session.flush()
    db.session.add_all([
        Hazard(water_point=pond, found_on=date(2026, 1, 1), description="护栏缺失", owner_name="王五",
               rectify_by=date.today() - timedelta(days=3)),
        Hazard(water_point=river, found_on=date(2026, 1, 1), description="标牌破损", owner_name="王五",
               rectify_by=date.today() + timedelta(days=30)),
        Hazard(water_point=river, found_on=date(2026, 1, 1), description="已整改", owner_name="王五",
               rectify_by=date.today() - timedelta(days=30), status="closed"),
    ])
    db.session.commit()
    sheet = load(download(as_county_officer, built))["水域及隐患"]
    assert [cell.value for cell in sheet[3]] == ["玲珑街道", 2, 1, 1, 2, 1]
    assert [cell.value for cell in sheet[4]] == ["合计", 2, 1, 1, 2, 1]


def test_a_township_officers_workbook_has_only_their_township(built, as_township_officer):
    book = load(download(as_township_officer, built))
    names = {cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    assert "夏禹桥村委会" in names and "白沙村委会" not in names and "太湖源镇" not in names


def test_the_print_page_shows_the_same_totals(built, as_county_officer):
    response = as_county_officer.get(f"/summary/campaigns/{built.campaign.id}/print")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "size: A4 landscape" in open("static/css/summary-print.css", encoding="utf-8").read()
    assert "summary-print.css" in html
    signs = html.split(built.signs.title, 1)[1].split("</table>")[0]
    total = re.sub(r"\s+", "", signs.split('<tr class="total">')[1])
    figures = re.findall(r'<tdclass="num">([^<]*)</td>', total)
    # 应报 4, 已上报 2, 按时 2, 逾期 1, 未报 1, 已退回 1, 上报数量 15, 目标 40, 完成率 37.5 %, 达标 1
    assert figures == ["4", "2", "2", "1", "1", "1", "15", "40", "37.5%", "1"]


def test_the_print_page_is_scoped(built, as_township_officer):
    html = as_township_officer.get(f"/summary/campaigns/{built.campaign.id}/print").get_data(as_text=True)
    assert "夏禹桥村委会" in html and "白沙村委会" not in html


def test_the_cli_exports_the_whole_campaign(app, built, tmp_path):
    output = tmp_path / "county.xlsx"
    result = app.test_cli_runner().invoke(export, [str(built.campaign.id), "--output", str(output)])
    assert result.exit_code == 0, result.output
    frame = summary_frame(output.read_bytes())
    assert set(frame.index) == {"玲珑街道", "太湖源镇", "合计"}


def test_the_cli_refuses_an_unknown_campaign_and_a_bad_file_name(app, built, tmp_path):
    runner = app.test_cli_runner()
    unknown = runner.invoke(export, ["99999", "--output", str(tmp_path / "x.xlsx")])
    assert unknown.exit_code != 0 and "99999" in unknown.output
    wrong = runner.invoke(export, [str(built.campaign.id), "--output", str(tmp_path / "x.csv")])
    assert wrong.exit_code != 0 and ".xlsx" in wrong.output


def test_the_print_page_reads_in_chinese(built, as_county_officer):
    html = as_county_officer.get(f"/summary/campaigns/{built.campaign.id}/print").get_data(as_text=True)
    for words in ("汇总表", "未报及退回单位名单", "汇编时间", "达标单位数", "完成率"):
        assert words in html
