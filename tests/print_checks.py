"""Checks of a printed sheet's set-up, read back from the file: the legibility rule of campaign.printing."""
from campaign.printing import MIN_SCALE, PAGE_PIXELS, column_pixels

TOLERANCE = 15  # pixels: widths are read back rounded


def sheet_widths(sheet) -> list[int]:
    """Every column's width as set (files store it with a padding of about 0.71), ranges expanded."""
    found = {}
    for dimension in sheet.column_dimensions.values():
        for column in range(dimension.min, dimension.max + 1):
            found[column] = int(dimension.width)
    return [found.get(column, 8) for column in range(1, max(found, default=0) + 1)]


def repeated_columns(sheet) -> int:
    if not sheet.print_title_cols:
        return 0
    first, last = sheet.print_title_cols.replace("$", "").split(":")
    return ord(last) - ord(first) + 1


def page_spans(sheet) -> list[tuple[int, int]]:
    """(first, last) 0-based columns of each printed page across, from the manual column breaks."""
    widths = sheet_widths(sheet)
    starts = sorted(brk.id for brk in sheet.col_breaks.brk)
    first = repeated_columns(sheet)
    spans = []
    for start in starts + [len(widths)]:
        spans.append((first, start - 1))
        first = start
    return spans


def assert_legible(sheet):
    """Fitted to one page wide only when that keeps 70 % or more; otherwise a fixed scale of 70 % or
    more with the leading columns repeated, and every page (repeated columns included) within A4."""
    widths = sheet_widths(sheet)
    if sheet.sheet_properties.pageSetUpPr is not None and sheet.sheet_properties.pageSetUpPr.fitToPage:
        assert (sheet.page_setup.fitToWidth or 1) == 1 and sheet.page_setup.fitToHeight == 0, sheet.title
        assert sum(map(column_pixels, widths)) * MIN_SCALE / 100 <= PAGE_PIXELS + TOLERANCE, sheet.title
        return
    scale = int(sheet.page_setup.scale)
    assert MIN_SCALE <= scale <= 100, sheet.title
    assert sheet.print_title_cols, sheet.title
    fixed = sum(map(column_pixels, widths[:repeated_columns(sheet)]))
    for first, last in page_spans(sheet):
        page = fixed + sum(map(column_pixels, widths[first:last + 1]))
        assert page * scale / 100 <= PAGE_PIXELS + TOLERANCE, (sheet.title, first, last, scale)
