"""Importing a unit tree from the spreadsheet an office already has: all rows or none.

Every row is checked first and nothing is written when any row is wrong. The write loads the
existing units once, then works level by level (parents before children) with set-based
statements, so a province of 25,000 units imports in seconds.
"""
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import String, cast, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..audit.services import record
from ..database import utcnow
from ..extensions import db
from ..progress.counters import rebuild_all
from ..i18n import UNIT_CATEGORY_LABELS, UNIT_KIND_LABELS
from ..tables import RowError, TableRefused, TableSpec, read_table
from .export import TABLE_HEADERS
from .models import Unit
from .services import CODE_PATTERN, KINDS, MAX_LENGTHS, move_subtree

# Canonical column → the headers offices give it; the first is the one exports write.
COLUMNS = {
    "code": ("代码", "区划代码", "统计用区划代码", "单位代码"),
    "name": ("名称", "单位名称"),
    "kind": ("类型", "单位类型"),
    "parent_code": ("上级代码", "上级区划代码", "上级单位代码"),
    "category": ("类别",),
    "contact_name": ("联系人",),
    "phone": ("联系电话", "电话"),
    "households": ("户数",),
    "students": ("学生数",),
    "latitude": ("纬度",),
    "longitude": ("经度",),
}
REQUIRED_COLUMNS = ("code", "name", "kind", "parent_code")
KIND_ALIASES = {
    "省": "province", "市": "city", "地级市": "city",
    "县": "county", "区": "county", "县区": "county", "县（区）": "county", "区县": "county",
    "乡镇": "township", "街道": "township", "乡": "township", "镇": "township", "乡镇（街道）": "township",
    "村": "village", "行政村": "village", "村委会": "village",
    "社区": "community", "居委会": "community",
    "学校": "school", "幼儿园": "kindergarten",
    "部门": "agency", "单位": "agency", "部门单位": "agency", "机关": "agency", "机关单位": "agency",
}
IMPORT_FIELDS = ("name", "kind", "category", "contact_name", "phone", "households", "students", "latitude",
                 "longitude")
COORDINATE_LIMITS = {"latitude": 90.0, "longitude": 180.0}


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


def table_spec() -> TableSpec:
    """The columns with, besides the office's own names, the export's headers in either language."""
    columns = {}
    for column, aliases in COLUMNS.items():
        names = list(aliases)
        for locale in ("zh_Hans_CN", "en"):
            with force_locale(locale):
                names.append(str(TABLE_HEADERS[column]))
        columns[column] = tuple(names)
    return TableSpec(columns, REQUIRED_COLUMNS, code_columns=("code", "parent_code", "phone"))


def kind_names() -> dict:
    """Unit type as an office writes it (our labels in either language, common words) → kind."""
    names = {kind: kind for kind in KINDS}
    names.update(KIND_ALIASES)
    for locale in ("zh_Hans_CN", "en"):
        with force_locale(locale):
            names.update({str(label).lower(): kind for kind, label in UNIT_KIND_LABELS.items()})
    return names


def category_names() -> dict:
    """Unit category as an office writes it (小学, 通信运营商 … in either language) → its code."""
    names = {code: code for code in UNIT_CATEGORY_LABELS}
    for locale in ("zh_Hans_CN", "en"):
        with force_locale(locale):
            names.update({str(label).lower(): code for code, label in UNIT_CATEGORY_LABELS.items()})
    return names


def import_units(data: bytes, filename: str = "", actor=None) -> ImportResult:
    """Import a unit tree from CSV or XLSX bytes: all rows or none.

    ``actor`` None (the CLI, the demo loader) may write anywhere; a user only within their area.
    """
    try:
        table = read_table(data, filename, table_spec())
    except TableRefused as refused:
        return ImportResult(errors=refused.errors, headers=refused.headers)
    result = ImportResult(headers=table.headers)
    present = [column for column in COLUMNS if column in table.headers]
    rows = _parse_rows(table.rows, present, result.errors)
    if not rows and not result.errors:
        result.errors.append(RowError(table.header_line, "empty_file"))
        return result
    existing = _load_existing()
    _resolve(rows, existing, actor, result.errors)
    if result.errors:
        order = {column: position for position, column in enumerate(present)}
        result.errors.sort(key=lambda error: (error.line, order.get(error.column, -1)))
        return result
    try:
        with db.session.begin_nested():
            _write(rows, existing, present, result, actor)
            if result.created or result.updated:
                record("unit.import", "unit", None, after={
                    "source": filename, "created": result.created, "updated": result.updated,
                    "unchanged": result.unchanged, "moved": result.moved,
                }, actor=actor)
                db.session.flush()
    except IntegrityError:
        result.errors = [RowError(1, "conflict")]
        result.created = result.updated = result.unchanged = result.moved = 0
    db.session.expire_all()
    return result


def import_units_from_path(path, actor=None) -> ImportResult:
    path = Path(path)
    return import_units(path.read_bytes(), path.name, actor=actor)


def _parse_rows(table_rows, present, errors) -> list:
    kinds = kind_names()
    categories = category_names()
    rows = []
    for line, raw in table_rows:
        raw = {column: raw[column] for column in present}
        values, row_errors = _parse_cells(raw, line, kinds)
        if values.get("category"):
            values["category"] = categories.get(values["category"].lower(), values["category"])
        errors.extend(row_errors)
        rows.append(_Row(line=line, values=values, raw=raw))
    return rows


def _parse_cells(raw: dict, line: int, kinds: dict):
    values, errors = {}, []
    for column in ("code", "parent_code"):
        values[column] = raw[column] or None
    if values["code"] and not CODE_PATTERN.match(values["code"]):
        errors.append(RowError(line, "bad_code", "code", raw["code"]))
    values["name"] = raw["name"] or None
    if not values["name"]:
        errors.append(RowError(line, "name_required", "name", raw["name"]))
    kind = kinds.get(raw["kind"].lower(), raw["kind"].lower())
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
            text = raw[column].replace(",", "")
            counted = text.isascii() and text.isdigit()  # "²" is a digit to str.isdigit, not to int()
            values[column] = int(text) if counted else None
            if text and not counted:
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
