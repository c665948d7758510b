"""Spreadsheets through the browser on a 360 px phone: the office downloads the water points as XLSX
from the list, uploads the same file back (no duplicate), and sees a damaged CSV refused with its rows."""
from pathlib import Path

from sqlalchemy import func, select

from campaign.water.models import WaterPoint
from tests.browser.conftest import log_in
from tests.water.conftest import make_point


def test_the_office_downloads_the_water_points_and_uploads_them_back(
        live_server, phone_page, users, tree, db, screenshot, tmp_path):
    make_point(tree.village_a1, "山塘", is_key=True, responsible_phone="13800000001")
    make_point(tree.village_a1, "山塘", latitude=30.2337)
    db.session.commit()
    page = phone_page
    log_in(page, live_server, "county_officer")

    page.goto(f"{live_server}/water/")
    screenshot(page, "spreadsheets-01-water-list-export-links")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX", exact=True).click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".xlsx"

    page.goto(f"{live_server}/water/import")
    page.set_input_files("input[type=file]", str(saved))
    page.get_by_role("button", name="导入").click()
    page.wait_for_selector("text=导入成功")
    screenshot(page, "spreadsheets-02-water-import-of-own-export")
    assert "更新" in page.inner_text("main")

    damaged = tmp_path / "水域.csv"
    damaged.write_text("村（社区）代码,水域名称,水域类型,纬度,经度\n3.30112E+11,村口塘,池塘,30.24,119.71\n",
                       encoding="gb18030")
    page.goto(f"{live_server}/water/import")
    page.set_input_files("input[type=file]", str(damaged))
    page.get_by_role("button", name="导入").click()
    page.wait_for_selector("text=科学计数法")
    screenshot(page, "spreadsheets-03-water-import-scientific-codes")
    assert "村（社区）代码" in page.inner_text("table.errors-table")
    db.session.remove()  # the server has answered; now the test may read
    assert db.session.scalar(select(func.count(WaterPoint.id))) == 2


def test_the_unit_page_offers_the_tree_as_xlsx(live_server, phone_page, users, tree, screenshot, tmp_path):
    page = phone_page
    log_in(page, live_server, "county_officer")

    page.goto(f"{live_server}/units/")
    screenshot(page, "spreadsheets-04-unit-page-export-links")
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX", exact=True).click()
    saved = Path(tmp_path / "units.xlsx")
    download.value.save_as(saved)

    assert saved.read_bytes()[:2] == b"PK"


def test_the_office_uploads_its_own_tree_with_a_title_row_and_merged_parent_codes(
        live_server, phone_page, users, tree, db, screenshot, tmp_path):
    from tests.units.test_office_spreadsheets import office_xlsx

    rows = [["330112002000", "玲珑街道", "街道", "330112000000"],
            ["330112002241", "新建村", "村", "330112002000"], ["330112002242", "后岭村", "村", None],
            ["330112002243", "前岭村", "村", None]]
    path = tmp_path / "玲珑街道村社区一览表.xlsx"
    path.write_bytes(office_xlsx(["代码", "名称", "类型", "上级代码"], rows, merges=["D4:D6"]))
    page = phone_page
    log_in(page, live_server, "county_officer")

    page.goto(f"{live_server}/units/import")
    screenshot(page, "spreadsheets-05-units-import-page")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="导入").click()
    page.wait_for_selector("text=导入成功")
    screenshot(page, "spreadsheets-06-units-import-merged-parent-codes")

    db.session.remove()
    from campaign.units.models import Unit
    parents = {unit.name: unit.parent.name for unit in db.session.query(Unit).filter(Unit.name.like("%岭村"))}
    assert parents == {"后岭村": "玲珑街道", "前岭村": "玲珑街道"}
