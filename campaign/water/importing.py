"""Importing water points from CSV or XLSX: all rows or none.

A row is matched to a stored point by its code (编号, shown in every export), so the app's own
export re-imports into the same database without duplicates and into a fresh one with the same
codes. A row without a code updates the one point of that name in its village, or creates one.
"""
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..audit.services import record
from ..extensions import db
from ..tables import RowError, TableRefused, TableSpec, read_table
from ..units.models import Unit, UnitKind
from . import services
from .io import TABLE_HEADERS
from .messages import DANGER_LABELS, KIND_LABELS, POINT_STATUS_LABELS
from .models import WaterPoint, WaterPointStatus

# Canonical column → the headers offices give it; the first is the one the export writes.
COLUMNS = {
    "code": ("编号", "水域编号"),
    "township": ("乡镇（街道）", "乡镇"),
    "village": ("村（社区）", "村"),
    "village_code": ("村（社区）代码", "村代码", "社区代码", "区划代码", "村（社区）区划代码"),
    "name": ("水域名称", "名称"),
    "kind": ("水域类型", "类型"),
    "latitude": ("纬度",),
    "longitude": ("经度",),
    "is_key": ("是否重点水域", "重点水域"),
    "danger_level": ("危险程度",),
    "has_permanent_sign": ("是否设置永久性警示标识", "永久性警示标识"),
    "sign_count": ("警示标识数量", "警示标识（块）"),
    "life_buoys": ("救生圈（个）", "救生圈", "救生圈数量"),
    "poles": ("救生杆（根）", "救生杆", "竹竿", "救生杆数量"),
    "ropes": ("救生绳（根）", "救生绳", "救生绳数量"),
    "has_fence": ("是否有护栏", "护栏", "防护栏"),
    "responsible_name": ("安全信息员", "责任人"),
    "responsible_phone": ("联系电话", "安全信息员电话", "电话"),
    "notes": ("备注",),
    "status": ("状态",),
    "patrol_interval_days": ("巡查间隔（天）", "巡查间隔天数", "巡查间隔"),
}
REQUIRED_COLUMNS = ("village_code", "name", "kind", "latitude", "longitude")
KIND_ALIASES = {
    "河流": "river", "河": "river", "河道": "river", "溪流": "river", "江": "river",
    "池塘": "pond", "塘": "pond", "山塘": "pond", "鱼塘": "pond", "水塘": "pond",
    "水库": "reservoir",
    "水渠": "canal", "渠道": "canal", "渠": "canal",
    "沟渠": "ditch", "水沟": "ditch", "沟": "ditch", "沟塘": "ditch",
    "建筑工地基坑": "construction_pit", "工地基坑": "construction_pit", "基坑": "construction_pit",
    "建筑基坑": "construction_pit", "工地水坑": "construction_pit",
    "其他": "other", "其它": "other",
}
DANGER_ALIASES = {
    "高": "high", "较高": "high", "高危": "high", "危险": "high",
    "中": "medium", "一般": "medium", "较危险": "medium",
    "低": "low", "较低": "low", "轻微": "low",
}
STATUS_ALIASES = {"已归档": "archived", "归档": "archived", "停用": "archived", "在用": "active", "正常": "active"}
TRUE_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
FALSE_WORDS = {"否", "无", "没有", "n", "no", "false", "0", "×", "x", ""}
BOOLEAN_COLUMNS = ("is_key", "has_permanent_sign", "has_fence")
COUNT_COLUMNS = ("sign_count", "life_buoys", "poles", "ropes")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    flagged: int = 0  # positions far outside the county, saved for a second look
    errors: list = field(default_factory=list)
    headers: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return self.created + self.updated


def table_spec() -> TableSpec:
    """The columns with, besides the office's own names, the export's headers in either language."""
    columns = {}
    for column, aliases in COLUMNS.items():
        names = list(aliases)
        if column in TABLE_HEADERS:
            for locale in ("zh_Hans_CN", "en"):
                with force_locale(locale):
                    names.append(str(TABLE_HEADERS[column]))
        columns[column] = tuple(names)
    return TableSpec(columns, REQUIRED_COLUMNS, code_columns=("village_code", "responsible_phone"))


def vocabulary(labels: dict, aliases: dict) -> dict:
    """A word as an office writes it (our labels in either language, common words, keys) → key."""
    names = {key: key for key in labels}
    names.update(aliases)
    for locale in ("zh_Hans_CN", "en"):
        with force_locale(locale):
            names.update({str(label).lower(): key for key, label in labels.items()})
    return names


