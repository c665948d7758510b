"""What a refused unit change or a bad import row says to the user, in their language."""
from flask_babel import lazy_gettext as _l

from ..tables.messages import TABLE_ERRORS

UNIT_ERRORS = {
    "bad_code": _l("A division code has exactly 12 digits."),
    "unknown_kind": _l("Unknown unit type “%(value)s”."),
    "name_required": _l("The name is required."),
    "too_long": _l("At most %(limit)s characters."),
    "bad_count": _l("Enter a whole number of zero or more."),
    "code_taken": _l("The code %(value)s already belongs to %(name)s."),
    "name_taken": _l("Another unit under this parent is already called %(value)s."),
    "parent_out_of_scope": _l("The parent unit must be within your area."),
    "parent_inside_unit": _l("A unit cannot be placed under itself or under one of its own units."),
    "out_of_scope": _l("That unit is outside your area."),
}

IMPORT_ERRORS = {
    **TABLE_ERRORS,
    "conflict": _l("The import clashed with a change made at the same time. Nothing was imported; please try again."),
    "bad_code": _l("The division code “%(value)s” does not have 12 digits."),
    "name_required": _l("The name is empty."),
    "unknown_kind": _l("Unknown unit type “%(value)s”."),
    "too_long": _l("“%(value)s” is longer than %(limit)s characters."),
    "bad_count": _l("“%(value)s” is not a whole number of zero or more."),
    "bad_latitude": _l("The latitude “%(value)s” is not a number between -90 and 90."),
    "bad_longitude": _l("The longitude “%(value)s” is not a number between -180 and 180."),
    "duplicate_code": _l("The code %(value)s already appears on line %(first_line)s."),
    "unknown_parent": _l("No unit in the file or within your area has the parent code “%(value)s”."),
    "cycle": _l("The parent codes go round in a circle: this unit would end up under itself."),
    "duplicate_name": _l("“%(value)s” already appears under the same parent on line %(first_line)s."),
    "name_taken": _l("Another unit under the same parent is already called “%(value)s”."),
    "out_of_scope": _l("The unit %(value)s is outside your area."),
    "top_out_of_scope": _l("A unit without a parent code would sit outside your area: give its parent code."),
}


def _format(messages, error) -> str:
    message = messages.get(error.code)
    if message is None:
        return error.code
    return str(message) % {"value": getattr(error, "value", ""), **error.details}


def unit_error_message(error) -> str:
    return _format(UNIT_ERRORS, error)


def import_error_message(error) -> str:
    return _format(IMPORT_ERRORS, error)
