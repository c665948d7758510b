"""/units/import: the office uploads a spreadsheet and sees the counts or every wrong line."""
import io

import pytest

from tests.units.conftest import csv_bytes, unit_by_code, unit_count, xlsx_bytes


def upload(client, data, filename="units.csv"):
    return client.post_form("/units/import", {"file": (io.BytesIO(data), filename)},
                            content_type="multipart/form-data")


@pytest.mark.parametrize("role", ["admin", "county_officer"])
def test_the_office_imports_a_good_file(login, role):
    client = login(role)
    assert client.get("/units/import").status_code == 200

    response = upload(client, csv_bytes("330112002299,新村委会,village,330112002000",
                                        "330112002236,前山村委会,village,330112002000"))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "导入成功" in page
    assert unit_by_code("330112002299").name == "新村委会"


def test_an_xlsx_upload_imports(as_admin):
    response = upload(as_admin, xlsx_bytes([{"code": "330112002299", "name": "新村委会", "kind": "村",
                                             "parent_code": "330112002000"}]), "units.xlsx")

    assert response.status_code == 200 and unit_by_code("330112002299") is not None


def test_a_bad_file_shows_every_error_and_imports_nothing(as_admin):
    before = unit_count()

    response = upload(as_admin, csv_bytes(
        "330112002299,新村委会,village,330112002000",
        "330112002298,<b>坏村</b>,hamlet,330112002000",
        "330112002297,远村,village,330112009999",
    ))

    page = response.get_data(as_text=True)
    assert "未导入任何数据" in page
    assert "<td>3</td>" in page and "未知的单位类型“hamlet”" in page
    assert "<td>4</td>" in page and "330112009999" in page
    assert unit_count() == before


def test_a_user_typed_value_in_an_error_is_escaped(as_admin):
    response = upload(as_admin, csv_bytes("330112002299,村,<script>x</script>,330112002000"))

    page = response.get_data(as_text=True)
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_the_error_page_reads_in_english_too(as_admin):
    as_admin.post_form("/language", {"locale": "en", "next": "/units/import"})

    page = upload(as_admin, csv_bytes("330112002299,新村委会,village,330112009999")).get_data(as_text=True)

    assert "Nothing was imported" in page and "No unit in the file or within your area" in page


def test_uploading_without_a_file_asks_for_one(as_admin):
    response = as_admin.post_form("/units/import", {}, content_type="multipart/form-data")

    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)


def test_another_file_type_is_refused(as_admin):
    response = upload(as_admin, b"hello", "units.txt")

    assert "请选择 CSV 或 XLSX 文件" in response.get_data(as_text=True)
