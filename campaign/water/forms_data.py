"""What the official water forms need beyond the rows: who signs them, and whose form an empty one is."""
from sqlalchemy import select

from .. import permissions
from ..extensions import db
from ..units.models import Unit, UnitKind

GROUP_KINDS = {"village": (UnitKind.VILLAGE.value, UnitKind.COMMUNITY.value), "township": (UnitKind.TOWNSHIP.value,)}


def form_contacts(user, group_by: str) -> dict[str, tuple[str, str]]:
    """{unit name: (contact name, phone)} for the villages (or townships) in the user's area: the
    填报人 and 联系电话 of each sheet. One query."""
    rows = db.session.execute(
        select(Unit.name, Unit.contact_name, Unit.phone)
        .where(permissions.units_within(user), Unit.kind.in_(GROUP_KINDS.get(group_by, ())))
    )
    return {name: (contact or "", phone or "") for name, contact, phone in rows}


def form_area(user, filters) -> str:
    """The 填报单位 of a form with no rows: the village or township filtered on, else the user's unit."""
    unit_id = filters.village_id or filters.township_id
    if unit_id:
        unit = db.session.scalar(select(Unit).where(Unit.id == unit_id, permissions.units_within(user)))
        if unit is not None:
            return unit.name
    return user.unit.name
