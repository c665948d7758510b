"""The county workbook as paper: legible on every sheet, titled with its scope, signed, rows as tall
as their text, the townships' own figures, how each task is measured, and natural order."""
import io
import re
import shutil
import subprocess

import openpyxl
import pytest

from campaign.summary.cli import export
from campaign.summary.township import save_summary
from campaign.water.models import WaterPoint
from tests.factories import make_campaign, make_task, make_unit
from tests.print_checks import assert_legible, page_spans
from tests.progress.dashboard_helpers import hand_built, make_report


@pytest.fixture
def built(db, tree, users):
    return hand_built(tree)


def download(client, campaign) -> bytes:
    response = client.get(f"/summary/campaigns/{campaign.id}/workbook.xlsx")
    assert response.status_code == 200
    return response.data


def load(content):
    return openpyxl.load_workbook(io.BytesIO(content))


def texts(sheet) -> list[str]:
    return [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]


def row_of(sheet, first_cell_value) -> int:
    return next(row[0].row for row in sheet.iter_rows() if row[0].value == first_cell_value)


def test_every_sheet_of_the_county_workbook_is_legible(built, as_county_officer):
    for sheet in load(download(as_county_officer, built.campaign)).worksheets:
        assert_legible(sheet)


def test_a_campaign_with_a_dozen_tasks_prints_whole_tasks_per_page_with_the_unit_column(db, tree, users,
                                                                                      as_county_officer):
    campaign = make_campaign(tree.county, status="active")
    tasks = [make_task(campaign, f"任务{index}", kinds=("village",)) for index in range(12)]
    for task in tasks:
        make_report(campaign, task, tree.village_a1, "submitted", campaign.deadline_at, (3,))
    db.session.commit()
    book = load(download(as_county_officer, campaign))
    for name in ("汇总表", "明细表", "乡镇上报数"):
        sheet = book[name]
        assert not sheet.sheet_properties.pageSetUpPr.fitToPage  # not squeezed to one page wide
        assert int(sheet.page_setup.scale) >= 70
        assert_legible(sheet)
        spans = page_spans(sheet)
        assert len(spans) > 1
        task_starts = {rng.min_col for rng in sheet.merged_cells.ranges if rng.min_row == 2 and rng.max_row == 2}
        for first, _last in spans[1:]:
            assert first + 1 in task_starts  # a page starts at a task, never inside one
    assert book["汇总表"].print_title_cols == "$A:$A"


def test_titles_name_the_campaign_and_the_scope(built, as_county_officer, as_township_officer):
    county = load(download(as_county_officer, built.campaign))
    assert county["汇总表"]["A1"].value == "森林防火宣传月汇总表（临安区）"
    assert county["明细表"]["A1"].value == "森林防火宣传月明细表（临安区）"
    township = load(download(as_township_officer, built.campaign))
    for sheet in township.worksheets:
        assert sheet["A1"].value.startswith("森林防火宣传月") and sheet["A1"].value.endswith("（玲珑街道）")


def test_every_sheet_carries_the_signature_lines(db, built, tree, users, as_county_officer):
    tree.county.phone = "0571-63722222"
    db.session.commit()
    for sheet in load(download(as_county_officer, built.campaign)).worksheets:
        signature = next(text for text in texts(sheet) if text.startswith("填报单位（盖章）"))
        assert "填报单位（盖章）：临安区" in signature, sheet.title
        assert f"填报人：{users.county_officer.display_name}" in signature
        assert "联系电话：0571-63722222" in signature
        assert "审核人（负责人）：＿＿＿" in signature  # the app does not know: a line to sign on
        assert re.search(r"填报日期：\d{4}年\d{1,2}月\d{1,2}日", signature)


def test_rows_are_as_tall_as_their_wrapped_text(db, built, tree, as_county_officer):
    narrative = "全街道围绕森林防火宣传月主题，组织村社开展宣传活动。" * 15  # 375 characters
    save_summary(built.campaign, tree.township_a, actor=None, version=0, narrative={"work_done": narrative},
                 corrections={}, submit=True)
    tree.township_b.name = "太湖源镇（含原横路乡、临目乡、白沙村片区）"
    db.session.commit()
    book = load(download(as_county_officer, built.campaign))
    narratives = book["乡镇总结"]
    assert narratives["E3"].value == narrative
    assert narratives.row_dimensions[3].height > 150  # some 18 lines of text, not one clipped line
    assert narratives.row_dimensions[4].height < 40
    summary = book["汇总表"]
    long_name_row = row_of(summary, tree.township_b.name)
    assert summary.row_dimensions[long_name_row].height > summary.row_dimensions[row_of(summary, "玲珑街道")].height
    assert summary.row_dimensions[2].height >= 24 and summary.row_dimensions[3].height >= 24  # wrapped headers


