"""The plan's two forms as Excel workbooks: 重点水域排查情况登记表 and 水域巡查记录表.

Pure functions: rows in, bytes out. The forms are official documents and keep their Chinese
titles and headers whatever the interface language. Every text a user typed is written with
``write_string`` (and the workbook refuses to turn strings into formulas or links anyway), so a
name like ``=HYPERLINK(...)`` stays text. Each sheet ends with the signature lines of a submitted
form (填报单位（盖章）, 填报人, 审核人（负责人）, 联系电话, 填报日期); an empty register prints a "无" row.
Headers carry their unit on a line of their own ("救生圈\n（个）") so no bracket wraps alone.
"""
import io
import re
from datetime import date

import xlsxwriter

from ..printing import Signature, chinese_date, page_setup, row_height, write_signature

REGISTER_TITLE = "重点水域排查情况登记表"
PATROL_TITLE = "水域巡查记录表"
KIND_NAMES = {"river": "河流", "pond": "池塘", "reservoir": "水库", "canal": "水渠", "ditch": "沟渠",
              "construction_pit": "建筑工地基坑", "other": "其他"}
DANGER_NAMES = {"high": "高", "medium": "中", "low": "低"}
GROUPS = ("village", "township")
FONT = {"font_name": "宋体", "font_charset": 134}
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

FONT_SIZE = 11
NONE_ROW = "无"
# (header, sub-headers or None, width); widths keep each sheet fitted to one page wide at ≥ 70 %.
REGISTER_COLUMNS = [
    ("序号", None, 5),
    ("村（社区）", None, 12),
    ("水域名称", None, 13),
    ("水域类型", None, 8),
    ("位置（经度在前）", [("经度", 10), ("纬度", 9)], None),
    ("危险\n程度", None, 6),
    ("是否设置永久性警示标识", None, 9),
    ("警示标识数量\n（块）", None, 9),
    ("救生设施", [("救生圈\n（个）", 7), ("救生杆\n（根）", 7), ("救生绳\n（条）", 7)], None),
    ("安全信息员", None, 9),
    ("联系电话", None, 12),
    ("备注", None, 11),
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
            return workbook.add_format({**FONT, "font_size": FONT_SIZE, "valign": "vcenter", **extra})

        self.title = make(bold=True, font_size=18, align="center")
        self.sign = make(text_wrap=True)
        self.none = make(border=1, align="center")
        self.subtitle = make(font_size=11, align="left")
        self.subtitle_right = make(font_size=11, align="right")
        self.header = make(bold=True, align="center", text_wrap=True, border=1, bg_color="#F2F2F2")
        self.cell = make(border=1, text_wrap=True)
        self.center = make(border=1, align="center", text_wrap=True)
        self.number = make(border=1, align="center")


def _finish(sheet, formats, widths, header_rows, next_row, signature):
    """The signature lines under the table, the print area and the print set-up (campaign.printing)."""
    last_column = len(widths) - 1
    end = write_signature(sheet, next_row + 1, last_column, signature, formats.sign)
    page_setup(sheet, widths, repeat_rows=header_rows)
    sheet.print_area(0, 0, end - 1, last_column)


def _none_row(sheet, formats, line, last_column):
    """An empty register or record still says so: "无" across the row."""
    sheet.merge_range(line, 0, line, last_column, "", formats.none)
    sheet.write_string(line, 0, NONE_ROW, formats.none)
    sheet.set_row(line, 24)
    return line + 1


def _signature(area, contacts, filled_on) -> Signature:
    name, phone = (contacts or {}).get(area, ("", ""))
    return Signature(unit=area, filled_by=name or "", phone=phone or "", filled_on=chinese_date(filled_on))


def _fit(sheet, line, cells):
    sheet.set_row(line, row_height(cells, FONT_SIZE, minimum=20))


def _title_rows(sheet, formats, title: str, area: str, filled_on: date, last_column: int):
    sheet.set_row(0, 36)
    sheet.merge_range(0, 0, 0, last_column, title, formats.title)
    middle = last_column // 2
    sheet.merge_range(1, 0, 1, middle, "", formats.subtitle)
    sheet.write_string(1, 0, f"填报单位：{area}", formats.subtitle)
    sheet.merge_range(1, middle + 1, 1, last_column, "", formats.subtitle_right)
    sheet.write_string(1, middle + 1, f"填报日期：{chinese_date(filled_on)}", formats.subtitle_right)


def _workbook(buffer):
    return xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})


