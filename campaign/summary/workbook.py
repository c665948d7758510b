"""The county's compiled workbook, in the official form style: data in, bytes out (no database here).

Every text a user typed (unit, task and campaign names, narratives, contacts) is written with
``write_string`` in a workbook opened with strings_to_formulas/urls off, so ``=HYPERLINK(…)`` stays text.
"""
import io

import xlsxwriter
from flask_babel import gettext as _

from .workbook_data import WorkbookData

FONT = {"font_name": "宋体", "font_charset": 134, "font_size": 10}
FOOTER = "&C第 &P 页，共 &N 页"
TASK_COLUMNS = 6  # reported, target, % reached, units reached, expected, on time
DETAIL_COLUMNS = 4  # reported, target, % reached, timeliness
A4 = 9


class Sheet:
    """A worksheet with the form's formats and the print set-up every sheet shares."""

    def __init__(self, book, formats, name, title, header_rows):
        self.ws = book.add_worksheet(name)
        self.f = formats
        self.title = title
        self.header_rows = header_rows

    def setup(self, last_column, header_first=1):
        ws = self.ws
        ws.merge_range(0, 0, 0, max(last_column, 1), "", self.f["title"])
        ws.write_string(0, 0, self.title, self.f["title"])
        ws.set_row(0, 30)
        ws.set_paper(A4)
        ws.set_landscape()
        ws.center_horizontally()
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.fit_to_pages(1, 0)
        ws.set_footer(FOOTER)
        if self.header_rows:
            ws.repeat_rows(header_first, header_first + self.header_rows - 1)
            ws.freeze_panes(header_first + self.header_rows, 0)

    def text(self, row, col, value, fmt="text"):
        self.ws.write_string(row, col, "" if value is None else str(value), self.f[fmt])

    def number(self, row, col, value, fmt="num"):
        self.ws.write_number(row, col, value, self.f[fmt])

    def rate(self, row, col, value, fmt="pct"):
        if value is None:
            self.ws.write_string(row, col, "—", self.f["text_c" if fmt == "pct" else "total_text"])
        else:
            self.ws.write_number(row, col, value, self.f[fmt])

    def header(self, row, col, label, last_row=None, last_col=None):
        last_row = row if last_row is None else last_row
        last_col = col if last_col is None else last_col
        if (last_row, last_col) != (row, col):
            self.ws.merge_range(row, col, last_row, last_col, "", self.f["head"])
        self.ws.write_string(row, col, label, self.f["head"])


def make_formats(book):
    border = {"border": 1, "valign": "vcenter"}

    def fmt(**extra):
        return book.add_format({**FONT, **border, **extra})

    return {
        "title": book.add_format({**FONT, "bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}),
        "head": fmt(bold=True, align="center", text_wrap=True, bg_color="#D9D9D9"),
        "text": fmt(text_wrap=True),
        "text_c": fmt(align="center"),
        "num": fmt(num_format="0"),
        "pct": fmt(num_format="0.0%"),
        "total_text": fmt(bold=True, align="center"),
        "total_num": fmt(bold=True, num_format="0"),
        "total_pct": fmt(bold=True, num_format="0.0%"),
        "label": book.add_format({**FONT, **border, "bold": True, "font_size": 12}),
        "value": book.add_format({**FONT, **border, "font_size": 12, "text_wrap": True}),
    }


def build_workbook(data: WorkbookData) -> bytes:
    output = io.BytesIO()
    book = xlsxwriter.Workbook(
        output, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                 "strings_to_numbers": False}
    )
    book.set_properties({"title": data.campaign.title, "author": data.compiled_by, "comments": "Campaign Desk"})
    formats = make_formats(book)
    write_cover(book, formats, data)
    write_summary(book, formats, data)
    write_detail(book, formats, data)
    write_late(book, formats, data)
    write_narratives(book, formats, data)
    if data.water:
        write_water(book, formats, data)
    book.close()
    return output.getvalue()


def sheet_names():
    return {
        "cover": _("Cover"),
        "summary": _("Summary by township"),
        "detail": _("Detail by village"),
        "late": _("Late and missing"),
        "narratives": _("Township summaries"),
        "water": _("Water points and hazards"),
    }


def write_cover(book, formats, data):
    campaign = data.campaign
    sheet = Sheet(book, formats, sheet_names()["cover"], campaign.title, 0)
    sheet.setup(1)
    ws = sheet.ws
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 70)
    facts = [
        (_("Campaign"), campaign.title),
        (_("Theme"), campaign.theme),
        (_("Window"), f"{campaign.start_date} – {campaign.end_date}"),
        (_("Summary deadline"), data.deadline_local),
        (_("Scope"), data.progress.scope.name),
        (_("Compiled at"), data.compiled_at_local),
        (_("Compiled by"), data.compiled_by),
    ]
    for offset, (label, value) in enumerate(facts, start=2):
        ws.set_row(offset, 24)
        sheet.text(offset, 0, label, "label")
        sheet.text(offset, 1, value, "value")


