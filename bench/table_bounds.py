"""How fast the table reader refuses files it must not parse, against a floor measured in the same run.

    .venv/bin/python bench/table_bounds.py

The floor: reading an ordinary 1,000-row XLSX (the size of a county's water points). The bombs: an
XLSX of a few hundred KB that unpacks to ~50 MB of XML (200,000 rows), one that stays under the
ratio limit but over the unpacked-size limit, and one of 60,000 honest rows (past the row limit).
"""
import io
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402

from campaign import create_app  # noqa: E402
from campaign.tables import TableRefused, read_table  # noqa: E402
from campaign.units.importing import table_spec  # noqa: E402

HEADER = ["代码", "名称", "类型", "上级代码"]


def workbook(rows: int) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["临安区行政区划代码表"])
    sheet.append(HEADER)
    for n in range(rows):
        sheet.append([f"3301120{n:05d}", f"第{n}村", "村", "330112002000"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def bomb(rows: int, cell: str, level: int = 9) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(workbook(0)))
    name = next(info.filename for info in source.infolist() if info.filename.startswith("xl/worksheets/"))
    cells = f'<c t="inlineStr"><is><t>{cell}</t></is></c>' * 5
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main"><sheetData>{f"<row>{cells}</row>" * rows}</sheetData></worksheet>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, sheet.encode() if info.filename == name else source.read(info))
    return buffer.getvalue()


def timed(data: bytes, spec) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        table = read_table(data, "bench.xlsx", spec)
        outcome = f"read {len(table.rows)} rows"
    except TableRefused as refused:
        outcome = f"refused: {refused.errors[0].code}"
    return time.perf_counter() - start, outcome


def main():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    with app.test_request_context():
        spec = table_spec()
        floor, outcome = timed(workbook(1000), spec)
        print(f"floor: ordinary 1,000-row XLSX   {floor:6.3f} s  ({outcome})")
        cases = {
            "zip bomb, 200,000 rows": bomb(200_000, "330112002001"),
            "varied bomb, 45 MB unpacked": bomb(150_000, "临安区某某村民委员会联系电话号码一二三四五六七八九十", level=1),
            "honest 60,000 rows": workbook(60_000),
        }
        for name, data in cases.items():
            unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
            seconds, outcome = timed(data, spec)
            print(f"{name:32} {len(data) / 1024:8.0f} KB → {unpacked / 1024 / 1024:5.1f} MB  "
                  f"{seconds:6.3f} s = {seconds / floor:6.2f} × floor  ({outcome})")


if __name__ == "__main__":
    main()