def test_the_county_sees_the_townships_corrected_figure_and_note(db, built, tree, as_county_officer):
    save_summary(built.campaign, tree.township_a, actor=None, version=0, narrative={"work_done": "已完成"},
                 corrections={built.signs.id: (15, "前山村漏报4块，已补报")}, submit=True)
    db.session.commit()
    sheet = load(download(as_county_officer, built.campaign))["乡镇上报数"]
    assert sheet["A1"].value == "森林防火宣传月乡镇上报数（临安区）"
    assert sheet["C2"].value.startswith(built.signs.title)
    assert [sheet.cell(3, col).value for col in range(3, 7)] == ["村级汇总数", "乡镇更正数", "采用数", "更正说明"]
    township_a = row_of(sheet, "玲珑街道")
    assert [sheet.cell(township_a, col).value for col in range(2, 7)] == [
        "已上报", 11, 15, 15, "前山村漏报4块，已补报"]  # 11: village_a1's approved 6 + 5
    total = row_of(sheet, "合计")
    assert (sheet.cell(total, 3).value, sheet.cell(total, 5).value) == (11, 15)
    assert any("合计按“采用数”相加" in text for text in texts(sheet))


def test_a_correction_still_in_draft_does_not_reach_the_county(db, built, tree, as_county_officer):
    save_summary(built.campaign, tree.township_a, actor=None, version=0, narrative={"work_done": "草稿"},
                 corrections={built.signs.id: (99, "尚未核实")}, submit=False)
    db.session.commit()
    sheet = load(download(as_county_officer, built.campaign))["乡镇上报数"]
    row = row_of(sheet, "玲珑街道")
    assert [sheet.cell(row, col).value or "" for col in range(3, 7)] == [11, "", 11, ""]
    assert "尚未核实" not in texts(sheet)


def test_every_task_says_how_it_is_measured(db, built, as_county_officer):
    make_task(built.campaign, "发放宣传资料", kinds=("village",), target=None, measure_unit="copy")
    db.session.commit()
    headings = {cell.value for cell in load(download(as_county_officer, built.campaign))["汇总表"][2] if cell.value}
    assert {"设置永久性宣传标牌（≥10块）", "制定实施方案（是/否）", "开展安全教育课（≥2节）",
            "发放宣传资料（单位：份）"} <= headings


def test_yes_no_tasks_count_done_and_not_done_and_every_row_says_who_reported(built, as_county_officer):
    sheet = load(download(as_county_officer, built.campaign))["汇总表"]
    plan = next(rng for rng in sheet.merged_cells.ranges if rng.min_row == 2 and
                str(sheet.cell(2, rng.min_col).value).startswith(built.plan.title))
    heads = [sheet.cell(3, col).value for col in range(plan.min_col, plan.max_col + 1)]
    assert heads == ["应报", "已上报", "逾期", "未报", "已退回", "已完成", "未完成", "完成率"]
    row = row_of(sheet, "玲珑街道")
    values = [sheet.cell(row, col).value for col in range(plan.min_col, plan.max_col + 1)]
    assert values == [2, 1, 0, 1, 0, 1, 1, 0.5]  # village_a1 done; village_a2 only a draft


def test_the_detail_sheet_reads_returned_not_zero_on_time(built, as_county_officer):
    sheet = load(download(as_county_officer, built.campaign))["明细表"]
    signs = next(rng for rng in sheet.merged_cells.ranges if rng.min_row == 2 and
                 str(sheet.cell(2, rng.min_col).value).startswith(built.signs.title))
    plan = next(rng for rng in sheet.merged_cells.ranges if rng.min_row == 2 and
                str(sheet.cell(2, rng.min_col).value).startswith(built.plan.title))

    def cells(unit, block):
        row = next(row[0].row for row in sheet.iter_rows() if row[1].value == unit)
        return [sheet.cell(row, col).value for col in range(block.min_col, block.max_col + 1)]

    assert cells("玲珑山社区", signs) == ["—", 10, "—", "已退回"]
    assert cells("夏禹桥村委会", signs) == [11, 10, 1.1, "按时"]
    assert cells("夏禹桥村委会", plan) == ["已完成", "按时"]
    assert cells("前山村委会", plan) == ["—", "未报"]
    assert cells("白沙村委会", plan) == ["未完成", "按时"]


