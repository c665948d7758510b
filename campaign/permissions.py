"""The one place that decides who may do what, and on which units.

Every user belongs to a unit and acts on that unit and the units below it. Views ask
``require()`` for the action and scope every query with the filters here, so a changed id in
a URL yields 404, never another unit's data.
"""
from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import or_

from .accounts.models import Role
from .units.models import Unit, UnitKind

ALL_ROLES = frozenset(Role.values())
OFFICE_ROLES = frozenset({Role.ADMIN.value, Role.COUNTY_OFFICER.value})
REPORTER_ROLES = frozenset(
    {Role.VILLAGE_REPORTER.value, Role.SCHOOL_REPORTER.value, Role.AGENCY_REPORTER.value}
)

PERMISSIONS = {
    "units.view": ALL_ROLES,
    "units.manage": OFFICE_ROLES,
    # The tree with contacts and phone numbers, as a file: for those who keep it.
    "units.export": OFFICE_ROLES | {Role.TOWNSHIP_OFFICER.value},
    "users.view": OFFICE_ROLES | {Role.TOWNSHIP_OFFICER.value},
    "users.manage": OFFICE_ROLES,
    "campaigns.view": ALL_ROLES,
    "campaigns.manage": OFFICE_ROLES,
    # Township officers report their township's own tasks (its 实施方案, its summary).
    "assignments.report": REPORTER_ROLES | {Role.TOWNSHIP_OFFICER.value},
    "assignments.review": OFFICE_ROLES | {Role.TOWNSHIP_OFFICER.value},
    "lock_exceptions.manage": OFFICE_ROLES,
    "evidence.view": ALL_ROLES,
    # Tokens are for programs: the office's and townships' reports, agencies' own systems, viewers'
    # dashboards. Reporters of villages and schools and inspectors work on their phones' pages; they
    # neither see the token page nor make tokens (a token issued earlier still works on the API, where
    # its owner can list and revoke it; no token can make tokens).
    "api.tokens": OFFICE_ROLES
    | {Role.TOWNSHIP_OFFICER.value, Role.AGENCY_REPORTER.value, Role.VIEWER.value},
    "audit.view": OFFICE_ROLES,
    "water.view": ALL_ROLES,
    # Inspectors see water points, patrols and hazards county-wide but change none of them: their
    # spot checks are findings of their own; only a role listed here edits water data.
    "water.edit": OFFICE_ROLES | {Role.TOWNSHIP_OFFICER.value, Role.VILLAGE_REPORTER.value},
    "water.import": OFFICE_ROLES | {Role.TOWNSHIP_OFFICER.value},
    "progress.view": OFFICE_ROLES | {Role.TOWNSHIP_OFFICER.value, Role.INSPECTOR.value, Role.VIEWER.value},
    "reminders.send": OFFICE_ROLES | {Role.TOWNSHIP_OFFICER.value},
    "summary.write": frozenset({Role.TOWNSHIP_OFFICER.value}),
    "summary.review": OFFICE_ROLES,
    "summary.export": OFFICE_ROLES | {Role.TOWNSHIP_OFFICER.value, Role.INSPECTOR.value, Role.VIEWER.value},
}

# The unit kinds a role's holder may belong to; roles not listed may sit anywhere.
ROLE_UNIT_KINDS = {
    Role.COUNTY_OFFICER.value: {UnitKind.PROVINCE.value, UnitKind.CITY.value, UnitKind.COUNTY.value},
    Role.TOWNSHIP_OFFICER.value: {UnitKind.TOWNSHIP.value},
    Role.VILLAGE_REPORTER.value: {UnitKind.VILLAGE.value, UnitKind.COMMUNITY.value},
    Role.SCHOOL_REPORTER.value: {UnitKind.SCHOOL.value, UnitKind.KINDERGARTEN.value},
    Role.AGENCY_REPORTER.value: {UnitKind.AGENCY.value},
}


def has_permission(user, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"no rule for permission {permission!r}")
    return bool(user and user.is_authenticated and user.role in PERMISSIONS[permission])


def require(permission: str):
    """View decorator: 403 unless the logged-in user's role carries the permission."""
    if permission not in PERMISSIONS:
        raise KeyError(f"no rule for permission {permission!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


def units_within(user):
    """SQL filter: the user's unit and every unit below it."""
    return Unit.path.like(f"{user.unit.path}%")


def unit_is_within(user, unit) -> bool:
    return unit is not None and unit.is_within(user.unit)


def get_unit_or_404(user, unit_id):
    from .extensions import db

    unit = db.session.get(Unit, unit_id)
    if not unit_is_within(user, unit):
        abort(404)
    return unit


def campaigns_visible_to(user, root_unit=Unit):
    """SQL filter on a query joined to the campaign's root unit: campaigns run by the user's unit,
    by a unit above it (a village sees the county's campaign) or by a unit below it."""
    line_ids = [*user.unit.ancestor_ids, user.unit.id]
    return or_(root_unit.id.in_(line_ids), root_unit.path.like(f"{user.unit.path}%"))


def can_see_campaign(user, campaign) -> bool:
    root = campaign.root_unit
    return root.is_within(user.unit) or user.unit.is_within(root)


def can_manage_campaign(user, campaign) -> bool:
    return has_permission(user, "campaigns.manage") and campaign.root_unit.is_within(user.unit)


def grantable_roles(user) -> list[str]:
    """Roles a user may give to others: never more than their own."""
    if user.role == Role.ADMIN.value:
        return Role.values()
    if user.role == Role.COUNTY_OFFICER.value:
        return [role for role in Role.values() if role != Role.ADMIN.value]
    return []


def role_fits_unit(role: str, unit) -> bool:
    allowed = ROLE_UNIT_KINDS.get(role)
    return allowed is None or unit.kind in allowed


# Seniority for managing accounts: an officer may not reset, deactivate, edit or revoke the tokens of
# a peer of the same or higher rank in their own unit (that would be a takeover); an admin or an
# officer of a higher unit may.
ROLE_RANKS = {Role.ADMIN.value: 3, Role.COUNTY_OFFICER.value: 2, Role.TOWNSHIP_OFFICER.value: 1}


def can_manage_user(actor, user) -> bool:
    if not (
        has_permission(actor, "users.manage")
        and unit_is_within(actor, user.unit)
        and user.role in grantable_roles(actor)
    ):
        return False
    if actor.role == Role.ADMIN.value or user.id == actor.id:
        return True
    outranked = ROLE_RANKS.get(user.role, 0) < ROLE_RANKS.get(actor.role, 0)
    return outranked or user.unit.id != actor.unit.id
