"""What every CSV export shares: a cell a spreadsheet will never run as a formula."""

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
