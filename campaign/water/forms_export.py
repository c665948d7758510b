"""The plan's two forms as Excel workbooks: 重点水域排查情况登记表 and 水域巡查记录表.

Pure functions: rows in, bytes out. The forms are official documents and keep their Chinese
titles and headers whatever the interface language. Every text a user typed is written with
``write_string`` (and the workbook refuses to turn strings into formulas or links anyway), so a
name like ``=HYPERLINK(...)`` stays text.
"""
import io
import re
from datetime import date

import xlsxwriter

REGISTER_TITLE = "重点水域排查情况登记表"
PATROL_TITLE = "水域巡查记录表"
KIND_NAMES = {"river": "河流", "pond": "池塘", "reservoir": "水库", "canal": "水渠", "ditch": "沟渠",
              "construction_pit": "建筑工地基坑", "other": "其他"}
DANGER_NAMES = {"high": "高", "medium": "中", "low": "低"}
GROUPS = ("village", "township")
FONT = {"font_name": "宋体", "font_charset": 134}
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

# (header, sub-headers or None, width)
REGISTER_COLUMNS = [
    ("序号", None, 6),
    ("村（社区）", None, 14),
    ("水域名称", None, 18),
    ("水域类型", None, 10),
    ("位置（经纬度）", None, 20),
    ("危险程度", None, 8),
    ("是否设置永久性警示标识", None, 12),
    ("警示标识数量（块）", None, 10),
    ("救生设施", [("救生圈（个）", 8), ("救生杆（根）", 8), ("救生绳（条）", 8)], None),
    ("安全信息员", None, 10),
    ("联系电话", None, 14),
    ("备注", None, 20),
]


def _yes_no(value) -> str:
    return "是" if value else "否"


def _sheet_name(name: str, used: set) -> str:
    base = SHEET_NAME_FORBIDDEN.sub("_", name or "").strip("'").strip() or "Sheet"
    base = base[:31]
    candidate, number = base, 2
    while candidate.lower() in used:
        suffix = f"({number})"
        candidate = base[:31 - len(suffix)] + suffix
        number += 1
    used.add(candidate.lower())
    return candidate


def _group(rows, group_by: str) -> list[tuple[str, list]]:
    if group_by not in GROUPS:
        raise ValueError(f"unknown grouping {group_by!r}")
    groups = {}
    for row in rows:
        groups.setdefault(row[group_by] or "", []).append(row)
    return list(groups.items())


class _Formats:
    def __init__(self, workbook):
        def make(**extra):
            return workbook.add_format({**FONT, "font_size": 11, "valign": "vcenter", **extra})

        self.title = make(bold=True, font_size=18, align="center")
        self.subtitle = make(font_size=11, align="left")
        self.subtitle_right = make(font_size=11, align="right")
        self.header = make(bold=True, align="center", text_wrap=True, border=1, bg_color="#F2F2F2")
        self.cell = make(border=1, text_wrap=True)
        self.center = make(border=1, align="center", text_wrap=True)
        self.number = make(border=1, align="center")


def _page_setup(sheet, header_rows: tuple[int, int], last_column: int):
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.7)
    sheet.center_horizontally()
    sheet.repeat_rows(*header_rows)
    sheet.fit_to_pages(1, 0)
    sheet.set_footer("&C第 &P 页，共 &N 页")
    sheet.print_area(0, 0, max(header_rows[1], sheet.dim_rowmax or 0), last_column)


def _title_rows(sheet, formats, title: str, area: str, filled_on: date, last_column: int):
    sheet.set_row(0, 36)
    sheet.merge_range(0, 0, 0, last_column, title, formats.title)
    middle = last_column // 2
    sheet.merge_range(1, 0, 1, middle, "", formats.subtitle)
    sheet.write_string(1, 0, f"填报单位：{area}", formats.subtitle)
    sheet.merge_range(1, middle + 1, 1, last_column, "", formats.subtitle_right)
    sheet.write_string(1, middle + 1, f"填报日期：{filled_on.year}年{filled_on.month}月{filled_on.day}日",
                       formats.subtitle_right)


def _workbook(buffer):
    return xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})


