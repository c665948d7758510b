"""Read the table an office uploads, the way offices make them.

XLSX or CSV (UTF-8 with or without BOM, GB18030); title rows above the header (the header row is
found by its column names, Chinese or English); merged cells filled down (a merge that cannot be
filled is refused, never read as empty); numbers and numbers-as-text both become text, whole
numbers without ".0"; codes a spreadsheet turned into 3.30112E+11 refused. Rows are numbered as
the spreadsheet numbers them. Bounded before and while parsing: file size, the XLSX's unpacked
size and compression ratio, rows, cells and seconds.
"""
import csv
import io
import re
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app, has_app_context

from ..config import Config

HEADER_SEARCH_ROWS = 30
LIMITS = ("TABLE_MAX_FILE_MB", "TABLE_MAX_UNPACKED_MB", "TABLE_MAX_RATIO", "TABLE_MAX_ROWS", "TABLE_MAX_COLUMNS",
          "TABLE_MAX_CELLS", "TABLE_MAX_SECONDS")
RATIO_CHECK_FROM = 1024 * 1024  # small members may compress well without being a bomb
SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
SCIENTIFIC_FORMAT = re.compile(r"[eE][+-]")  # "0.00E+00"; "General" has an E too


@dataclass
class RowError:
    """One reason a file cannot be imported: ``line`` as the spreadsheet numbers it, ``column`` the
    canonical column name (None for the file as a whole), ``value`` the cell as written."""

    line: int
    code: str
    column: str | None = None
    value: str = ""
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TableSpec:
    """The columns an importer knows: canonical name → the header names it may carry (the first is
    the name a message uses). ``code_columns`` hold codes or phone numbers: digits that must stay text."""

    columns: dict
    required: tuple
    code_columns: tuple = ()

    def lookup(self) -> dict:
        names = {}
        for canonical, aliases in self.columns.items():
            for name in (canonical, *aliases):
                names.setdefault(normalise_header(name), canonical)
        return names

    def display_name(self, canonical: str) -> str:
        aliases = self.columns.get(canonical) or ()
        return f"{aliases[0]} ({canonical})" if aliases else canonical


@dataclass
class Table:
    headers: dict  # canonical column → header as written in the file
    rows: list  # (line, {canonical column → text})
    header_line: int = 1


class TableRefused(Exception):
    def __init__(self, errors, headers=None):
        super().__init__(errors[0].code if errors else "refused")
        self.errors = errors
        self.headers = headers or {}


def normalise_header(text) -> str:
    """Full-width brackets, line breaks and spaces inside a header do not change its meaning."""
    text = unicodedata.normalize("NFKC", str(text or "")).lstrip("\ufeff")
    return re.sub(r"\s+", "", text).lower().replace("-", "_")


def limits() -> dict:
    """The TABLE_MAX_* settings of the app (``config.Config`` holds the defaults)."""
    config = current_app.config if has_app_context() else {}
    return {name: config.get(name, getattr(Config, name)) for name in LIMITS}


def read_table(data: bytes, filename: str, spec: TableSpec) -> Table:
    """The table in ``data`` as text cells keyed by canonical column, or TableRefused."""
    bounds = limits()
    if len(data) > bounds["TABLE_MAX_FILE_MB"] * 1024 * 1024:
        raise TableRefused([RowError(1, "file_too_large", details={"limit": bounds["TABLE_MAX_FILE_MB"]})])
    is_xlsx = data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))
    try:
        grid, merges, formats = _xlsx_grid(data, bounds) if is_xlsx else _csv_grid(data, bounds)
    except TableRefused:
        raise
    except Exception:  # zipfile, openpyxl and the csv module raise many kinds of errors for a broken file
        raise TableRefused([RowError(1, "unreadable_file")]) from None
    return _table(grid, merges, formats, spec, bounds)


# --- Reading the cells -------------------------------------------------------------------------


class _Budget:
    """Counts rows and cells as they stream in and stops the read at the first limit passed."""

    def __init__(self, bounds):
        self.bounds = bounds
        self.rows = self.cells = 0
        self.deadline = time.monotonic() + bounds["TABLE_MAX_SECONDS"]

    def take(self, width: int):
        self.rows += 1
        self.cells += width
        if self.rows > self.bounds["TABLE_MAX_ROWS"]:
            raise TableRefused([RowError(1, "too_many_rows", details={"limit": self.bounds["TABLE_MAX_ROWS"]})])
        if width > self.bounds["TABLE_MAX_COLUMNS"]:
            raise TableRefused([RowError(self.rows, "too_many_columns",
                                         details={"limit": self.bounds["TABLE_MAX_COLUMNS"]})])
        if self.cells > self.bounds["TABLE_MAX_CELLS"]:
            raise TableRefused([RowError(1, "too_many_cells", details={"limit": self.bounds["TABLE_MAX_CELLS"]})])
        if self.rows % 1000 == 0 and time.monotonic() > self.deadline:
            raise TableRefused([RowError(1, "too_slow", details={"limit": self.bounds["TABLE_MAX_SECONDS"]})])


