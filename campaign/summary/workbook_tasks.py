"""The task sheets of the workbook: 汇总表 (per township), 明细表 (per unit) and 乡镇上报数 (the
townships' own figures). A block of columns per task; a sheet too wide for one page prints whole
blocks per page with the unit columns repeated (campaign.printing)."""
from flask_babel import gettext as _

from .workbook_sheet import Sheet, county_column, sheet_names

# Widths hold a header on two lines at most (宋体 10 pt: a 3-character label needs 6); the 类型 column
# (11) holds "乡镇（街道）" on one line, so its bracket never wraps alone.
COUNT_COLUMNS = [("expected", 5), ("submitted", 6), ("late", 5), ("missing", 5), ("returned", 6)]
QUANTITY_COLUMNS = [("reported", 7), ("target_total", 6), ("pct", 6)]
DONE_COLUMNS = [("done", 6), ("not_done", 6), ("pct", 6)]
DASH = "—"


def unit_label(task, data) -> str:
    return data.measure_unit_labels.get(task.measure_unit, "") if task.measure_unit else ""


def task_heading(task, data) -> str:
    """The task with how it is measured: ≥ target and unit, its unit, or yes/no."""
    unit = unit_label(task, data)
    if not task.is_quantity:
        return _("%(task)s (yes/no)", task=task.title)
    if task.target is not None:
        return f"{task.title}（≥{task.target}{unit}）"
    if unit:
        return _("%(task)s (in %(unit)s)", task=task.title, unit=unit)
    return task.title


def with_unit(label, unit) -> str:
    if not unit:
        return label
    suffix = _("(%(unit)s)", unit=unit)
    return f"{label}\n{suffix}"


def subheads(task, data):
    unit = unit_label(task, data)
    labels = {"expected": _("Expected"), "submitted": _("Submitted"), "on_time": _("On time"), "late": _("Late"),
              "missing": _("Missing"), "returned": _("Returned"), "reported": with_unit(_("Reported"), unit),
              "target_total": with_unit(_("Target"), unit), "pct": _("Completion rate"),
              "reached": _("Units reaching target"), "done": _("Done"), "not_done": _("Not done")}
    columns = COUNT_COLUMNS + (QUANTITY_COLUMNS if task.is_quantity else DONE_COLUMNS)
    return [(key, labels[key], width) for key, width in columns]


def value_of(figures, key):
    if key == "pct":
        return figures.pct_reached
    if key == "done":
        return figures.reported
    if key == "not_done":
        return figures.expected - figures.reported
    return getattr(figures, key)


def task_blocks(fixed_widths, columns_per_task):
    """Widths of every column and the first column of each task's block."""
    widths, blocks = list(fixed_widths), []
    for columns in columns_per_task:
        blocks.append(len(widths))
        widths += [width for _key, _label, width in columns]
    return widths, blocks


def write_block_headers(sheet, data, fixed_heads, columns_per_task, blocks):
    for col, label in enumerate(fixed_heads):
        sheet.header(1, col, label, last_row=2)
    heads, subs = [], []
    for task, columns, first in zip(data.progress.tasks, columns_per_task, blocks):
        heading = task_heading(task, data)
        sheet.header(1, first, heading, last_col=first + len(columns) - 1)
        heads.append((heading, first, first + len(columns) - 1))
        for offset, (_key, label, _width) in enumerate(columns):
            sheet.header(2, first + offset, label)
            subs.append((label, first + offset, first + offset))
    sheet.fit_row(1, heads, minimum=24)
    sheet.fit_row(2, subs + [(label, col, col) for col, label in enumerate(fixed_heads)], minimum=24)


def write_summary(book, formats, data):
    tasks = data.progress.tasks
    columns_per_task = [subheads(task, data) for task in tasks]
    widths, blocks = task_blocks([16], columns_per_task)
    sheet = Sheet(book, formats, sheet_names()["summary"], data.title(_("Summary by township")), widths, 2,
                  fixed_columns=1, blocks=blocks)
    write_block_headers(sheet, data, [_("Unit")], columns_per_task, blocks)
    row = 3
    for unit_row in data.progress.rows:
        sheet.text(row, 0, unit_row.name)
        sheet.fit_texts(row, [unit_row.name])
        for task, columns, first in zip(tasks, columns_per_task, blocks):
            write_figures(sheet, row, first, columns, unit_row.cells.get(task.id))
        row += 1
    sheet.text(row, 0, _("Total"), "total_text")
    for task, columns, first in zip(tasks, columns_per_task, blocks):
        write_figures(sheet, row, first, columns, data.progress.total(task.id), total=True)
    sheet.sign(row + 1, data)


def write_figures(sheet, row, col, columns, figures, total=False):
    num, pct = ("total_num", "total_pct") if total else ("num", "pct")
    if figures is None or figures.expected == 0:
        for offset in range(len(columns)):
            sheet.text(row, col + offset, DASH, "total_text" if total else "text_c")
        return
    for offset, (key, _label, _width) in enumerate(columns):
        if key == "pct":
            sheet.rate(row, col + offset, figures.pct_reached, pct)
        else:
            sheet.number(row, col + offset, value_of(figures, key), num)


def report_state(figures, labels) -> str:
    """One unit's report: 已退回 before anything else, then 按时 / 逾期 once submitted, else 未报."""
    if figures.returned:
        return labels["returned"]
    if figures.submitted:
        return labels["on_time"] if figures.on_time else labels["late"]
    return labels["missing"]