def register_workbook(rows, group_by: str = "village", filled_on: date | None = None) -> bytes:
    """重点水域排查情况登记表: one sheet per village (or township). ``rows``: dicts with township, village,
    name, kind, latitude, longitude, danger_level, has_permanent_sign, sign_count, life_buoys, poles,
    ropes, responsible_name, responsible_phone, notes."""
    filled_on = filled_on or date.today()
    buffer = io.BytesIO()
    workbook = _workbook(buffer)
    formats = _Formats(workbook)
    used = set()
    groups = _group(rows, group_by) or [("", [])]
    last_column = sum(len(sub) if sub else 1 for _, sub, _ in REGISTER_COLUMNS) - 1
    for area, items in groups:
        sheet = workbook.add_worksheet(_sheet_name(area or REGISTER_TITLE, used))
        _title_rows(sheet, formats, REGISTER_TITLE, area, filled_on, last_column)
        column = 0
        for header, sub, width in REGISTER_COLUMNS:
            if sub:
                sheet.merge_range(2, column, 2, column + len(sub) - 1, header, formats.header)
                for offset, (sub_header, sub_width) in enumerate(sub):
                    sheet.write_string(3, column + offset, sub_header, formats.header)
                    sheet.set_column(column + offset, column + offset, sub_width)
                column += len(sub)
            else:
                sheet.merge_range(2, column, 3, column, header, formats.header)
                sheet.set_column(column, column, width)
                column += 1
        sheet.set_row(2, 30)
        sheet.set_row(3, 30)
        for number, item in enumerate(items, start=1):
            line = 3 + number
            position = f"{item['latitude']:.6f}, {item['longitude']:.6f}"
            sheet.write_number(line, 0, number, formats.number)
            sheet.write_string(line, 1, item["village"] or "", formats.cell)
            sheet.write_string(line, 2, item["name"] or "", formats.cell)
            sheet.write_string(line, 3, KIND_NAMES.get(item["kind"], item["kind"]), formats.center)
            sheet.write_string(line, 4, position, formats.center)
            sheet.write_string(line, 5, DANGER_NAMES.get(item["danger_level"], item["danger_level"]), formats.center)
            sheet.write_string(line, 6, _yes_no(item["has_permanent_sign"]), formats.center)
            for offset, name in enumerate(("sign_count", "life_buoys", "poles", "ropes")):
                sheet.write_number(line, 7 + offset, item[name] or 0, formats.number)
            sheet.write_string(line, 11, item["responsible_name"] or "", formats.cell)
            sheet.write_string(line, 12, item["responsible_phone"] or "", formats.center)
            sheet.write_string(line, 13, item["notes"] or "", formats.cell)
        _page_setup(sheet, (2, 3), last_column)
    workbook.close()
    return buffer.getvalue()


def patrol_workbook(rows, group_by: str = "village", filled_on: date | None = None) -> bytes:
    """水域巡查记录表: one sheet per village (or township, with a village column). ``rows``: dicts with
    township, village, point_name, patrolled_at (local time as text), patroller_name, sign_intact,
    rescue_equipment_present, people_swimming, findings."""
    filled_on = filled_on or date.today()
    buffer = io.BytesIO()
    workbook = _workbook(buffer)
    formats = _Formats(workbook)
    used = set()
    with_village = group_by == "township"
    columns = [("序号", 6)] + ([("村（社区）", 14)] if with_village else []) + [
        ("水域名称", 18), ("巡查时间", 17), ("巡查人", 10), ("警示标识是否完好", 10), ("救生设施是否齐全", 10),
        ("是否发现有人游泳", 12), ("发现问题及处理情况", 40),
    ]
    last_column = len(columns) - 1
    for area, items in _group(rows, group_by) or [("", [])]:
        sheet = workbook.add_worksheet(_sheet_name(area or PATROL_TITLE, used))
        _title_rows(sheet, formats, PATROL_TITLE, area, filled_on, last_column)
        for column, (header, width) in enumerate(columns):
            sheet.write_string(2, column, header, formats.header)
            sheet.set_column(column, column, width)
        sheet.set_row(2, 32)
        for number, item in enumerate(items, start=1):
            line = 2 + number
            swimming = item["people_swimming"] or 0
            values = [item["village"] or ""] if with_village else []
            values += [item["point_name"] or "", item["patrolled_at"] or "", item["patroller_name"] or "",
                       _yes_no(item["sign_intact"]), _yes_no(item["rescue_equipment_present"]),
                       f"是（{swimming}人）" if swimming else "否", item["findings"] or ""]
            sheet.write_number(line, 0, number, formats.number)
            for offset, value in enumerate(values, start=1):
                wide = columns[offset][0] in ("村（社区）", "水域名称", "发现问题及处理情况")
                sheet.write_string(line, offset, value, formats.cell if wide else formats.center)
        _page_setup(sheet, (2, 2), last_column)
    workbook.close()
    return buffer.getvalue()