@pytest.fixture
def city(db):
    """A city with two counties; townships named so that text order and natural order differ."""
    city = make_unit("city", None, "杭州市")
    fuyang = make_unit("county", city, "富阳区")
    tonglu = make_unit("county", city, "桐庐县")
    townships = [make_unit("township", fuyang, "1-10镇"), make_unit("township", fuyang, "1-1镇"),
                 make_unit("township", tonglu, "2-1镇")]
    villages = [make_unit("village", township, f"{township.name}村") for township in townships]
    campaign = make_campaign(city, status="active")
    task = make_task(campaign, "设置永久性宣传标牌", kinds=("village",))
    for village in villages:
        make_report(campaign, task, village, "submitted", campaign.deadline_at, (4,))
        db.session.add(WaterPoint(unit=village, name="山塘", kind="pond", latitude=30.0, longitude=119.9))
    make_report(campaign, make_task(campaign, "制定实施方案", kinds=("village",), measure="done"), villages[0])
    db.session.commit()
    return campaign


def test_a_city_workbook_adds_the_county_and_sorts_naturally(app, city, tmp_path):
    output = tmp_path / "city.xlsx"
    result = app.test_cli_runner().invoke(export, [str(city.id), "--output", str(output)])
    assert result.exit_code == 0, result.output
    book = load(output.read_bytes())
    detail = book["明细表"]
    assert [detail["A2"].value, detail["B2"].value, detail["C2"].value] == ["县（区）", "乡镇（街道）", "单位"]
    assert [(row[0].value, row[1].value) for row in detail.iter_rows(min_row=4, max_row=6)] == [
        ("富阳区", "1-1镇"), ("富阳区", "1-10镇"), ("桐庐县", "2-1镇")]
    water = book["水域及隐患"]
    assert [(row[0].value, row[1].value) for row in water.iter_rows(min_row=3, max_row=5)] == [
        ("富阳区", "1-1镇"), ("富阳区", "1-10镇"), ("桐庐县", "2-1镇")]
    assert book["乡镇上报数"]["A2"].value == "县（区）"
    late = book["未报及退回单位"]
    assert [late["B2"].value, late["C2"].value] == ["县（区）", "乡镇（街道）"]
    assert book["汇总表"]["A1"].value.endswith("（杭州市）")


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                    reason="needs LibreOffice and poppler")
def test_libreoffice_numbers_the_pages_of_each_sheet_from_one(built, as_county_officer, tmp_path):
    (tmp_path / "county.xlsx").write_bytes(download(as_county_officer, built.campaign))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "county.xlsx")],
                   check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "county.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    footers = re.findall(r"(\S+)\s+第\s*(\d+)\s*页", text)
    first_pages = {sheet for sheet, page in footers if page == "1"}
    assert first_pages == {"封面", "汇总表", "明细表", "乡镇上报数", "未报及退回单位", "乡镇总结"}
    assert not re.search(r"共\s*\d+\s*页", text)


def print_page(client, campaign) -> str:
    response = client.get(f"/summary/campaigns/{campaign.id}/print")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_print_page_prints_the_total_once_and_keeps_captions_with_their_tables(built, as_county_officer):
    html = print_page(as_county_officer, built.campaign)
    assert "<tfoot" not in html  # a table footer repeats under every part of a split table
    assert html.count('<tr class="total">') == len(built.campaign.tasks)
    css = open("static/css/summary-print.css", encoding="utf-8").read()
    assert re.search(r"\.caption \{[^}]*break-after: avoid", css)
    assert re.search(r"\.task-table \{[^}]*break-inside: avoid", css)
    assert "table-footer-group" not in css


def test_the_print_page_names_its_scope_measures_and_signature(built, as_township_officer):
    html = print_page(as_township_officer, built.campaign)
    assert "森林防火宣传月汇总表（玲珑街道）" in html
    assert "设置永久性宣传标牌（≥10块）" in html and "制定实施方案（是/否）" in html
    assert "已退回" in html and "逾期" in html and "未报" in html and "已完成" in html and "未完成" in html
    assert "填报单位（盖章）：玲珑街道" in html and "审核人（负责人）" in html
