"""The county's compiled workbook, in the official form style: data in, bytes out (no database here).

Every text a user typed (unit, task and campaign names, narratives, contacts) is written with
``write_string`` in a workbook opened with strings_to_formulas/urls off, so ``=HYPERLINK(…)`` stays text.
Print layout (docs/printing.md): sheets narrow enough are fitted to one page wide (≥ 70 %); the wide
task sheets print at a fixed scale ≥ 70 %, whole tasks per page, the unit columns repeated.
"""
import io

import xlsxwriter
from flask_babel import gettext as _

from .workbook_data import WorkbookData
from .workbook_sheet import Sheet, county_column, make_formats, sheet_names
from .workbook_tasks import write_detail, write_summary, write_township_figures


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
    if data.township_figures:
        write_township_figures(book, formats, data)
    write_late(book, formats, data)
    write_narratives(book, formats, data)
    if data.water:
        write_water(book, formats, data)
    book.close()
    return output.getvalue()


def write_cover(book, formats, data):
    campaign = data.campaign
    sheet = Sheet(book, formats, sheet_names()["cover"], data.title(_("Summary workbook")), [22, 70], 0)
    facts = [
        (_("Campaign"), campaign.title),
        (_("Theme"), campaign.theme),
        (_("Window"), f"{campaign.start_date} – {campaign.end_date}"),
        (_("Summary deadline"), data.deadline_local),
        (_("Scope"), data.scope.name),
        (_("Compiled at"), data.compiled_at_local),
        (_("Compiled by"), data.compiled_by),
    ]
    for offset, (label, value) in enumerate(facts, start=2):
        sheet.fit_row(offset, [(value, 1, 1)], minimum=24)
        sheet.text(offset, 0, label, "label")
        sheet.text(offset, 1, value, "value")
    sheet.sign(offset + 1, data)


def write_late(book, formats, data):
    widths, heads = county_column(data, [16, 20, 28, 12, 12, 16],
                                  [_("Township / street"), _("Unit"), _("Task"), _("Status"), _("Contact"), _("Phone")])
    widths, heads = [6] + widths, [_("No.")] + heads
    sheet = Sheet(book, formats, sheet_names()["late"], data.title(_("Late and missing units")), widths)
    for col, label in enumerate(heads):
        sheet.header(1, col, label)
    sheet.fit_texts(1, heads)
    status_col = len(heads) - 3
    row = 1
    for index, late in enumerate(data.late, start=1):
        row = index + 1
        values = [late.township_name, late.unit_name, late.task_title,
                  data.status_labels.get(late.status, late.status), late.contact_name, late.phone]
        if data.city_scale:
            township = data.township_of(late.township_id)
            values.insert(0, township.county if township else "")
        sheet.number(row, 0, index)
        for col, value in enumerate(values, start=1):
            sheet.text(row, col, value, "text_c" if col == status_col else "text")
        sheet.fit_texts(row, [""] + values)
    sheet.sign(row + 1, data)


def write_narratives(book, formats, data):
    """A township per block of four rows (work done, highlights, problems, next steps): the narrative
    column is wide enough to read and the sheet fits one page wide."""
    widths, heads = county_column(
        data, [12, 8, 11, 10, 60],
        [_("Township / street"), _("Status"), _("Submitted at"), _("Item"), _("Content")])
    sheet = Sheet(book, formats, sheet_names()["narratives"], data.title(_("Township summaries")), widths)
    for col, label in enumerate(heads):
        sheet.header(1, col, label)
    sheet.fit_texts(1, heads)
    items = [(_("Work done"), "work_done"), (_("Highlights"), "highlights"), (_("Problems"), "problems"),
             (_("Next steps"), "next_steps")]
    item_col = len(heads) - 2
    row = 2
    for narrative in data.narratives:
        names = [narrative.township, narrative.status, narrative.submitted_at]
        if data.city_scale:
            names.insert(0, narrative.county)
        for col, value in enumerate(names):
            sheet.ws.merge_range(row, col, row + len(items) - 1, col, "", formats["text_c"])
            sheet.text(row, col, value, "text_c")
        for offset, (label, name) in enumerate(items):
            sheet.text(row + offset, item_col, label, "text_c")
            sheet.text(row + offset, item_col + 1, getattr(narrative, name))
            sheet.fit_row(row + offset, [(getattr(narrative, name), item_col + 1, item_col + 1)])
        row += len(items)
    sheet.sign(row, data)


def write_water(book, formats, data):
    widths, heads = county_column(
        data, [16, 12, 12, 14, 12, 12],
        [_("Township / street"), _("Water points (count)"), _("Key water points (count)"),
         _("Water points without a permanent sign"), _("Open hazards (count)"), _("Overdue hazards (count)")])
    sheet = Sheet(book, formats, sheet_names()["water"], data.title(_("Water points and hazards")), widths)
    for col, label in enumerate(heads):
        sheet.header(1, col, label)
    sheet.fit_texts(1, heads)
    fields = ("points", "key_points", "without_sign", "open_hazards", "overdue_hazards")
    first = len(heads) - len(fields)
    row = 2
    for item in data.water:
        names = ([item.county] if data.city_scale else []) + [item.township]
        for col, name in enumerate(names):
            sheet.text(row, col, name)
        for col, name in enumerate(fields, start=first):
            sheet.number(row, col, getattr(item, name))
        sheet.fit_texts(row, names)
        row += 1
    if first > 1:
        sheet.ws.merge_range(row, 0, row, first - 1, "", formats["total_text"])
    sheet.text(row, 0, _("Total"), "total_text")
    for col, name in enumerate(fields, start=first):
        sheet.number(row, col, sum(getattr(item, name) for item in data.water), "total_num")
    sheet.sign(row + 1, data)