def register_workbook(rows, group_by: str = "village", filled_on: date | None = None, area: str = "",
                      contacts: dict | None = None) -> bytes:
    """重点水域排查情况登记表: one sheet per village (or township). ``rows``: dicts with township, village,
    name, kind, latitude, longitude, danger_level, has_permanent_sign, sign_count, life_buoys, poles,
    ropes, responsible_name, responsible_phone, notes. ``area``: the 填报单位 of an empty register;
    ``contacts``: {unit name: (contact name, phone)} for the signature lines."""
    filled_on = filled_on or date.today()
    buffer = io.BytesIO()
    workbook = _workbook(buffer)
    formats = _Formats(workbook)
    used = set()
    groups = _group(rows, group_by) or [(area, [])]
    widths = [width for _header, sub, width in REGISTER_COLUMNS for width in ([w for _h, w in sub] if sub else [width])]
    last_column = len(widths) - 1
    for group_area, items in groups:
        sheet = workbook.add_worksheet(_sheet_name(group_area or REGISTER_TITLE, used))
        _title_rows(sheet, formats, REGISTER_TITLE, group_area, filled_on, last_column)
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
        sheet.set_row(3, 36)
        line = 4
        for number, item in enumerate(items, start=1):
            line = 3 + number
            sheet.write_number(line, 0, number, formats.number)
            sheet.write_string(line, 1, item["village"] or "", formats.cell)
            sheet.write_string(line, 2, item["name"] or "", formats.cell)
            sheet.write_string(line, 3, KIND_NAMES.get(item["kind"], item["kind"]), formats.center)
            sheet.write_string(line, 4, f"{item['longitude']:.6f}", formats.center)
            sheet.write_string(line, 5, f"{item['latitude']:.6f}", formats.center)
            sheet.write_string(line, 6, DANGER_NAMES.get(item["danger_level"], item["danger_level"]), formats.center)
            sheet.write_string(line, 7, _yes_no(item["has_permanent_sign"]), formats.center)
            for offset, name in enumerate(("sign_count", "life_buoys", "poles", "ropes")):
                sheet.write_number(line, 8 + offset, item[name] or 0, formats.number)
            texts = {1: item["village"], 2: item["name"], 12: item["responsible_name"], 14: item["notes"]}
            sheet.write_string(line, 12, item["responsible_name"] or "", formats.cell)
            sheet.write_string(line, 13, item["responsible_phone"] or "", formats.center)
            sheet.write_string(line, 14, item["notes"] or "", formats.cell)
            _fit(sheet, line, [(text or "", widths[col]) for col, text in texts.items()])
            line += 1
        if not items:
            line = _none_row(sheet, formats, line, last_column)
        _finish(sheet, formats, widths, (2, 3), line, _signature(group_area, contacts, filled_on))
    workbook.close()
    return buffer.getvalue()


def patrol_workbook(rows, group_by: str = "village", filled_on: date | None = None, area: str = "",
                    contacts: dict | None = None) -> bytes:
    """水域巡查记录表: one sheet per village (or township, with a village column). ``rows``: dicts with
    township, village, point_name, patrolled_at (local time as text), patroller_name, sign_intact,
    rescue_equipment_present, people_swimming, findings. ``area`` and ``contacts``: as for the register."""
    filled_on = filled_on or date.today()
    buffer = io.BytesIO()
    workbook = _workbook(buffer)
    formats = _Formats(workbook)
    used = set()
    with_village = group_by == "township"
    columns = [("序号", 5)] + ([("村（社区）", 12)] if with_village else []) + [
        ("水域名称", 14), ("巡查时间", 17), ("巡查人", 8), ("警示标识是否完好", 8), ("救生设施是否齐全", 8),
        ("是否发现有人游泳", 8), ("发现问题及处理情况", 32),
    ]
    widths = [width for _header, width in columns]
    last_column = len(columns) - 1
    for group_area, items in _group(rows, group_by) or [(area, [])]:
        sheet = workbook.add_worksheet(_sheet_name(group_area or PATROL_TITLE, used))
        _title_rows(sheet, formats, PATROL_TITLE, group_area, filled_on, last_column)
        for column, (header, width) in enumerate(columns):
            sheet.write_string(2, column, header, formats.header)
            sheet.set_column(column, column, width)
        _fit(sheet, 2, [(header, width) for header, width in columns])
        line = 3
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
            _fit(sheet, line, [(value, widths[offset]) for offset, value in enumerate(values, start=1)])
            line += 1
        if not items:
            line = _none_row(sheet, formats, line, last_column)
        _finish(sheet, formats, widths, (2, 2), line, _signature(group_area, contacts, filled_on))
    workbook.close()
    return buffer.getvalue()
