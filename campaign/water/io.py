"""Water points in and out: import from CSV/XLSX (all rows or none), export as CSV, GeoJSON and KML.

The export functions are pure: they take plain records (``export_records``) and return bytes.
"""
import csv
import html
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..audit.services import record
from ..exports import safe_cell
from ..extensions import db
from ..timeutil import format_local
from ..units.models import Unit, UnitKind
from ..units.services import FIRST_DATA_LINE, RowError, integer_text, read_unit_table
from . import services
from .messages import DANGER_LABELS, KIND_LABELS
from .models import WaterPoint, WaterPointStatus

REQUIRED_COLUMNS = ("village_code", "name", "kind", "latitude", "longitude")
OPTIONAL_COLUMNS = ("is_key", "danger_level", "has_permanent_sign", "sign_count", "life_buoys", "poles", "ropes",
                    "has_fence", "responsible_name", "responsible_phone", "notes")
COLUMN_ALIASES = {
    "村（社区）代码": "village_code", "村(社区)代码": "village_code", "村代码": "village_code",
    "社区代码": "village_code", "区划代码": "village_code", "村（社区）区划代码": "village_code",
    "水域名称": "name", "名称": "name",
    "水域类型": "kind", "类型": "kind",
    "纬度": "latitude", "经度": "longitude",
    "是否重点水域": "is_key", "重点水域": "is_key",
    "危险程度": "danger_level",
    "是否设置永久性警示标识": "has_permanent_sign", "永久性警示标识": "has_permanent_sign",
    "警示标识数量": "sign_count", "警示标识（块）": "sign_count",
    "救生圈": "life_buoys", "救生圈数量": "life_buoys",
    "救生杆": "poles", "竹竿": "poles", "救生杆数量": "poles",
    "救生绳": "ropes", "救生绳数量": "ropes",
    "是否有护栏": "has_fence", "护栏": "has_fence", "防护栏": "has_fence",
    "安全信息员": "responsible_name", "责任人": "responsible_name",
    "联系电话": "responsible_phone", "安全信息员电话": "responsible_phone", "电话": "responsible_phone",
    "备注": "notes",
}
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
TRUE_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
FALSE_WORDS = {"否", "无", "没有", "n", "no", "false", "0", "×", "x", ""}
BOOLEAN_COLUMNS = ("is_key", "has_permanent_sign", "has_fence")
COUNT_COLUMNS = ("sign_count", "life_buoys", "poles", "ropes")


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


def _canonical_header(header) -> str:
    text = str(header).strip().lstrip("\ufeff")
    return COLUMN_ALIASES.get(text, text.lower().replace(" ", "_"))


def import_water_points(data: bytes, filename: str = "", actor=None) -> ImportResult:
    """Import water points from CSV or XLSX bytes: all rows or none. A row whose village already has
    a point of the same name updates it. ``actor`` None (the CLI) may write anywhere."""
    try:
        frame = read_unit_table(data, filename)
    except Exception:  # pandas and openpyxl raise many kinds of errors for a broken file
        return ImportResult(errors=[RowError(1, "unreadable_file")])
    headers = {}
    for header in frame.columns:
        headers.setdefault(_canonical_header(header), str(header))
    result = ImportResult(headers=headers)
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if missing:
        result.errors.append(RowError(1, "missing_columns", details={"columns": ", ".join(missing)}))
        return result
    present = [column for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if column in headers]
    columns = {column: frame[headers[column]].tolist() for column in present}
    raw_rows = []
    for index in range(len(frame)):
        raw = {column: str(columns[column][index]).strip() for column in present}
        if any(raw.values()):
            raw_rows.append((index + FIRST_DATA_LINE, raw))
    if not raw_rows:
        result.errors.append(RowError(1, "empty_file"))
        return result
    villages = _villages_by_code({integer_text(raw["village_code"]) for _, raw in raw_rows}, actor)
    parsed, seen = [], {}
    for line, raw in raw_rows:
        values, village = _parse_row(line, raw, villages, result.errors)
        if village is None or values is None:
            continue
        key = (village.id, values["name"])
        if key in seen:
            result.errors.append(RowError(line, "duplicate_point", "name", raw["name"], {"first_line": seen[key]}))
            continue
        seen[key] = line
        parsed.append((line, village, values))
    if result.errors:
        order = {column: position for position, column in enumerate(present)}
        result.errors.sort(key=lambda error: (error.line, order.get(error.column, -1)))
        return result
    try:
        with db.session.begin_nested():
            _write(parsed, result, actor)
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


