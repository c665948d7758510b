"""Bulk import of users from CSV, on the web and from the command line: all rows or none."""
import io

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from campaign.accounts.models import User
from campaign.audit.models import AuditRecord
from tests.accounts.conftest import csv_bytes
from tests.conftest import log_in

GOOD_ROWS = (
    "li_a1,李明,village_reporter,330112002235,13800000001,Passw0rd777",
    "wang_a2,王芳,村（社区）填报员,330112002236,,",
    "zhao_b,赵强,township_officer,330112101000,13800000003,",
)


def upload(client, data: bytes, filename="users.csv"):
    return client.post_form(
        "/users/import",
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def imported_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.username.in_(["li_a1", "wang_a2", "zhao_b"])))


def test_a_good_file_creates_every_user_and_shows_generated_passwords_once(app, as_county_officer, users, db):
    response = upload(as_county_officer, csv_bytes(*GOOD_ROWS))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已导入 3 个用户" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert imported_count(db) == 3
    wang = db.session.scalar(select(User).where(User.username == "wang_a2"))
    assert wang.role == "village_reporter" and wang.display_name == "王芳" and wang.phone is None
    # The generated password is on the page, and only its hash in the database.
    generated = page.split("<td>wang_a2</td>")[1].split("<code>")[1].split("</code>")[0]
    assert check_password_hash(wang.password_hash, generated)
    log_in(app.test_client(), "wang_a2", generated)
    log_in(app.test_client(), "li_a1", "Passw0rd777")
    actions = db.session.scalars(select(AuditRecord.action)).all()
    assert actions.count("user.create") == 3 and actions.count("user.import") == 1


def test_utf8_with_bom_and_chinese_headers_are_read(as_admin, users, db):
    data = "\ufeff" + "用户名,姓名,角色,单位代码,电话,密码\nli_a1,李明,村（社区）填报员,330112002235,,\n"
    assert "已导入 1 个用户" in upload(as_admin, data.encode("utf-8")).get_data(as_text=True)
    assert db.session.scalar(select(User.display_name).where(User.username == "li_a1")) == "李明"


def test_a_gb18030_file_from_excel_is_read(as_admin, users, db):
    response = upload(as_admin, csv_bytes(*GOOD_ROWS, encoding="gb18030"))
    assert "已导入 3 个用户" in response.get_data(as_text=True)
    assert db.session.scalar(select(User.display_name).where(User.username == "wang_a2")) == "王芳"


def test_leading_zeros_and_spaces_in_codes_are_kept_as_text(as_admin, users, db):
    assert "已导入 1 个用户" in upload(as_admin, csv_bytes(" li_a1 ,李明,village_reporter, 330112002235 ,,")).get_data(as_text=True)
    assert db.session.scalar(select(User.unit_id).where(User.username == "li_a1")) is not None


BAD_ROWS = [
    ("duplicate in file", "li_a1,又一个,viewer,330112000000,,", "用户名 li_a1 在文件中重复出现（首次出现在第 2 行）"),
    ("taken in the database", "viewer,重名,viewer,330112000000,,", "用户名 viewer 已被使用"),
    ("unknown role", "new1,某人,mayor,330112000000,,", "未知角色 mayor"),
    ("unknown unit code", "new1,某人,viewer,330112999999,,", "没有统计用区划代码为 330112999999 的单位"),
    ("unit of another county", "new1,某人,viewer,330110000000,,", "该单位不在您的管辖范围内"),
    ("role not grantable", "new1,某人,admin,330112000000,,", "您无权授予角色 系统管理员"),
    ("role does not fit the unit", "new1,某人,village_reporter,330112002000,,", "该角色不能隶属于此类单位"),
    ("weak password", "new1,某人,viewer,330112000000,,abc", "密码至少需要 8 位"),
    ("password without digits", "new1,某人,viewer,330112000000,,abcdefghijk", "密码须同时包含字母和数字"),
    ("missing username", ",某人,viewer,330112000000,,", "请填写用户名"),
    ("missing unit code", "new1,某人,viewer,,,", "请填写单位的统计用区划代码"),
    ("row cut short", "new1,某人,viewer", "请填写单位的统计用区划代码"),
    ("too long a name", "new1," + "长" * 61 + ",viewer,330112000000,,", "姓名过长：最多 60 个字符"),
]


@pytest.mark.parametrize("kind, bad_row, message", BAD_ROWS, ids=[row[0] for row in BAD_ROWS])
def test_one_bad_row_refuses_the_whole_file_and_names_its_line(kind, bad_row, message, as_county_officer, other_county, db):
    before = db.session.scalar(select(func.count()).select_from(User))
    response = upload(as_county_officer, csv_bytes(*GOOD_ROWS, bad_row))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "未导入任何用户" in page
    assert "<td>第 5 行</td>" in page  # header is line 1, the bad row the fourth after it
    assert message in page
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    assert db.session.scalar(select(func.count()).select_from(AuditRecord)) == 0