def task_heading(task, unit_labels):
    unit = unit_labels.get(task.measure_unit, "") if task.measure_unit else ""
    if task.is_quantity and task.target is not None:
        return f"{task.title}（≥{task.target}{unit}）"
    return task.title


def write_summary(book, formats, data):
    progress = data.progress
    tasks = progress.tasks
    last_col = len(tasks) * TASK_COLUMNS
    sheet = Sheet(book, formats, sheet_names()["summary"], f"{data.campaign.title}  {_('Summary by township')}", 2)
    sheet.setup(last_col)
    ws = sheet.ws
    ws.set_column(0, 0, 18)
    ws.set_column(1, max(last_col, 1), 9)
    sheet.header(1, 0, _("Unit"), last_row=2)
    subheads = [_("Reported"), _("Target"), _("Completion rate"), _("Units reaching target"), _("Expected"),
                _("On time")]
    for index, task in enumerate(tasks):
        col = 1 + index * TASK_COLUMNS
        sheet.header(1, col, task_heading(task, data.measure_unit_labels), last_col=col + TASK_COLUMNS - 1)
        for offset, label in enumerate(subheads):
            sheet.header(2, col + offset, label)
    ws.set_row(1, 36)
    ws.set_row(2, 30)
    row = 3
    for unit_row in progress.rows:
        sheet.text(row, 0, unit_row.name)
        for index, task in enumerate(tasks):
            write_task_cells(sheet, row, 1 + index * TASK_COLUMNS, unit_row.cells.get(task.id))
        row += 1
    sheet.text(row, 0, _("Total"), "total_text")
    for index, task in enumerate(tasks):
        write_task_cells(sheet, row, 1 + index * TASK_COLUMNS, progress.total(task.id), total=True)


def write_task_cells(sheet, row, col, figures, total=False):
    num, pct = ("total_num", "total_pct") if total else ("num", "pct")
    if figures is None or figures.expected == 0:
        for offset in range(TASK_COLUMNS):
            sheet.text(row, col + offset, "—", "total_text" if total else "text_c")
        return
    sheet.number(row, col, figures.reported, num)
    sheet.number(row, col + 1, figures.target_total, num)
    sheet.rate(row, col + 2, figures.pct_reached, pct)
    sheet.number(row, col + 3, figures.reached, num)
    sheet.number(row, col + 4, figures.expected, num)
    sheet.number(row, col + 5, figures.on_time, num)


def timeliness(figures, labels):
    if figures.on_time:
        return labels["on_time"]
    if figures.late:
        return labels["late"]
    return labels["missing"]


