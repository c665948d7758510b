"""The unit tree: browsing pages, adding and editing units, importing a whole tree from a spreadsheet.

The import checks every row first and writes nothing when any row is wrong. The write loads the
existing units once, then works level by level (parents before children) with set-based
statements, so a province of 25,000 units imports in seconds.
"""
import io
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import String, cast, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .. import permissions
from ..audit.services import record, snapshot
from ..database import utcnow
from ..extensions import db
from ..progress.counters import rebuild_all
from .models import HOUSEHOLD_KINDS, STUDENT_KINDS, Unit, UnitKind

CODE_PATTERN = re.compile(r"^\d{12}$")
# Kinds a unit may be placed under from the edit form (villages and below rarely run anything).
PARENT_KINDS = (UnitKind.PROVINCE.value, UnitKind.CITY.value, UnitKind.COUNTY.value, UnitKind.TOWNSHIP.value)
KINDS = frozenset(UnitKind.values())
KIND_ORDER = {kind: position for position, kind in enumerate(UnitKind.values())}
EDITABLE_FIELDS = ("name", "kind", "code", "category", "contact_name", "phone", "households", "students",
                   "latitude", "longitude")
AUDITED_FIELDS = (*EDITABLE_FIELDS, "parent_id")
MAX_LENGTHS = {"name": 120, "category": 40, "contact_name": 60, "phone": 40}


class UnitError(ValueError):
    """A refused change to a unit; ``code`` names the reason, ``field`` the form field it concerns."""

    def __init__(self, code: str, field: str | None = None, **details):
        super().__init__(code)
        self.code = code
        self.field = field
        self.details = details


# --- Browsing -----------------------------------------------------------------------------------


@dataclass
class ChildRow:
    unit: Unit
    child_count: int


@dataclass
class UnitPage:
    unit: Unit
    breadcrumbs: list
    children: list


def unit_page(user, unit) -> UnitPage:
    """The unit, its breadcrumbs from the top of the user's area, its children with their own
    number of children: three queries whatever the size of the tree."""
    scope_depth = user.unit.depth
    crumb_ids = unit.ancestor_ids[scope_depth:] if unit.id != user.unit.id else []
    breadcrumbs = []
    if crumb_ids:
        breadcrumbs = list(db.session.scalars(
            select(Unit).where(Unit.id.in_(crumb_ids), permissions.units_within(user)).order_by(Unit.depth)
        ))
    grandchild = aliased(Unit)
    child_ids = select(Unit.id).where(Unit.parent_id == unit.id)
    counts = (
        select(grandchild.parent_id.label("parent_id"), func.count(grandchild.id).label("n"))
        .where(grandchild.parent_id.in_(child_ids))
        .group_by(grandchild.parent_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Unit, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.parent_id == Unit.id)
        .where(Unit.parent_id == unit.id)
    ).all()
    children = sorted(
        (ChildRow(child, count) for child, count in rows),
        key=lambda row: (KIND_ORDER.get(row.unit.kind, 99), row.unit.code or "~", row.unit.name),
    )
    return UnitPage(unit=unit, breadcrumbs=breadcrumbs, children=children)