def import_water_points(data: bytes, filename: str = "", actor=None) -> ImportResult:
    """Import water points from CSV or XLSX bytes: all rows or none. ``actor`` None (the CLI) may
    write anywhere."""
    try:
        table = read_table(data, filename, table_spec())
    except TableRefused as refused:
        return ImportResult(errors=refused.errors, headers=refused.headers)
    result = ImportResult(headers=table.headers)
    if not table.rows:
        result.errors.append(RowError(table.header_line, "empty_file"))
        return result
    words = {"kind": vocabulary(KIND_LABELS, KIND_ALIASES), "danger_level": vocabulary(DANGER_LABELS, DANGER_ALIASES),
             "status": vocabulary(POINT_STATUS_LABELS, STATUS_ALIASES)}
    villages = _villages_by_code({raw["village_code"] for _, raw in table.rows}, actor)
    points = _points_by_code({raw.get("code", "") for _, raw in table.rows})
    parsed = []
    for line, raw in table.rows:
        values, village = _parse_row(line, raw, villages, words, result.errors)
        if village is not None and values is not None:
            parsed.append((line, raw, village, values))
    targets = _match(parsed, points, actor, result.errors)
    if result.errors:
        order = {column: position for position, column in enumerate(COLUMNS)}
        result.errors.sort(key=lambda error: (error.line, order.get(error.column, -1)))
        return result
    try:
        with db.session.begin_nested():
            _write(parsed, targets, result, actor)
            record("water_point.import", "water_point", None, after={
                "source": filename, "created": result.created, "updated": result.updated,
                "flagged": result.flagged,
            }, actor=actor)
            db.session.flush()
    except IntegrityError:
        result.errors = [RowError(1, "conflict")]
        result.created = result.updated = result.flagged = 0
    db.session.expire_all()
    return result


def import_water_points_from_path(path, actor=None) -> ImportResult:
    path = Path(path)
    return import_water_points(path.read_bytes(), path.name, actor=actor)


def _villages_by_code(codes, actor) -> dict:
    query = select(Unit).where(Unit.code.in_([code for code in codes if code]),
                               Unit.kind.in_(services.POINT_UNIT_KINDS))
    if actor is not None:
        query = query.where(permissions.units_within(actor))
    return {unit.code: unit for unit in db.session.scalars(query)}


def _points_by_code(codes) -> dict:
    codes = [code for code in codes if code]
    if not codes:
        return {}
    query = select(WaterPoint, Unit.path).join(Unit, Unit.id == WaterPoint.unit_id).where(WaterPoint.code.in_(codes))
    return {point.code: (point, path) for point, path in db.session.execute(query)}


def _parse_row(line, raw, villages, words, errors):
    row_errors = []
    village = villages.get(raw["village_code"])
    if village is None:
        row_errors.append(RowError(line, "unknown_village", "village_code", raw["village_code"]))
    code = raw.get("code", "")
    if code and not CODE_PATTERN.match(code):
        row_errors.append(RowError(line, "bad_point_code", "code", code))
    fields = {"name": _unprotect(raw["name"]), "latitude": raw["latitude"], "longitude": raw["longitude"]}
    for column in ("kind", "danger_level"):
        text = raw.get(column, "")
        fields[column] = words[column].get(text.lower(), text.lower().replace(" ", "_")) if text else None
    for column in BOOLEAN_COLUMNS:
        text = raw.get(column, "").lower()
        if text in TRUE_WORDS:
            fields[column] = True
        elif text in FALSE_WORDS:
            fields[column] = False
        else:
            row_errors.append(RowError(line, "bad_boolean", column, raw[column]))
    for column in COUNT_COLUMNS:
        text = raw.get(column, "")
        if text and not text.isdigit():
            row_errors.append(RowError(line, "bad_count", column, raw[column]))
        fields[column] = int(text) if text.isdigit() else 0
    for column in ("responsible_name", "responsible_phone", "notes"):
        fields[column] = _unprotect(raw.get(column, ""))
    interval = raw.get("patrol_interval_days", "")
    fields["patrol_interval_days"] = int(interval) if interval.isdigit() else None
    if interval and not interval.isdigit():
        row_errors.append(RowError(line, "bad_interval", "patrol_interval_days", interval))
    values = None
    # The service's own checks, one field at a time, so every wrong cell of the row is listed.
    for _ in range(len(services.POINT_FIELDS)):
        try:
            values = services.clean_point_fields(fields)
            break
        except services.WaterError as error:
            column = "latitude" if error.code == "swapped" else error.field
            row_errors.append(RowError(line, error.code, column, raw.get(column, ""), dict(error.details)))
            fields = _repair(fields, error)
    status = raw.get("status", "")
    if status:
        values = values and {**values, "status": words["status"].get(status.lower())}
        if words["status"].get(status.lower()) is None:
            row_errors.append(RowError(line, "unknown_status", "status", status))
    errors.extend(row_errors)
    if row_errors:
        return None, village
    return values, village