def _csv_grid(data: bytes, bounds):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    text = text.replace("\x00", "")  # never meant in a cell, and PostgreSQL refuses it in text
    budget = _Budget(bounds)
    grid = []
    for record in csv.reader(io.StringIO(text, newline="")):
        budget.take(len(record))
        grid.append([_csv_text(cell) for cell in record])
    return grid, [], {}


def _csv_text(cell: str) -> str:
    cell = cell.strip()
    if cell[:2] == '="' and cell[-1:] == '"' and len(cell) > 2:  # ="330112001001", the CSV way of saying "text"
        return cell[2:-1].strip()
    return cell


def _xlsx_grid(data: bytes, bounds):
    import openpyxl

    archive = zipfile.ZipFile(io.BytesIO(data))
    _check_archive(archive, bounds)
    # Counted before openpyxl reads anything: it parses the whole shared-string table up front.
    scans = {name: _scan_sheet(archive, name) for name in archive.namelist()
             if name.startswith("xl/worksheets/") and name.endswith(".xml")}
    if any(rows > bounds["TABLE_MAX_ROWS"] for rows, _ in scans.values()):
        raise TableRefused([RowError(1, "too_many_rows", details={"limit": bounds["TABLE_MAX_ROWS"]})])
    if _shared_strings(archive) > bounds["TABLE_MAX_CELLS"]:
        raise TableRefused([RowError(1, "too_many_cells", details={"limit": bounds["TABLE_MAX_CELLS"]})])
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        budget = _Budget(bounds)
        grid, formats = [], {}
        for cells in sheet.iter_rows():
            budget.take(len(cells))
            line = []
            for cell in cells:
                value = getattr(cell, "value", None)
                if (isinstance(value, (int, float)) and not isinstance(value, bool)
                        and SCIENTIFIC_FORMAT.search(getattr(cell, "number_format", "") or "")):
                    formats[(len(grid), len(line))] = "scientific"
                line.append(_xlsx_text(value))
            grid.append(line)
        merges = scans.get(sheet._worksheet_path.lstrip("/"), (0, []))[1]
    finally:
        book.close()
    return grid, merges, formats


def _shared_strings(archive: zipfile.ZipFile) -> int:
    try:
        with archive.open("xl/sharedStrings.xml") as stream:
            head = stream.read(1024)
    except KeyError:
        return 0
    match = re.search(rb'uniqueCount="(\d+)"', head) or re.search(rb'count="(\d+)"', head)
    return int(match.group(1)) if match else 0


def _check_archive(archive: zipfile.ZipFile, bounds):
    """A zip that expands far beyond its size is refused before a byte of it is parsed."""
    limit = bounds["TABLE_MAX_UNPACKED_MB"] * 1024 * 1024
    total = 0
    for member in archive.infolist():
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECK_FROM and ratio > bounds["TABLE_MAX_RATIO"]:
            raise TableRefused([RowError(1, "packed_too_tight", details={"limit": bounds["TABLE_MAX_RATIO"]})])
        if total > limit:
            raise TableRefused([RowError(1, "unpacks_too_large", details={"limit": bounds["TABLE_MAX_UNPACKED_MB"]})])


MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Za-z]+\d+(?::[A-Za-z]+\d+)?)"')
ROW_START = re.compile(rb"<(?:\w+:)?row[\s>/]")


def _scan_sheet(archive: zipfile.ZipFile, name: str):
    """The number of rows and the merged ranges (first row, first column, last row, last column;
    0-based) from one fast pass over the sheet's XML, whose size is already bounded: read-only
    sheets do not keep their merges, and rows are best counted before openpyxl parses them."""
    from openpyxl.utils.cell import range_boundaries

    rows, merges, tail = 0, [], b""
    with archive.open(name) as stream:
        while chunk := stream.read(1 << 20):
            text = tail + chunk
            end = text.rfind(b">") + 1
            rows += sum(1 for _ in ROW_START.finditer(text, 0, end))
            for match in MERGE_CELL.finditer(text, 0, end):
                first_column, first_row, last_column, last_row = range_boundaries(match.group(1).decode())
                merges.append((first_row - 1, first_column - 1, last_row - 1, last_column - 1))
            tail = text[end:]
    return rows, merges