@dataclass
class SearchPage:
    items: list  # (unit, parent name or None)
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def search_units(user, text: str, page: int = 1, per_page: int = 50) -> SearchPage:
    """Units within the user's area whose name contains the text or whose code starts with it."""
    text = (text or "").strip()
    page = max(1, page)
    condition = (
        permissions.units_within(user),
        or_(Unit.name.contains(text, autoescape=True), Unit.code.startswith(text, autoescape=True)),
    )
    total = db.session.scalar(select(func.count(Unit.id)).where(*condition))
    parent = aliased(Unit)
    rows = db.session.execute(
        select(Unit, parent.name)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(*condition)
        .order_by(Unit.depth, Unit.code, Unit.name, Unit.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return SearchPage(items=[tuple(row) for row in rows], total=total, page=page, per_page=per_page)


def parent_choices(user, unit=None, extra_parent=None) -> list[tuple[int, str]]:
    """Units of the administrative levels within the user's area that ``unit`` may be placed under
    (never itself or below itself), in tree order, indented by depth."""
    query = select(Unit.id, Unit.name, Unit.code, Unit.path, Unit.depth).where(
        permissions.units_within(user), Unit.kind.in_(PARENT_KINDS)
    )
    if unit is not None and unit.id is not None:
        query = query.where(~Unit.path.startswith(unit.path))
    rows = {row.id: row for row in db.session.execute(query)}
    if extra_parent is not None and extra_parent.id not in rows and permissions.unit_is_within(user, extra_parent):
        rows[extra_parent.id] = extra_parent
    base = user.unit.depth
    return [
        (row.id, "\u3000" * max(0, row.depth - base) + row.name + (f" ({row.code})" if row.code else ""))
        for row in sorted(rows.values(), key=lambda row: row.path)
    ]


# --- Adding and editing -------------------------------------------------------------------------


def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _check_fields(fields: dict, parent_id, unit_id=None):
    code = fields.get("code")
    if code is not None and not CODE_PATTERN.match(code):
        raise UnitError("bad_code", "code", value=code)
    if fields.get("kind") not in KINDS:
        raise UnitError("unknown_kind", "kind", value=fields.get("kind") or "")
    if not fields.get("name"):
        raise UnitError("name_required", "name")
    for name, limit in MAX_LENGTHS.items():
        if fields.get(name) and len(fields[name]) > limit:
            raise UnitError("too_long", name, limit=limit)
    for name in ("households", "students"):
        if fields.get(name) is not None and fields[name] < 0:
            raise UnitError("bad_count", name, value=fields[name])
    if code is not None:
        other = db.session.scalar(select(Unit).where(Unit.code == code, Unit.id != unit_id))
        if other is not None:
            raise UnitError("code_taken", "code", value=code, name=other.name)
    same_name = select(Unit.id).where(Unit.name == fields["name"], Unit.id != unit_id)
    same_name = same_name.where(Unit.parent_id == parent_id if parent_id else Unit.parent_id.is_(None))
    if db.session.scalar(same_name) is not None:
        raise UnitError("name_taken", "name", value=fields["name"])


def create_unit(*, actor, parent, **fields) -> Unit:
    """Add a unit under ``parent`` (within the actor's area). ``fields``: any of EDITABLE_FIELDS."""
    fields = {name: _clean(fields.get(name)) for name in EDITABLE_FIELDS}
    if parent is None or not permissions.unit_is_within(actor, parent):
        raise UnitError("parent_out_of_scope", "parent_id")
    _check_fields(fields, parent.id)
    unit = Unit(**fields)
    db.session.add(unit)
    db.session.flush()
    unit.place_under(parent)
    db.session.flush()
    record("unit.create", "unit", unit.id, after=snapshot(unit, AUDITED_FIELDS), actor=actor)
    return unit


def update_unit(unit, *, actor, parent, **fields) -> Unit:
    """Change a unit's fields and, when ``parent`` differs, move it with its whole subtree.

    The top of the actor's own area keeps its parent: moving it would take it out of the area.
    """
    fields = {name: _clean(fields.get(name)) for name in EDITABLE_FIELDS}
    if not permissions.unit_is_within(actor, unit):
        raise UnitError("out_of_scope")
    moving = (parent.id if parent else None) != unit.parent_id
    if moving:
        if unit.id == actor.unit.id or parent is None or not permissions.unit_is_within(actor, parent):
            raise UnitError("parent_out_of_scope", "parent_id")
        if parent.is_within(unit):
            raise UnitError("parent_inside_unit", "parent_id")
    _check_fields(fields, parent.id if parent else None, unit.id)
    before = snapshot(unit, AUDITED_FIELDS)
    for name, value in fields.items():
        setattr(unit, name, value)
    if moving:
        old_path, old_depth = unit.path, unit.depth
        unit.parent = parent
        unit.parent_id = parent.id
        db.session.flush()
        move_subtree(old_path, f"{parent.path}{unit.id}/", parent.depth + 1 - old_depth)
        db.session.expire_all()
        rebuild_all()
    db.session.flush()
    record("unit.update", "unit", unit.id, before=before, after=snapshot(unit, AUDITED_FIELDS), actor=actor)
    return unit


def move_subtree(old_path: str, new_path: str, depth_change: int):
    """Rewrite the path and depth of a unit and its whole subtree: one UPDATE statement."""
    db.session.execute(
        update(Unit)
        .where(Unit.path.startswith(old_path))
        .values(
            path=literal(new_path, String).concat(func.substr(Unit.path, len(old_path) + 1, type_=String)),
            depth=Unit.depth + depth_change,
        )
        .execution_options(synchronize_session=False)
    )


# --- Import -------------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("code", "name", "kind", "parent_code")
OPTIONAL_COLUMNS = ("category", "contact_name", "phone", "households", "students", "latitude", "longitude")
COLUMN_ALIASES = {
    "区划代码": "code", "代码": "code", "统计用区划代码": "code", "单位代码": "code",
    "名称": "name", "单位名称": "name",
    "类型": "kind", "单位类型": "kind",
    "上级代码": "parent_code", "上级区划代码": "parent_code", "上级单位代码": "parent_code",
    "类别": "category",
    "联系人": "contact_name",
    "联系电话": "phone", "电话": "phone",
    "户数": "households",
    "学生数": "students",
    "纬度": "latitude",
    "经度": "longitude",
}
KIND_ALIASES = {
    "省": "province", "市": "city", "地级市": "city",
    "县": "county", "区": "county", "县区": "county", "县（区）": "county", "区县": "county",
    "乡镇": "township", "街道": "township", "乡": "township", "镇": "township", "乡镇（街道）": "township",
    "村": "village", "行政村": "village", "村委会": "village",
    "社区": "community", "居委会": "community",
    "学校": "school", "幼儿园": "kindergarten",
    "部门": "agency", "单位": "agency", "部门单位": "agency",
}
TEXT_FIELDS = ("name", "kind", "category", "contact_name", "phone")
NUMBER_FIELDS = ("households", "students", "latitude", "longitude")
IMPORT_FIELDS = ("name", "kind", "category", "contact_name", "phone", "households", "students", "latitude",
                 "longitude")
COORDINATE_LIMITS = {"latitude": 90.0, "longitude": 180.0}
FIRST_DATA_LINE = 2  # the header is line 1, as the office sees it in Excel


@dataclass
class RowError:
    """One reason a file cannot be imported: ``line`` as numbered in Excel, ``column`` the canonical
    column name (None for the file as a whole), ``value`` the cell as written."""

    line: int
    code: str
    column: str | None = None
    value: str = ""
    details: dict = field(default_factory=dict)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    errors: list = field(default_factory=list)
    headers: dict = field(default_factory=dict)  # canonical column → header as written in the file

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class _Row:
    line: int
    values: dict  # canonical column → cleaned value (None when empty)
    raw: dict  # canonical column → cell as written
    target_id: int | None = None  # the existing unit this row updates
    parent_key: tuple | None = None  # ("db", id) or ("new", code), None at the top
    level: int = 0


def read_unit_table(data: bytes, filename: str = ""):
    """A DataFrame of text cells from CSV (UTF-8 with or without BOM, or GB18030/GBK) or XLSX bytes."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    text = text.replace("\x00", "")  # never meant in a cell, and PostgreSQL refuses it in text
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False)


def _canonical_header(header) -> str:
    text = str(header).strip().lstrip("\ufeff")
    if text in COLUMN_ALIASES:
        return COLUMN_ALIASES[text]
    return text.lower().replace(" ", "_")


def integer_text(text: str) -> str:
    """Excel may hand whole numbers over as "420.0"."""
    return text[:-2] if re.fullmatch(r"\d+\.0", text) else text


def import_units(data: bytes, filename: str = "", actor=None) -> ImportResult:
    """Import a unit tree from CSV or XLSX bytes: all rows or none.

    ``actor`` None (the CLI, the demo loader) may write anywhere; a user only within their area.
    """
    try:
        frame = read_unit_table(data, filename)
    except Exception:  # pandas and openpyxl raise many kinds of errors for a broken file
        return ImportResult(errors=[RowError(1, "unreadable_file")])
    return import_unit_table(frame, actor=actor, source=filename)


def import_units_from_path(path, actor=None) -> ImportResult:
    path = Path(path)
    return import_units(path.read_bytes(), path.name, actor=actor)


def import_unit_table(frame, actor=None, source: str = "") -> ImportResult:
    headers = {}
    for header in frame.columns:
        headers.setdefault(_canonical_header(header), str(header))
    result = ImportResult(headers=headers)
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if missing:
        result.errors.append(RowError(1, "missing_columns", details={"columns": ", ".join(missing)}))
        return result
    present = [column for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if column in headers]
    rows = _parse_rows(frame, headers, present, result.errors)
    if not rows and not result.errors:
        result.errors.append(RowError(1, "empty_file"))
        return result
    existing = _load_existing()
    _resolve(rows, existing, actor, result.errors)
    if result.errors:
        result.errors.sort(key=lambda error: (error.line, present.index(error.column) if error.column in present else -1))
        return result
    try:
        with db.session.begin_nested():
            _write(rows, existing, present, result, actor)
            if result.created or result.updated:
                record("unit.import", "unit", None, after={
                    "source": source, "created": result.created, "updated": result.updated,
                    "unchanged": result.unchanged, "moved": result.moved,
                }, actor=actor)
                db.session.flush()
    except IntegrityError:
        result.errors = [RowError(1, "conflict")]
        result.created = result.updated = result.unchanged = result.moved = 0
    db.session.expire_all()
    return result


def _parse_rows(frame, headers, present, errors) -> list:
    columns = {column: frame[headers[column]].tolist() for column in present}
    rows = []
    for index in range(len(frame)):
        line = index + FIRST_DATA_LINE
        raw = {column: str(columns[column][index]).strip() for column in present}
        if not any(raw.values()):
            continue  # Excel leaves empty lines about; they are no error
        values, row_errors = _parse_cells(raw, line)
        errors.extend(row_errors)
        rows.append(_Row(line=line, values=values, raw=raw))
    return rows


def _parse_cells(raw: dict, line: int):
    values, errors = {}, []
    for column in ("code", "parent_code"):
        text = integer_text(raw[column])
        values[column] = text or None
    if values["code"] and not CODE_PATTERN.match(values["code"]):
        errors.append(RowError(line, "bad_code", "code", raw["code"]))
    values["name"] = raw["name"] or None
    if not values["name"]:
        errors.append(RowError(line, "name_required", "name", raw["name"]))
    kind = KIND_ALIASES.get(raw["kind"], raw["kind"].lower())
    values["kind"] = kind
    if kind not in KINDS:
        errors.append(RowError(line, "unknown_kind", "kind", raw["kind"]))
    for column, limit in MAX_LENGTHS.items():
        if column in raw:
            if column != "name":
                values[column] = raw[column] or None
            if len(raw[column]) > limit:
                errors.append(RowError(line, "too_long", column, raw[column], {"limit": limit}))
    for column in ("households", "students"):
        if column in raw:
            text = integer_text(raw[column].replace(",", ""))
            values[column] = int(text) if text.isdigit() else None
            if text and not text.isdigit():
                errors.append(RowError(line, "bad_count", column, raw[column]))
    for column, limit in COORDINATE_LIMITS.items():
        if column in raw:
            values[column] = None
            if raw[column]:
                try:
                    number = float(raw[column])
                except ValueError:
                    number = None
                if number is None or not (-limit <= number <= limit):  # NaN fails both comparisons
                    errors.append(RowError(line, f"bad_{column}", column, raw[column]))
                else:
                    values[column] = number
    return values, errors


@dataclass
class _Existing:
    by_id: dict  # id → dict of the unit's columns
    by_code: dict  # code → id
    by_place: dict  # (parent_id, name) → id


def _load_existing() -> _Existing:
    columns = [Unit.id, Unit.code, Unit.parent_id, Unit.path, *(getattr(Unit, name) for name in IMPORT_FIELDS)]
    by_id, by_code, by_place = {}, {}, {}
    for row in db.session.execute(select(*columns)):
        unit = row._asdict()
        by_id[unit["id"]] = unit
        if unit["code"]:
            by_code[unit["code"]] = unit["id"]
        by_place[(unit["parent_id"], unit["name"])] = unit["id"]
    return _Existing(by_id, by_code, by_place)


def _resolve(rows, existing: _Existing, actor, errors):
    """Match rows to existing units, find each row's parent and level; report what is wrong."""
    scope_path = actor.unit.path if actor is not None else None
    file_codes = {}  # code → first row with it
    broken = set()  # id() of rows whose place in the tree cannot be settled
    for row in rows:
        code = row.values["code"]
        if code and CODE_PATTERN.match(code):
            if code in file_codes:
                errors.append(RowError(row.line, "duplicate_code", "code", row.raw["code"],
                                       {"first_line": file_codes[code].line}))
                broken.add(id(row))
            else:
                file_codes[code] = row
                row.target_id = existing.by_code.get(code)

    def key_of_code(code):
        if code in existing.by_code:
            return ("db", existing.by_code[code])
        return ("new", code)

    for row in rows:
        parent_code = row.values["parent_code"]
        if parent_code:
            known = parent_code in file_codes or parent_code in existing.by_code
            in_scope = known and (
                scope_path is None or parent_code in file_codes
                or existing.by_id[existing.by_code[parent_code]]["path"].startswith(scope_path)
            )
            if not in_scope:
                errors.append(RowError(row.line, "unknown_parent", "parent_code", row.raw["parent_code"]))
                broken.add(id(row))
            else:
                row.parent_key = key_of_code(parent_code)
        elif row.target_id is not None:
            parent_id = existing.by_id[row.target_id]["parent_id"]
            row.parent_key = ("db", parent_id) if parent_id else None

    _find_cycles(rows, file_codes, existing, broken, errors)
    _match_by_name(rows, existing, broken, errors)
    if scope_path is not None:
        _check_scope(rows, existing, scope_path, actor, errors)


def _find_cycles(rows, file_codes, existing: _Existing, broken, errors):
    """Give each row its level (the number of rows above it in the final tree) and report rows
    whose parent codes go round in a circle, through the file or through units already stored."""
    file_row_of_unit = {row.target_id: row for row in file_codes.values() if row.target_id is not None}

    def file_parent(row):
        """The nearest row above ``row`` in the final tree, or None."""
        key = row.parent_key
        while key is not None:
            kind, value = key
            if kind == "new":
                return file_codes[value]
            if value in file_row_of_unit:
                return file_row_of_unit[value]
            parent_id = existing.by_id[value]["parent_id"]
            key = ("db", parent_id) if parent_id else None
        return None

    levels = {}  # id(row) → level, None when the row's chain of parents is broken
    cycle_rows = set()
    for row in rows:
        chain, position = [], {}
        node = row
        while True:
            if node is None:
                base = -1
                break
            if id(node) in levels:
                base = levels[id(node)]
                break
            if id(node) in position:
                cycle_rows.update(id(member) for member in chain[position[id(node)]:])
                base = None
                break
            if id(node) in broken:
                levels[id(node)] = base = None
                break
            position[id(node)] = len(chain)
            chain.append(node)
            node = file_parent(node)
        for member in reversed(chain):
            base = None if base is None else base + 1
            levels[id(member)] = base
    for row in rows:
        row.level = levels.get(id(row)) or 0
        if id(row) in cycle_rows:
            errors.append(RowError(row.line, "cycle", "parent_code", row.raw["parent_code"],
                                       {"code": row.values["code"]}))
            broken.add(id(row))


def _match_by_name(rows, existing: _Existing, broken, errors):
    """Rows not matched by code take the unit of the same name under the same parent, if it has no
    code; then no two units may end up with the same name under one parent."""
    claimed = {row.target_id for row in rows if row.target_id is not None}
    for row in rows:
        if row.target_id is not None or id(row) in broken or not row.values["name"]:
            continue
        if row.parent_key is None or row.parent_key[0] == "db":
            parent_id = row.parent_key[1] if row.parent_key else None
            candidate = existing.by_place.get((parent_id, row.values["name"]))
            if candidate is not None and candidate not in claimed and not existing.by_id[candidate]["code"]:
                row.target_id = candidate
                claimed.add(candidate)
    final_places = {
        (("db", parent_id) if parent_id else None, name): ("db", unit_id)
        for (parent_id, name), unit_id in existing.by_place.items()
        if unit_id not in claimed
    }
    first_line = {}
    for row in rows:
        if id(row) in broken or not row.values["name"]:
            continue
        place = (row.parent_key, row.values["name"])
        identity = ("db", row.target_id) if row.target_id else ("row", row.line)
        holder = final_places.setdefault(place, identity)
        if holder != identity:
            details = {"first_line": first_line[place]} if place in first_line else {}
            code = "duplicate_name" if details else "name_taken"
            errors.append(RowError(row.line, code, "name", row.raw["name"], details))
        else:
            first_line.setdefault(place, row.line)


def _check_scope(rows, existing: _Existing, scope_path, actor, errors):
    for row in rows:
        if row.target_id is not None:
            unit = existing.by_id[row.target_id]
            moved_top = row.target_id == actor.unit.id and row.parent_key != (
                ("db", unit["parent_id"]) if unit["parent_id"] else None)
            if not unit["path"].startswith(scope_path) or moved_top:
                errors.append(RowError(row.line, "out_of_scope", "code", row.raw["code"] or row.raw["name"]))
        elif row.parent_key is None and not row.values["parent_code"]:
            errors.append(RowError(row.line, "top_out_of_scope", "parent_code", ""))


def _write(rows, existing: _Existing, present, result: ImportResult, actor):
    marker = f"?{uuid.uuid4().hex}"  # the path of freshly inserted rows until their id is known
    final_path = {}  # unit id → its path once its place in the final tree is settled
    new_ids = {}  # code of a new row → its id

    def current_path(unit_id):
        if unit_id in final_path:
            return final_path[unit_id]
        parent_id = existing.by_id[unit_id]["parent_id"]
        return (current_path(parent_id) if parent_id else "/") + f"{unit_id}/"

    def parent_id_of(row):
        if row.parent_key is None:
            return None
        kind, value = row.parent_key
        return new_ids[value] if kind == "new" else value

    fields = [name for name in IMPORT_FIELDS if name in present]
    changes = []
    now = utcnow()
    for level in sorted({row.level for row in rows}):
        level_rows = [row for row in rows if row.level == level]
        new_rows = [row for row in level_rows if row.target_id is None]
        if new_rows:
            params = []
            for row in new_rows:
                parent_id = parent_id_of(row)
                parent_path = current_path(parent_id) if parent_id else "/"
                params.append({
                    **{name: row.values.get(name) for name in IMPORT_FIELDS},
                    "code": row.values["code"], "parent_id": parent_id, "path": marker,
                    "depth": parent_path.count("/") - 1, "created_at": now, "updated_at": now,
                })
            table = Unit.__table__  # Core, not ORM bulk: the ORM splits rows by which values are None
            ids = db.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), params
            ).scalars().all()
            parent = aliased(Unit)
            parent_path = select(parent.path).where(parent.id == Unit.parent_id).scalar_subquery()
            db.session.execute(
                update(Unit)
                .where(Unit.path == marker)
                .values(path=func.coalesce(parent_path, "/", type_=String).concat(cast(Unit.id, String)).concat("/"))
                .execution_options(synchronize_session=False)
            )
            for row, unit_id, param in zip(new_rows, ids, params):
                parent_id = param["parent_id"]
                final_path[unit_id] = (current_path(parent_id) if parent_id else "/") + f"{unit_id}/"
                if row.values["code"]:
                    new_ids[row.values["code"]] = unit_id
            result.created += len(new_rows)
        for row in level_rows:
            if row.target_id is None:
                continue
            unit = existing.by_id[row.target_id]
            parent_id = parent_id_of(row)
            change = {name: row.values.get(name) for name in fields if row.values.get(name) != unit[name]}
            if row.values["code"] and not unit["code"]:
                change["code"] = row.values["code"]
            if parent_id != unit["parent_id"]:
                old_path = current_path(row.target_id)
                new_path = (current_path(parent_id) if parent_id else "/") + f"{row.target_id}/"
                move_subtree(old_path, new_path, new_path.count("/") - old_path.count("/"))
                change["parent_id"] = parent_id
                final_path[row.target_id] = new_path
                result.moved += 1
            else:
                final_path[row.target_id] = current_path(row.target_id)
            if change:
                before = {name: unit[name] for name in change}
                unit.update(change)
                existing.by_id[row.target_id] = unit
                changes.append((row.target_id, before, change))
                result.updated += 1
            else:
                result.unchanged += 1
    if changes:
        columns = sorted({name for _, _, change in changes for name in change})
        db.session.execute(
            update(Unit),
            [{"id": unit_id, **{name: existing.by_id[unit_id][name] for name in columns}, "updated_at": now}
             for unit_id, _, _ in changes],
        )
        for unit_id, before, change in changes:
            record("unit.update", "unit", unit_id, before=before, after=change, actor=actor)
    db.session.flush()
    if result.moved:
        rebuild_all()  # the progress counters follow the units' new places in the tree


# --- Display helpers -----------------------------------------------------------------------------------


def household_or_students(unit):
    """The head count shown for a unit: households for villages and communities, students for schools."""
    if unit.kind in HOUSEHOLD_KINDS:
        return unit.households
    if unit.kind in STUDENT_KINDS:
        return unit.students
    return unit.households if unit.households is not None else unit.students