def test_every_bad_row_is_listed(as_admin, users, db):
    rows = ("a1,甲,mayor,330112000000,,", "viewer,乙,viewer,330112000000,,", "c3,丙,viewer,999999999999,,")
    page = upload(as_admin, csv_bytes(*rows)).get_data(as_text=True)
    for line in (2, 3, 4):
        assert f"<td>第 {line} 行</td>" in page


def test_blank_lines_do_not_shift_the_line_numbers(as_admin, users, db):
    data = csv_bytes("a1,甲,viewer,330112000000,,", "", "b2,乙,mayor,330112000000,,")
    page = upload(as_admin, data).get_data(as_text=True)
    assert "<td>第 4 行</td>" in page


@pytest.mark.parametrize(
    "data, message",
    [
        (b"name,phone\n\xe5\xbc\xa0,1\n", "文件缺少必填列：用户名 (username), 角色 (role), 单位代码 (unit_code)"),
        (b"username,display_name,role,unit_code,phone,password\n", "文件中没有用户数据"),
        (b"", "文件中没有可导入的数据行"),
        (b"PK\x03\x04broken", "无法读取该文件，请上传 CSV 或 XLSX 表格"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused(data, message, as_admin, users):
    page = upload(as_admin, data).get_data(as_text=True)
    assert message in page


def test_a_file_that_is_neither_xlsx_nor_csv_is_refused(as_admin, users):
    page = upload(as_admin, b"%PDF-1.4", filename="users.pdf").get_data(as_text=True)
    assert "请选择 XLSX 或 CSV 文件" in page


def test_user_text_in_the_file_is_escaped_on_the_result_page(as_admin, users):
    page = upload(as_admin, csv_bytes("x1,<b>坏</b>,viewer,330112000000,,")).get_data(as_text=True)
    assert "<b>坏</b>" not in page and "&lt;b&gt;坏&lt;/b&gt;" in page


def test_the_import_template_has_the_header(as_admin, users):
    response = as_admin.get("/users/import/template.csv")
    assert response.data.decode("utf-8-sig").strip() == "username,display_name,role,unit_code,phone,password"


# --- Command line -----------------------------------------------------------------------------

def test_cli_import_creates_the_users_and_prints_generated_passwords(app, users, db, tmp_path):
    path = tmp_path / "users.csv"
    path.write_bytes(csv_bytes(*GOOD_ROWS, encoding="gb18030"))
    result = app.test_cli_runner().invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "已导入 3 个用户" in result.output
    db.session.expire_all()
    zhao = db.session.scalar(select(User).where(User.username == "zhao_b"))
    printed = next(line for line in result.output.splitlines() if line.startswith("zhao_b\t")).split("\t")[1]
    assert check_password_hash(zhao.password_hash, printed)


def test_cli_import_of_a_bad_file_creates_nothing_and_exits_1(app, users, db, tmp_path):
    path = tmp_path / "users.csv"
    path.write_bytes(csv_bytes(*GOOD_ROWS, "bad,某人,mayor,330112000000,,"))
    result = app.test_cli_runner().invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1
    assert "第 5 行" in result.output and "mayor" in result.output
    db.session.expire_all()
    assert imported_count(db) == 0


def users_xlsx(rows, title="临安区专项行动工作台账号申请表") -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([title])
    sheet.merge_cells("A1:F1")
    sheet.append(["用户名", "姓名", "角色", "单位代码", "手机", "密码"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_with_a_title_row_and_codes_stored_as_numbers_creates_the_users(as_county_officer, users, db):
    data = users_xlsx([
        ["li_a1", "李明", "村（社区）填报员", 330112002235, 13800000001, None],
        ["zhao_b", "赵强", "township_officer", "330112101000", None, None],
    ])

    page = upload(as_county_officer, data, filename="账号.xlsx").get_data(as_text=True)

    assert "已导入 2 个用户" in page
    li = db.session.scalar(select(User).where(User.username == "li_a1"))
    assert (li.unit.code, li.phone) == ("330112002235", "13800000001")


def test_a_wrong_row_of_an_xlsx_is_named_by_its_spreadsheet_row(as_county_officer, users, db):
    data = users_xlsx([["li_a1", "李明", "village_reporter", 330112002235, None, None],
                       ["bad", "某某", "mayor", 330112002235, None, None]])

    page = upload(as_county_officer, data, filename="账号.xlsx").get_data(as_text=True)

    assert "<td>第 4 行</td>" in page and imported_count(db) == 0


def test_unit_codes_mangled_to_scientific_notation_are_refused_with_the_way_out(as_county_officer, users, db):
    data = csv_bytes("li_a1,李明,village_reporter,3.30112E+11,,")

    page = upload(as_county_officer, data).get_data(as_text=True)

    assert "<td>第 2 行</td>" in page and "科学计数法" in page and "“unit_code”列" in page
