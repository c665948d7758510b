"""Water points out: XLSX and CSV that re-import (``importing``), GeoJSON and KML for maps.

The export functions are pure: they take plain records (``export_records``) and return bytes.
"""
import html
import json
import xml.etree.ElementTree as ET

from flask_babel import lazy_gettext as _l

from ..exports import table_csv, table_xlsx
from ..timeutil import format_local
from .messages import DANGER_LABELS, KIND_LABELS, POINT_STATUS_LABELS

EXPORT_COLUMNS = ("id", "code", "township", "village", "village_code", "name", "kind", "latitude", "longitude",
                  "is_key", "danger_level", "has_permanent_sign", "sign_count", "life_buoys", "poles", "ropes",
                  "has_fence", "responsible_name", "responsible_phone", "notes", "status", "patrol_interval_days",
                  "needs_position_check", "last_patrol_at", "patrol_overdue", "open_hazards", "overdue_hazards")

# The spreadsheet export: the importer's columns first (``importing.COLUMNS`` reads these headers in
# either language), then what the office reads but the import ignores.
TABLE_HEADERS = {
    "code": _l("Water point code"),
    "township": _l("Township (street)"),
    "village": _l("Village (community)"),
    "village_code": _l("Village (community) code"),
    "name": _l("Water name"),
    "kind": _l("Kind of water"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
    "is_key": _l("Key water point (yes/no)"),
    "danger_level": _l("Danger level"),
    "has_permanent_sign": _l("Permanent warning sign (yes/no)"),
    "sign_count": _l("Number of warning signs"),
    "life_buoys": _l("Life buoys"),
    "poles": _l("Rescue poles"),
    "ropes": _l("Rescue ropes"),
    "has_fence": _l("Fence (yes/no)"),
    "responsible_name": _l("Safety information officer"),
    "responsible_phone": _l("Officer's phone"),
    "notes": _l("Notes"),
    "status": _l("Point state"),
    "patrol_interval_days": _l("Patrol interval (days)"),
    "needs_position_check": _l("Position to check"),
    "last_patrol_at": _l("Last patrol"),
    "patrol_overdue": _l("Patrol overdue"),
    "open_hazards": _l("Open hazards"),
    "overdue_hazards": _l("Overdue hazards"),
}
TABLE_CODE_COLUMNS = ("village_code", "responsible_phone")
TABLE_WIDTHS = {"code": 11, "township": 14, "village": 14, "village_code": 15, "name": 18, "responsible_phone": 14,
                "notes": 24, "last_patrol_at": 17}
YES_NO_COLUMNS = ("is_key", "has_permanent_sign", "has_fence", "needs_position_check", "patrol_overdue")


def export_records(rows) -> list[dict]:
    """Plain dicts from the list's PointRows, the labels in the current language."""
    records = []
    for row in rows:
        point = row.point
        records.append({
            "id": point.id, "code": point.code, "township": row.township, "village": row.village,
            "village_code": row.village_code,
            "name": point.name, "kind": point.kind, "kind_label": str(KIND_LABELS.get(point.kind, point.kind)),
            "latitude": point.latitude, "longitude": point.longitude, "is_key": point.is_key,
            "danger_level": point.danger_level,
            "danger_label": str(DANGER_LABELS.get(point.danger_level, point.danger_level)),
            "has_permanent_sign": point.has_permanent_sign, "sign_count": point.sign_count,
            "life_buoys": point.life_buoys, "poles": point.poles, "ropes": point.ropes,
            "has_fence": point.has_fence, "responsible_name": point.responsible_name,
            "responsible_phone": point.responsible_phone, "notes": point.notes, "status": point.status,
            "status_label": str(POINT_STATUS_LABELS.get(point.status, point.status)),
            "patrol_interval_days": point.patrol_interval_days,
            "needs_position_check": point.needs_position_check,
            "last_patrol_at": format_local(point.last_patrol_at), "patrol_overdue": row.patrol_overdue,
            "open_hazards": row.open_hazards, "overdue_hazards": row.overdue_hazards,
        })
    return records


def _table_rows(records) -> list[list]:
    """Cells as the office reads them: labels for kind, danger and state, 是/否 for yes and no."""
    yes, no = str(_l("Yes")), str(_l("No"))
    labels = {"kind": "kind_label", "danger_level": "danger_label", "status": "status_label"}
    rows = []
    for item in records:
        row = []
        for column in TABLE_HEADERS:
            value = item[labels.get(column, column)]
            if column in YES_NO_COLUMNS:
                value = yes if value else no
            row.append(value)
        rows.append(row)
    return rows


def points_csv(records) -> bytes:
    """The spreadsheet export as CSV (see ``exports.table_csv`` for how codes stay text)."""
    code_positions = [list(TABLE_HEADERS).index(column) for column in TABLE_CODE_COLUMNS]
    return table_csv(TABLE_HEADERS.values(), _table_rows(records), code_positions)


def points_xlsx(records) -> bytes:
    """The spreadsheet export as XLSX: codes and phone numbers are text cells."""
    widths = [TABLE_WIDTHS.get(column, 10) for column in TABLE_HEADERS]
    return table_xlsx(list(TABLE_HEADERS.values()), _table_rows(records), str(_l("Water points")), widths)


def points_geojson(records) -> bytes:
    features = [
        {
            "type": "Feature",
            "id": item["id"],
            "geometry": {"type": "Point", "coordinates": [item["longitude"], item["latitude"]]},
            "properties": {column: item[column] for column in EXPORT_COLUMNS
                           if column not in ("latitude", "longitude")},
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
                ("1" if value else "0") if isinstance(value, bool) else "" if value is None else str(value))
        point = ET.SubElement(placemark, f"{{{KML_NS}}}Point")
        ET.SubElement(point, f"{{{KML_NS}}}coordinates").text = f"{item['longitude']},{item['latitude']},0"
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
