"""What the table reader says when it refuses a file: every importer shows these."""
from flask_babel import lazy_gettext as _l

TABLE_ERRORS = {
    "unreadable_file": _l("The file cannot be read as a CSV or XLSX table."),
    "file_too_large": _l("The file is larger than %(limit)s MB: split it into smaller files."),
    "unpacks_too_large": _l("The XLSX file unpacks to more than %(limit)s MB: split it into smaller files."),
    "packed_too_tight": _l("The XLSX file unpacks to more than %(limit)s times its size, which no real table "
                           "does: it was refused unread."),
    "too_many_rows": _l("The file has more than %(limit)s rows: split it into smaller files."),
    "too_many_columns": _l("The table has more than %(limit)s columns."),
    "too_many_cells": _l("The file has more than %(limit)s cells: split it into smaller files."),
    "too_slow": _l("Reading the file took more than %(limit)s seconds: split it into smaller files."),
    "missing_columns": _l("The file lacks the required column(s): %(columns)s. The header row (the row of "
                          "column names, below any title rows) must name them."),
    "merged_cells": _l("Rows %(first_line)s–%(last_line)s of column(s) %(columns)s are merged in a way that "
                       "cannot be read row by row: unmerge these cells and fill in every row."),
    "scientific_code": _l("“%(value)s” is a code a spreadsheet turned into a number in scientific notation, "
                          "losing digits: format the column %(column)s as text and enter the full codes again "
                          "(or start from the app's XLSX export)."),
    "empty_file": _l("The file has no rows to import."),
}
