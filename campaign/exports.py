"""What every table export shares: a cell a spreadsheet will never run as a formula, and the
CSV and XLSX writers of the exports that re-import."""
import csv
import io

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text starting with = + - @ (or a tab or carriage return) gets a leading '; None is empty,
    booleans are 1/0, numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table_csv(headers, rows, code_columns=()) -> bytes:
    """A CSV that re-imports: UTF-8 with a BOM (Excel then reads the Chinese right), formula-safe
    cells, and a tab before the digits of each code column (division codes, phone numbers), which
    makes Excel and LibreOffice keep them as text instead of 3.30112E+11. The importer strips it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(header) for header in headers])
    for row in rows:
        writer.writerow([
            "\t" + value if position in code_columns and isinstance(value, str) and value.isdigit()
            else safe_cell(value)
            for position, value in enumerate(row)
        ])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(headers, rows, sheet_name: str, widths=()) -> bytes:
    """One sheet: a bold header row, then text as text cells (codes stay 12 digits, "=…" stays
    text) and numbers as numbers; the header row frozen and filtered."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    sheet = book.add_worksheet(sheet_name[:31])
    font = {"font_name": "宋体", "font_charset": 134, "font_size": 10}
    header_format = book.add_format({**font, "bold": True, "text_wrap": True, "valign": "vcenter", "border": 1})
    text_format = book.add_format({**font, "num_format": "@"})
    number_format = book.add_format(font)
    for position, header in enumerate(headers):
        sheet.write_string(0, position, str(header), header_format)
        sheet.set_column(position, position, widths[position] if position < len(widths) else 12)
    for line, row in enumerate(rows, start=1):
        for position, value in enumerate(row):
            if value is None or value == "":
                sheet.write_blank(line, position, None, text_format)
            elif isinstance(value, bool):
                raise TypeError("write yes/no as a word, not a boolean")
            elif isinstance(value, (int, float)):
                sheet.write_number(line, position, value, number_format)
            else:
                sheet.write_string(line, position, str(value), text_format)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), max(len(headers) - 1, 0))
    book.close()
    return buffer.getvalue()
