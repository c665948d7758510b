"""Tables in and out: the one reader every spreadsheet import goes through."""
from .reader import RowError, Table, TableRefused, TableSpec, read_table

__all__ = ["RowError", "Table", "TableRefused", "TableSpec", "read_table"]
