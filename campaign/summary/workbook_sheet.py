"""The workbook's sheet scaffolding: formats, title, column widths, print set-up, signature lines."""
from flask_babel import gettext as _

from ..printing import page_setup, row_height, write_signature

FONT = {"font_name": "宋体", "font_charset": 134, "font_size": 10}
MAX_ROW_HEIGHT = 409  # points: Excel's limit


class Sheet:
    """A worksheet with the form's title, column widths, print set-up and signature lines."""

    def __init__(self, book, formats, name, title, widths, header_rows=1, fixed_columns=0, blocks=None):
        self.ws = book.add_worksheet(name)
        self.f = formats
        self.widths = widths
        for col, width in enumerate(widths):
            self.ws.set_column(col, col, width)
        repeat = (1, header_rows) if header_rows else None
        self.first_page_last = page_setup(self.ws, widths, repeat_rows=repeat, fixed_columns=fixed_columns,
                                          blocks=blocks)
        last = max(self.first_page_last, 1)
        self.ws.merge_range(0, 0, 0, last, "", formats["title"])
        self.ws.write_string(0, 0, title, formats["title"])
        self.ws.set_row(0, row_height([(title, sum(widths[:last + 1]))], 16, minimum=30))
        if header_rows:
            self.ws.freeze_panes(1 + header_rows, fixed_columns)

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

    def fit_row(self, row, cells, minimum=18):
        """Row height for wrapped text: ``cells`` [(text, first column, last column)]."""
        height = row_height([(text, sum(self.widths[first:last + 1])) for text, first, last in cells],
                            FONT["font_size"], minimum)
        self.ws.set_row(row, min(height, MAX_ROW_HEIGHT))

    def fit_texts(self, row, values, minimum=18):
        self.fit_row(row, [(value, col, col) for col, value in enumerate(values)], minimum)

    def sign(self, row, data, note=None):
        """The rule note (if any) and the signature lines, under the table on the first page's width."""
        row += 1
        if note:
            self.ws.merge_range(row, 0, row, self.first_page_last, "", self.f["note"])
            self.ws.write_string(row, 0, note, self.f["note"])
            self.fit_row(row, [(note, 0, self.first_page_last)])
            row += 1
        write_signature(self.ws, row, self.first_page_last, data.signature, self.f["sign"], signature_labels())


def signature_labels():
    return {"unit": _("Reporting unit (seal)"), "filled_by": _("Filled in by"),
            "reviewer": _("Reviewed by (head)"), "phone": _("Phone"), "filled_on": _("Date filled in")}


def make_formats(book):
    border = {"border": 1, "valign": "vcenter"}

    def fmt(**extra):
        return book.add_format({**FONT, **border, **extra})

    return {
        "title": book.add_format({**FONT, "bold": True, "font_size": 16, "align": "center", "valign": "vcenter",
                                  "text_wrap": True}),
        "head": fmt(bold=True, align="center", text_wrap=True, bg_color="#D9D9D9"),
        "text": fmt(text_wrap=True),
        "text_c": fmt(align="center", text_wrap=True),
        "num": fmt(num_format="0"),
        "pct": fmt(num_format="0.0%"),
        "total_text": fmt(bold=True, align="center"),
        "total_num": fmt(bold=True, num_format="0"),
        "total_pct": fmt(bold=True, num_format="0.0%"),
        "label": book.add_format({**FONT, **border, "bold": True, "font_size": 12}),
        "value": book.add_format({**FONT, **border, "font_size": 12, "text_wrap": True}),
        "note": book.add_format({**FONT, "text_wrap": True, "valign": "top"}),
        "sign": book.add_format({**FONT, "font_size": 11, "valign": "vcenter", "text_wrap": True}),
    }


def sheet_names():
    return {
        "cover": _("Cover"),
        "summary": _("Summary by township"),
        "detail": _("Detail by village"),
        "townships": _("Township figures"),
        "late": _("Late and missing"),
        "narratives": _("Township summaries"),
        "water": _("Water points and hazards"),
    }


def county_column(data, widths, heads):
    """At city scale every per-township sheet starts with the county."""
    if data.city_scale:
        return [12] + widths, [_("County / district")] + heads
    return widths, heads