def _parse_row(line, raw, villages, errors):
    row_errors = []
    code = integer_text(raw["village_code"])
    village = villages.get(code)
    if village is None:
        row_errors.append(RowError(line, "unknown_village", "village_code", raw["village_code"]))
    fields = {"name": _unprotect(raw["name"]), "latitude": raw["latitude"], "longitude": raw["longitude"]}
    kind_text = raw["kind"]
    fields["kind"] = KIND_ALIASES.get(kind_text) or kind_text.lower().replace(" ", "_")
    danger_text = raw.get("danger_level", "")
    fields["danger_level"] = DANGER_ALIASES.get(danger_text) or danger_text.lower() or None
    for column in BOOLEAN_COLUMNS:
        text = raw.get(column, "").lower()
        if text in TRUE_WORDS:
            fields[column] = True
        elif text in FALSE_WORDS:
            fields[column] = False
        else:
            row_errors.append(RowError(line, "bad_boolean", column, raw[column]))
    for column in COUNT_COLUMNS:
        text = integer_text(raw.get(column, ""))
        if text and not text.isdigit():
            row_errors.append(RowError(line, "bad_count", column, raw[column]))
        fields[column] = int(text) if text.isdigit() else 0
    for column in ("responsible_name", "responsible_phone", "notes"):
        fields[column] = _unprotect(raw.get(column, ""))
    fields["patrol_interval_days"] = None
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
    errors.extend(row_errors)
    if row_errors:
        return None, village
    return values, village


def _unprotect(text: str) -> str:
    """Undo the export's formula guard: "'+86…" back to "+86…"."""
    return text[1:] if text[:1] == "'" and text[1:2] and text[1:2] in "=+-@" else text


def _repair(fields, error):
    """A stand-in value for a wrong field, so the remaining checks of the row still run."""
    stand_ins = {"name": "-", "kind": "other", "danger_level": "low", "latitude": 30.0, "longitude": 120.0,
                 "sign_count": 0, "life_buoys": 0, "poles": 0, "ropes": 0}
    fixed = dict(fields)
    if error.code == "swapped":
        fixed["latitude"], fixed["longitude"] = 30.0, 120.0
    elif error.code == "too_long":
        fixed[error.field] = ""
    elif error.field in stand_ins:
        fixed[error.field] = stand_ins[error.field]
    return fixed


def _write(parsed, result, actor):
    village_ids = {village.id for _, village, _ in parsed}
    existing = {
        (point.unit_id, point.name): point
        for point in db.session.scalars(select(WaterPoint).where(WaterPoint.unit_id.in_(village_ids)))
    }
    ancestors = {*(ancestor for _, village, _ in parsed for ancestor in village.ancestor_ids)}
    ancestor_units = {unit.id: unit for unit in db.session.scalars(select(Unit).where(Unit.id.in_(ancestors)))}
    boxes = {}

    def box_for(village):
        chain = [ancestor_units[unit_id] for unit_id in village.ancestor_ids if unit_id in ancestor_units]
        counties = [unit for unit in chain if unit.kind == UnitKind.COUNTY.value]
        area = counties[-1] if counties else (chain[0] if chain else village)
        if area.id not in boxes:
            boxes[area.id] = services.units_bounding_box(area)
        return boxes[area.id]

    for _, village, values in parsed:
        flagged = services.is_far_outside(values["latitude"], values["longitude"], box_for(village))
        point = existing.get((village.id, values["name"]))
        if point is None:
            point = WaterPoint(unit_id=village.id, created_by_id=actor.id if actor else None, **values)
            db.session.add(point)
            result.created += 1
        else:
            values.pop("patrol_interval_days")
            for name, value in values.items():
                setattr(point, name, value)
            point.status = WaterPointStatus.ACTIVE.value
            result.updated += 1
        point.needs_position_check = flagged
        result.flagged += int(flagged)
    db.session.flush()


