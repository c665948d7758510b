"""`flask --app wsgi units import PATH`: counts on success, every error and status 1 otherwise."""
from tests.units.conftest import csv_bytes, unit_by_code, unit_count


def test_the_cli_imports_a_file_and_prints_the_counts(app, db, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(csv_bytes("330112000000,临安区,county,", "330112002000,玲珑街道,township,330112000000"))

    result = app.test_cli_runner().invoke(args=["units", "import", str(path), "--lang", "en"])

    assert result.exit_code == 0, result.output
    assert "Created 2, updated 0, unchanged 0." in result.output
    assert unit_by_code("330112002000").parent_id == unit_by_code("330112000000").id


def test_the_cli_speaks_chinese_by_default(app, db, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(csv_bytes("330112000000,临安区,county,"))

    result = app.test_cli_runner().invoke(args=["units", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "新增 1" in result.output


def test_the_cli_lists_every_error_with_its_line_and_exits_with_status_1(app, db, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(csv_bytes(
        "330112000000,临安区,county,",
        "330112002000,,township,330112000000",
        "330112002235,夏禹桥村委会,village,330112009999",
    ))

    result = app.test_cli_runner().invoke(args=["units", "import", str(path), "--lang", "en"])

    assert result.exit_code == 1
    assert "Line 3, column name: The name is empty." in result.output
    assert ("Line 4, column parent_code: No unit in the file or within your area has the parent code “330112009999”."
            in result.output)
    assert unit_count() == 0