def write_detail(book, formats, data):
    progress = data.progress
    tasks = progress.tasks
    last_col = 2 + len(tasks) * DETAIL_COLUMNS
    sheet = Sheet(book, formats, sheet_names()["detail"], f"{data.campaign.title}  {_('Detail by village')}", 2)
    sheet.setup(last_col)
    ws = sheet.ws
    ws.set_column(0, 1, 16)
    ws.set_column(2, 2, 10)
    ws.set_column(3, max(last_col, 3), 8)
    sheet.header(1, 0, _("Township / street"), last_row=2)
    sheet.header(1, 1, _("Unit"), last_row=2)
    sheet.header(1, 2, _("Kind"), last_row=2)
    subheads = [_("Reported"), _("Target"), _("Completion rate"), _("Timeliness")]
    for index, task in enumerate(tasks):
        col = 3 + index * DETAIL_COLUMNS
        sheet.header(1, col, task_heading(task, data.measure_unit_labels), last_col=col + DETAIL_COLUMNS - 1)
        for offset, label in enumerate(subheads):
            sheet.header(2, col + offset, label)
    ws.set_row(1, 36)
    labels = {"on_time": _("On time"), "late": _("Late"), "missing": _("Missing")}
    dash = "—"
    text_fmt, num_fmt, pct_fmt, center = formats["text"], formats["num"], formats["pct"], formats["text_c"]
    write_string, write_number = ws.write_string, ws.write_number
    row = 3
    for unit_row in progress.units or []:
        write_string(row, 0, unit_row.township_name, text_fmt)
        write_string(row, 1, unit_row.name, text_fmt)
        write_string(row, 2, data.kind_labels.get(unit_row.kind, unit_row.kind), center)
        col = 3
        for task in tasks:
            figures = unit_row.cells.get(task.id)
            if figures is None:
                for offset in range(DETAIL_COLUMNS):
                    write_string(row, col + offset, dash, center)
            else:
                write_number(row, col, figures.reported, num_fmt)
                write_number(row, col + 1, figures.target_total, num_fmt)
                rate = figures.pct_reached
                if rate is None:
                    write_string(row, col + 2, dash, center)
                else:
                    write_number(row, col + 2, rate, pct_fmt)
                write_string(row, col + 3, timeliness(figures, labels), center)
            col += DETAIL_COLUMNS
        row += 1


def write_late(book, formats, data):
    sheet = Sheet(book, formats, sheet_names()["late"], f"{data.campaign.title}  {_('Late and missing units')}", 1)
    sheet.setup(6)
    ws = sheet.ws
    widths = [6, 16, 20, 28, 12, 12, 16]
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    heads = [_("No."), _("Township / street"), _("Unit"), _("Task"), _("Status"), _("Contact"), _("Phone")]
    for col, label in enumerate(heads):
        sheet.header(1, col, label)
    for index, late in enumerate(data.late, start=1):
        row = index + 1
        sheet.number(row, 0, index)
        sheet.text(row, 1, late.township_name)
        sheet.text(row, 2, late.unit_name)
        sheet.text(row, 3, late.task_title)
        sheet.text(row, 4, data.status_labels.get(late.status, late.status), "text_c")
        sheet.text(row, 5, late.contact_name)
        sheet.text(row, 6, late.phone)


def write_narratives(book, formats, data):
    sheet = Sheet(book, formats, sheet_names()["narratives"],
                  f"{data.campaign.title}  {_('Township summaries')}", 1)
    sheet.setup(6)
    ws = sheet.ws
    for col, width in enumerate([16, 10, 40, 30, 30, 30, 16]):
        ws.set_column(col, col, width)
    heads = [_("Township / street"), _("Status"), _("Work done"), _("Highlights"), _("Problems"),
             _("Next steps"), _("Submitted at")]
    for col, label in enumerate(heads):
        sheet.header(1, col, label)
    for row, narrative in enumerate(data.narratives, start=2):
        values = [narrative.township, narrative.status, narrative.work_done, narrative.highlights,
                  narrative.problems, narrative.next_steps, narrative.submitted_at]
        for col, value in enumerate(values):
            sheet.text(row, col, value, "text_c" if col in (1, 6) else "text")


def write_water(book, formats, data):
    sheet = Sheet(book, formats, sheet_names()["water"],
                  f"{data.campaign.title}  {_('Water points and hazards')}", 1)
    sheet.setup(5)
    ws = sheet.ws
    ws.set_column(0, 0, 18)
    ws.set_column(1, 5, 14)
    heads = [_("Township / street"), _("Water points (count)"), _("Key water points (count)"),
             _("Water points without a permanent sign"), _("Open hazards (count)"),
             _("Overdue hazards (count)")]
    for col, label in enumerate(heads):
        sheet.header(1, col, label)
    fields = ("points", "key_points", "without_sign", "open_hazards", "overdue_hazards")
    row = 2
    for item in data.water:
        sheet.text(row, 0, item.township)
        for col, name in enumerate(fields, start=1):
            sheet.number(row, col, getattr(item, name))
        row += 1
    sheet.text(row, 0, _("Total"), "total_text")
    for col, name in enumerate(fields, start=1):
        sheet.number(row, col, sum(getattr(item, name) for item in data.water), "total_num")