def _match(parsed, points, actor, errors) -> list:
    """The stored point each row updates (None: a new point), in the order of ``parsed``.

    With a code: the point of that code, which must lie within the actor's area. Without: the one
    point of that name in the village; two of the same name need the code to tell them apart.
    """
    scope = actor.unit.path if actor is not None else None
    codeless = [(line, village, values) for line, raw, village, values in parsed if not raw.get("code")]
    by_place = {}
    if codeless:
        village_ids = {village.id for _, village, _ in codeless}
        for point in db.session.scalars(select(WaterPoint).where(WaterPoint.unit_id.in_(village_ids))):
            by_place.setdefault((point.unit_id, point.name), []).append(point)
    targets, seen_codes, seen_places = [], {}, {}
    for line, raw, village, values in parsed:
        code = raw.get("code", "")
        target = None
        if code:
            if code in seen_codes:
                errors.append(RowError(line, "duplicate_point_code", "code", code, {"first_line": seen_codes[code]}))
            seen_codes.setdefault(code, line)
            found = points.get(code)
            if found is not None:
                target, path = found
                if scope is not None and not path.startswith(scope):
                    errors.append(RowError(line, "point_out_of_scope", "code", code))
        else:
            place = (village.id, values["name"])
            if place in seen_places:
                errors.append(RowError(line, "duplicate_point", "name", raw["name"],
                                       {"first_line": seen_places[place]}))
            seen_places.setdefault(place, line)
            same_name = by_place.get(place, [])
            if len(same_name) > 1:
                errors.append(RowError(line, "ambiguous_point", "name", raw["name"], {"count": len(same_name)}))
            target = same_name[0] if len(same_name) == 1 else None
        targets.append(target)
    return targets


def _unprotect(text: str) -> str:
    """Undo the export's formula guard: "'+86…" back to "+86…"."""
    return text[1:] if text[:1] == "'" and text[1:2] and text[1:2] in "=+-@" else text


def _repair(fields, error):
    """A stand-in value for a wrong field, so the remaining checks of the row still run."""
    stand_ins = {"name": "-", "kind": "other", "danger_level": "low", "latitude": 30.0, "longitude": 120.0,
                 "sign_count": 0, "life_buoys": 0, "poles": 0, "ropes": 0, "patrol_interval_days": None}
    fixed = dict(fields)
    if error.code == "swapped":
        fixed["latitude"], fixed["longitude"] = 30.0, 120.0
    elif error.code == "too_long":
        fixed[error.field] = ""
    elif error.field in stand_ins:
        fixed[error.field] = stand_ins[error.field]
    return fixed


def _write(parsed, targets, result, actor):
    ancestors = {*(ancestor for _, _, village, _ in parsed for ancestor in village.ancestor_ids)}
    ancestor_units = {unit.id: unit for unit in db.session.scalars(select(Unit).where(Unit.id.in_(ancestors)))}
    boxes = {}

    def box_for(village):
        chain = [ancestor_units[unit_id] for unit_id in village.ancestor_ids if unit_id in ancestor_units]
        counties = [unit for unit in chain if unit.kind == UnitKind.COUNTY.value]
        area = counties[-1] if counties else (chain[0] if chain else village)
        if area.id not in boxes:
            boxes[area.id] = services.units_bounding_box(area)
        return boxes[area.id]

    for (_, raw, village, values), point in zip(parsed, targets):
        flagged = services.is_far_outside(values["latitude"], values["longitude"], box_for(village))
        if "patrol_interval_days" not in raw:
            values.pop("patrol_interval_days")
        if point is None:
            point = WaterPoint(unit_id=village.id, created_by_id=actor.id if actor else None, **values)
            if raw.get("code"):
                point.code = raw["code"]
            db.session.add(point)
            result.created += 1
        else:
            point.unit_id = village.id
            for name, value in values.items():
                setattr(point, name, value)
            if "status" not in values:
                point.status = WaterPointStatus.ACTIVE.value
            result.updated += 1
        point.needs_position_check = flagged
        result.flagged += int(flagged)
    db.session.flush()