# --- Export ----------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("id", "township", "village", "village_code", "name", "kind", "latitude", "longitude", "is_key",
                  "danger_level", "has_permanent_sign", "sign_count", "life_buoys", "poles", "ropes", "has_fence",
                  "responsible_name", "responsible_phone", "notes", "status", "needs_position_check",
                  "last_patrol_at", "patrol_overdue", "open_hazards", "overdue_hazards")


def export_records(rows) -> list[dict]:
    """Plain dicts from the list's PointRows, the labels in the current language."""
    records = []
    for row in rows:
        point = row.point
        records.append({
            "id": point.id, "township": row.township, "village": row.village, "village_code": row.village_code,
            "name": point.name, "kind": point.kind, "kind_label": str(KIND_LABELS.get(point.kind, point.kind)),
            "latitude": point.latitude, "longitude": point.longitude, "is_key": point.is_key,
            "danger_level": point.danger_level,
            "danger_label": str(DANGER_LABELS.get(point.danger_level, point.danger_level)),
            "has_permanent_sign": point.has_permanent_sign, "sign_count": point.sign_count,
            "life_buoys": point.life_buoys, "poles": point.poles, "ropes": point.ropes,
            "has_fence": point.has_fence, "responsible_name": point.responsible_name,
            "responsible_phone": point.responsible_phone, "notes": point.notes, "status": point.status,
            "needs_position_check": point.needs_position_check,
            "last_patrol_at": format_local(point.last_patrol_at), "patrol_overdue": row.patrol_overdue,
            "open_hazards": row.open_hazards, "overdue_hazards": row.overdue_hazards,
        })
    return records


def points_csv(records) -> bytes:
    """UTF-8 with BOM, so Excel opens the Chinese right; the header is the import's column names."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for item in records:
        writer.writerow([safe_cell(item[column]) for column in EXPORT_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def points_geojson(records) -> bytes:
    features = [
        {
            "type": "Feature",
            "id": item["id"],
            "geometry": {"type": "Point", "coordinates": [item["longitude"], item["latitude"]]},
            "properties": {column: item[column] for column in EXPORT_COLUMNS if column not in ("latitude", "longitude")},
        }
        for item in records
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")


KML_NS = "http://www.opengis.net/kml/2.2"


def points_kml(records, document_name: str = "") -> bytes:
    """Placemarks built with ElementTree, which escapes every text a user typed."""
    ET.register_namespace("", KML_NS)
    root = ET.Element(f"{{{KML_NS}}}kml")
    document = ET.SubElement(root, f"{{{KML_NS}}}Document")
    ET.SubElement(document, f"{{{KML_NS}}}name").text = document_name
    for item in records:
        placemark = ET.SubElement(document, f"{{{KML_NS}}}Placemark", id=f"water-point-{item['id']}")
        ET.SubElement(placemark, f"{{{KML_NS}}}name").text = item["name"]
        lines = [f"{item['township']} {item['village']}".strip(), f"{item['kind_label']} · {item['danger_label']}"]
        if item["responsible_name"] or item["responsible_phone"]:
            lines.append(f"{item['responsible_name']} {item['responsible_phone']}".strip())
        if item["notes"]:
            lines.append(item["notes"])
        # A description is HTML to Google Earth and most KML viewers: what a user typed is escaped for it.
        ET.SubElement(placemark, f"{{{KML_NS}}}description").text = html.escape("\n".join(lines))
        extended = ET.SubElement(placemark, f"{{{KML_NS}}}ExtendedData")
        for column in EXPORT_COLUMNS:
            data = ET.SubElement(extended, f"{{{KML_NS}}}Data", name=column)
            value = item[column]
            ET.SubElement(data, f"{{{KML_NS}}}value").text = (
                ("1" if value else "0") if isinstance(value, bool) else str(value))
        point = ET.SubElement(placemark, f"{{{KML_NS}}}Point")
        ET.SubElement(point, f"{{{KML_NS}}}coordinates").text = f"{item['longitude']},{item['latitude']},0"
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