def _xlsx_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return _csv_text(str(value))


# --- Making it a table ---------------------------------------------------------------------------


def _table(grid, merges, formats, spec: TableSpec, bounds) -> Table:
    if not any(cell for cells in grid for cell in cells):
        raise TableRefused([RowError(1, "empty_file")])
    _fill_merges(grid, merges, bounds["TABLE_MAX_CELLS"])
    lookup = spec.lookup()
    header_index = _header_row(grid, lookup)
    if header_index is None:
        missing = ", ".join(spec.display_name(name) for name in spec.required)
        raise TableRefused([RowError(1, "missing_columns", details={"columns": missing})])
    positions, headers = {}, {}
    for position, text in enumerate(grid[header_index]):
        canonical = lookup.get(normalise_header(text))
        if canonical is not None and canonical not in positions:
            positions[canonical] = position
            headers[canonical] = text.strip()
    missing = [name for name in spec.required if name not in positions]
    if missing:
        columns = ", ".join(spec.display_name(name) for name in missing)
        raise TableRefused([RowError(header_index + 1, "missing_columns", details={"columns": columns})], headers)
    errors = _check_merges(merges, header_index, positions, headers)
    by_position = {position: canonical for canonical, position in positions.items()}
    rows = []
    for index in range(header_index + 1, len(grid)):
        cells = grid[index]
        values = {canonical: (cells[position] if position < len(cells) else "")
                  for canonical, position in positions.items()}
        if not any(values.values()):
            continue  # Excel leaves empty lines about; they are no error
        for canonical in spec.code_columns:
            position = positions.get(canonical)
            if position is None:
                continue
            text = values[canonical]
            if ("E" in text.upper() and SCIENTIFIC.match(text)) or formats.get((index, position)) == "scientific":
                errors.append(RowError(index + 1, "scientific_code", canonical, text,
                                       {"column": headers[canonical]}))
        rows.append((index + 1, values))
    if errors:
        order = {canonical: position for position, canonical in by_position.items()}
        errors.sort(key=lambda error: (error.line, order.get(error.column, -1)))
        raise TableRefused(errors, headers)
    return Table(headers=headers, rows=rows, header_line=header_index + 1)


def _header_row(grid, lookup) -> int | None:
    """The first of the top rows naming the most known columns (at least two, or the only one)."""
    best, best_score = None, 0
    for index, cells in enumerate(grid[:HEADER_SEARCH_ROWS]):
        score = len({lookup[name] for name in map(normalise_header, cells) if name in lookup})
        if score > best_score:
            best, best_score = index, score
    needed = min(2, len(set(lookup.values())))
    return best if best_score >= needed else None


def _fill_merges(grid, merges, max_cells: int):
    """Give every cell of a merged block the block's value (headers merged over two header rows
    included), within the cells that exist and at most ``max_cells`` filled in all."""
    filled = 0
    for first_row, first_column, last_row, last_column in merges:
        if first_row >= len(grid):
            continue
        last_row = min(last_row, len(grid) - 1)
        last_column = min(last_column, max((len(cells) for cells in grid[first_row:last_row + 1]), default=0) - 1)
        if last_column < first_column:
            continue
        source = grid[first_row]
        value = source[first_column] if first_column < len(source) else ""
        filled += (last_row - first_row + 1) * (last_column - first_column + 1)
        if filled > max_cells:
            raise TableRefused([RowError(1, "too_many_cells", details={"limit": max_cells})])
        for row in range(first_row, last_row + 1):
            cells = grid[row]
            if len(cells) <= last_column:
                cells.extend([""] * (last_column + 1 - len(cells)))
            for column in range(first_column, last_column + 1):
                cells[column] = value


def _check_merges(merges, header_index, positions, headers) -> list:
    """A block over two known columns, or reaching from the header into the data, has no one
    meaning per cell: it is refused with its rows and columns."""
    known = {position: canonical for canonical, position in positions.items()}
    errors = []
    for first_row, first_column, last_row, last_column in merges:
        if last_row <= header_index:
            continue  # titles and headers may be merged as they like
        columns = [known[column] for column in range(first_column, last_column + 1) if column in known]
        if columns and (first_row <= header_index or len(columns) > 1):
            errors.append(RowError(max(first_row, header_index + 1) + 1, "merged_cells", columns[0], "", {
                "first_line": first_row + 1, "last_line": last_row + 1,
                "columns": ", ".join(headers[column] for column in columns),
            }))
    return errors