def detail_columns(task, data):
    unit = unit_label(task, data)
    if task.is_quantity:
        return [("reported", with_unit(_("Reported"), unit), 8), ("target_total", with_unit(_("Target"), unit), 7),
                ("pct", _("Completion rate"), 7), ("state", _("Status"), 7)]
    return [("done", _("Done or not"), 8), ("state", _("Status"), 7)]


def write_detail(book, formats, data):
    tasks = data.progress.tasks
    columns_per_task = [detail_columns(task, data) for task in tasks]
    fixed_widths, fixed_heads = county_column(data, [14, 16, 11], [_("Township / street"), _("Unit"), _("Kind")])
    widths, blocks = task_blocks(fixed_widths, columns_per_task)
    sheet = Sheet(book, formats, sheet_names()["detail"], data.title(_("Detail by village")), widths, 2,
                  fixed_columns=len(fixed_widths), blocks=blocks)
    write_block_headers(sheet, data, fixed_heads, columns_per_task, blocks)
    labels = {"on_time": _("On time"), "late": _("Late"), "missing": _("Missing"), "returned": _("Returned")}
    done_labels = {True: _("Done"), False: _("Not done")}
    row = 3
    for unit_row in data.detail_rows():
        township = data.township_of(unit_row.township_id)
        names = [unit_row.township_name, unit_row.name, data.kind_labels.get(unit_row.kind, unit_row.kind)]
        if data.city_scale:
            names.insert(0, township.county if township else "")
        for col, name in enumerate(names):
            sheet.text(row, col, name, "text_c" if col == len(names) - 1 else "text")
        sheet.fit_texts(row, names)
        for task, columns, first in zip(tasks, columns_per_task, blocks):
            write_unit_figures(sheet, row, first, columns, unit_row.cells.get(task.id), labels, done_labels)
        row += 1
    sheet.sign(row, data)


def write_unit_figures(sheet, row, col, columns, figures, labels, done_labels):
    counted = figures is not None and figures.submitted and not figures.returned
    for offset, (key, _label, _width) in enumerate(columns):
        if figures is None:
            sheet.text(row, col + offset, DASH, "text_c")
        elif key == "state":
            sheet.text(row, col + offset, report_state(figures, labels), "text_c")
        elif key == "done":
            sheet.text(row, col + offset, done_labels[bool(figures.reported)] if counted else DASH, "text_c")
        elif key == "target_total":
            sheet.number(row, col + offset, figures.target_total)
        elif not counted:
            sheet.text(row, col + offset, DASH, "text_c")
        elif key == "pct":
            sheet.rate(row, col + offset, figures.pct_reached)
        else:
            sheet.number(row, col + offset, figures.reported)


def write_township_figures(book, formats, data):
    """Per township and task: compiled from its villages, its correction, the figure adopted, its note."""
    tasks = data.progress.tasks
    columns = [("compiled", _("Compiled from villages"), 8), ("corrected", _("Corrected by township"), 8),
               ("adopted", _("Figure adopted"), 8), ("note", _("Correction note"), 18)]
    columns_per_task = [columns] * len(tasks)
    fixed_widths, fixed_heads = county_column(data, [14, 9], [_("Township / street"), _("Summary status")])
    widths, blocks = task_blocks(fixed_widths, columns_per_task)
    sheet = Sheet(book, formats, sheet_names()["townships"], data.title(_("Township figures")), widths, 2,
                  fixed_columns=len(fixed_widths), blocks=blocks)
    write_block_headers(sheet, data, fixed_heads, columns_per_task, blocks)
    row = 3
    for line in data.township_figures:
        names = ([line.township.county] if data.city_scale else []) + [line.township.name, line.status]
        for col, name in enumerate(names):
            sheet.text(row, col, name, "text_c" if col == len(names) - 1 else "text")
        cells = [(name, col, col) for col, name in enumerate(names)]
        for task, first in zip(tasks, blocks):
            figure = line.figures[task.id]
            sheet.number(row, first, figure.compiled)
            if figure.corrected is None:
                sheet.text(row, first + 1, "", "text_c")
            else:
                sheet.number(row, first + 1, figure.corrected)
            sheet.number(row, first + 2, figure.adopted)
            sheet.text(row, first + 3, figure.note)
            cells.append((figure.note, first + 3, first + 3))
        sheet.fit_row(row, cells)
        row += 1
    if len(fixed_widths) > 1:
        sheet.ws.merge_range(row, 0, row, len(fixed_widths) - 1, "", formats["total_text"])
    sheet.text(row, 0, _("Total"), "total_text")
    for task, first in zip(tasks, blocks):
        sheet.number(row, first, sum(line.figures[task.id].compiled for line in data.township_figures), "total_num")
        sheet.text(row, first + 1, "", "total_text")
        sheet.number(row, first + 2, sum(line.figures[task.id].adopted for line in data.township_figures),
                     "total_num")
        sheet.text(row, first + 3, "", "total_text")
    sheet.sign(row + 1, data, note=_(
        "Totals add up the figure adopted: the township's corrected figure where it corrected one in its "
        "submitted summary, else the figure compiled from the approved reports of its villages. The summary "
        "sheet counts submitted and approved reports, like the dashboard."))
