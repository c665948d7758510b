"""The unit tree out, as XLSX or CSV in the import's own columns, so the file re-imports unchanged.

The top unit of the exported area is written without a parent code: its parent lies outside the
file, and the import keeps a known unit's parent when the cell is empty.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased

from .. import permissions
from ..exports import table_csv, table_xlsx
from ..extensions import db
from ..i18n import UNIT_KIND_LABELS
from .models import Unit
from .services import KIND_ORDER

TABLE_HEADERS = {
    "code": _l("Unit code"),
    "name": _l("Unit name"),
    "kind": _l("Unit type"),
    "parent_code": _l("Parent code"),
    "parent": _l("Parent unit"),
    "category": _l("Category"),
    "contact_name": _l("Contact"),
    "phone": _l("Phone"),
    "households": _l("Households"),
    "students": _l("Students"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
}
CODE_COLUMNS = ("code", "parent_code", "phone")
WIDTHS = {"code": 15, "name": 22, "kind": 14, "parent_code": 15, "parent": 18, "phone": 14}


def unit_records(user, top=None) -> list[dict]:
    """``top`` (default: the user's own unit) and every unit below it within the user's area, in
    tree order (parents before children, siblings by kind and code), as plain dicts: one query."""
    top = top or user.unit
    parent = aliased(Unit)
    rows = db.session.execute(
        select(Unit, parent.code, parent.name).outerjoin(parent, parent.id == Unit.parent_id)
        .where(permissions.units_within(user), Unit.path.startswith(top.path))
    ).all()
    top_id = top.id
    by_id = {unit.id: unit for unit, _, _ in rows}
    keys = {}

    def key(unit):
        if unit.id not in keys:
            own = (KIND_ORDER.get(unit.kind, 99), unit.code or "~", unit.name)
            above = key(by_id[unit.parent_id]) if unit.id != top_id and unit.parent_id in by_id else ()
            keys[unit.id] = (*above, own)
        return keys[unit.id]

    records = []
    for unit, parent_code, parent_name in sorted(rows, key=lambda row: key(row[0])):
        inside = unit.id != top_id
        records.append({
            "code": unit.code or "", "name": unit.name, "kind": unit.kind,
            "kind_label": str(UNIT_KIND_LABELS.get(unit.kind, unit.kind)),
            "parent_code": (parent_code or "") if inside else "", "parent": (parent_name or "") if inside else "",
            "category": unit.category or "", "contact_name": unit.contact_name or "", "phone": unit.phone or "",
            "households": unit.households, "students": unit.students,
            "latitude": unit.latitude, "longitude": unit.longitude,
        })
    return records


def _rows(records) -> list[list]:
    return [[item["kind_label"] if column == "kind" else item[column] for column in TABLE_HEADERS]
            for item in records]


def units_csv(records) -> bytes:
    code_positions = [list(TABLE_HEADERS).index(column) for column in CODE_COLUMNS]
    return table_csv(TABLE_HEADERS.values(), _rows(records), code_positions)


def units_xlsx(records) -> bytes:
    widths = [WIDTHS.get(column, 10) for column in TABLE_HEADERS]
    return table_xlsx(list(TABLE_HEADERS.values()), _rows(records), str(_l("Units")), widths)
