"""The unit tree: browsing pages, adding and editing units (importing: ``importing``)."""
import re
from dataclasses import dataclass

from sqlalchemy import String, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from .. import permissions
from ..audit.services import record, snapshot
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


# --- Display helpers -----------------------------------------------------------------------------------


def household_or_students(unit):
    """The head count shown for a unit: households for villages and communities, students for schools."""
    if unit.kind in HOUSEHOLD_KINDS:
        return unit.households
    if unit.kind in STUDENT_KINDS:
        return unit.students
    return unit.households if unit.households is not None else unit.students
