"""Print set-up shared by every workbook the office hands upward (summary workbook, water forms).

Legibility rule: a sheet is fitted to one page wide only when that keeps it at 70 % or more of its
font size; a wider sheet prints at a fixed scale of at least 70 %, split into pages of whole column
blocks (one or more tasks) with its leading columns repeated on each page.

Column widths count digits of the workbook's default font (Calibri: 7 px at 96 dpi); LibreOffice
without Calibri substitutes a wider font (DejaVu Sans: about 10 px, measured), so pages are planned with
10.5 px per unit and never spill over, whatever font the printing PC has. A4 landscape between
1 cm margins leaves about 1,040 pixels.

Page numbers restart on every sheet (``set_start_page(1)``); the footer names the sheet and its page
("汇总表  第 2 页") and not a page count, because LibreOffice counts ``&N`` over the whole workbook.
"""
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

A4 = 9
PAGE_PIXELS = 1040
MIN_SCALE = 70
TARGET_SCALE = 80  # a split sheet gets as many whole blocks per page as fit at this scale
MARGIN_INCHES = 0.4
FOOTER = "&C&A　第 &P 页"
PIXELS_PER_UNIT = 10.5
POINTS_PER_LINE = 1.35  # line height in font points
ROW_PADDING = 4


def column_pixels(width: float) -> int:
    return int(width * PIXELS_PER_UNIT + 5)


@lru_cache(maxsize=8192)  # names repeat on thousands of rows
def display_width(text: str) -> int:
    """Width in half-width cells: a CJK or full-width character counts 2."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def text_lines(text: str, width: float, font_size: float = 10) -> int:
    """Lines that ``text`` wraps to in a column of ``width`` (hard line breaks kept)."""
    per_line = max(1.0, width * 11 / font_size - 1)  # a half-width cell of a 10-pt font ≈ 7/1.1 px
    return sum(max(1, math.ceil(display_width(part) / per_line)) for part in str(text or "").split("\n"))


def row_height(cells, font_size: float = 10, minimum: float = 0) -> float:
    """Height in points for a row of ``cells`` [(text, column width)], the tallest wrapped cell."""
    lines = max((text_lines(text, width, font_size) for text, width in cells), default=1)
    return max(minimum, round(lines * font_size * POINTS_PER_LINE + ROW_PADDING, 1))


def page_setup(ws, widths: list[float], *, repeat_rows=None, fixed_columns: int = 0, blocks=None):
    """A4 landscape, per-sheet page numbers, and the legibility rule above.

    ``widths``: every column's width; ``fixed_columns``: the leading columns repeated on every page
    when the sheet is too wide; ``blocks``: the first column of each block that must not be split
    (a task's columns), for the page breaks. Returns the last column of the first printed page."""
    ws.set_paper(A4)
    ws.set_landscape()
    ws.set_margins(left=MARGIN_INCHES, right=MARGIN_INCHES, top=0.6, bottom=0.7)
    ws.center_horizontally()
    ws.set_footer(FOOTER)
    ws.set_start_page(1)
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    total = sum(column_pixels(width) for width in widths)
    if total * MIN_SCALE / 100 <= PAGE_PIXELS:
        ws.fit_to_pages(1, 0)
        return len(widths) - 1
    breaks, scale = page_breaks(widths, fixed_columns, blocks or list(range(fixed_columns, len(widths))))
    ws.set_print_scale(scale)
    if fixed_columns:
        ws.repeat_columns(0, fixed_columns - 1)
    ws.set_v_pagebreaks(breaks)
    return (breaks[0] if breaks else len(widths)) - 1


def page_breaks(widths, fixed_columns, blocks) -> tuple[list[int], int]:
    """Greedy: as many whole blocks per page as fit at TARGET_SCALE, then the scale that fits the widest
    page (never below MIN_SCALE: a block wider than a page at 70 % is split by the printer, still legible)."""
    fixed = sum(column_pixels(width) for width in widths[:fixed_columns])
    bounds = list(blocks) + [len(widths)]
    spans = [sum(column_pixels(width) for width in widths[start:end]) for start, end in zip(bounds, bounds[1:])]
    breaks, page, widest = [], 0, 0
    for start, span in zip(bounds, spans):
        if page and fixed + page + span > PAGE_PIXELS * 100 / TARGET_SCALE:
            breaks.append(start)
            widest = max(widest, fixed + page)
            page = 0
        page += span
    widest = max(widest, fixed + page)
    scale = max(MIN_SCALE, min(100, math.floor(PAGE_PIXELS * 100 / widest)))
    return breaks, scale


@dataclass
class Signature:
    """The lines a submitted form carries; what the app does not know is left as a line to sign on."""

    unit: str = ""
    filled_by: str = ""
    phone: str = ""
    filled_on: str = ""


BLANK = "＿＿＿＿＿＿"
ZH_LABELS = {"unit": "填报单位（盖章）", "filled_by": "填报人", "reviewer": "审核人（负责人）", "phone": "联系电话",
             "filled_on": "填报日期"}


def signature_lines(signature: Signature, labels=None) -> list[str]:
    labels = labels or ZH_LABELS
    gap = "\u3000" * 3

    def item(key, value):
        return f"{labels[key]}：{value or BLANK}"

    return [
        gap.join([item("unit", signature.unit), item("filled_by", signature.filled_by),
                  item("phone", signature.phone)]),
        gap.join([item("reviewer", ""), item("filled_on", signature.filled_on)]),
    ]


def write_signature(ws, row: int, last_column: int, signature: Signature, fmt, labels=None) -> int:
    """The signature lines in one row (so a page break never parts them), merged over columns
    0…last_column; ``fmt`` must wrap text. Returns the next free row."""
    lines = signature_lines(signature, labels)
    ws.set_row(row, 26 * len(lines))
    if last_column > 0:
        ws.merge_range(row, 0, row, last_column, "", fmt)
    ws.write_string(row, 0, "\n".join(lines), fmt)
    return row + 1


def chinese_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""
