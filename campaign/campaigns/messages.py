"""What each refused campaign operation says to the user."""
from flask_babel import lazy_gettext as _l

CAMPAIGN_ERRORS = {
    "title_required": _l("A title is required."),
    "window_required": _l("Enter the start and end dates."),
    "deadline_required": _l("Enter the summary deadline."),
    "start_after_end": _l("The start date must not be after the end date."),
    "deadline_before_end": _l("The summary deadline must not be before the end date."),
    "unknown_unit": _l("Choose the participating unit."),
    "unit_out_of_scope": _l("That unit is outside your area."),
    "unknown_playbook": _l("There is no playbook %(key)s."),
    "not_allowed": _l("You may not manage this campaign."),
    "not_draft": _l("Only a draft campaign can be changed; this one has been launched."),
    "already_launched": _l("This campaign has already been launched; nothing more was created."),
    "no_tasks": _l("Add at least one task before launching."),
    "not_active": _l("Only an active campaign can be closed."),
    "invalid_transition": _l("This status change is not allowed."),
    "kinds_required": _l("Choose at least one kind of unit."),
    "unknown_kind": _l("Unknown unit kind %(kind)s."),
    "unknown_category": _l("Choose a unit category from the list."),
    "unknown_measure": _l("Unknown measure %(measure)s."),
    "quantity_needs_unit": _l("A quantity needs a unit of measure."),
    "unknown_measure_unit": _l("Unknown unit of measure %(unit)s."),
    "negative_target": _l("The target cannot be negative."),
    "due_outside_window": _l("The due date must lie between the start date (%(start)s) and the deadline (%(deadline)s)."),
}

# The form field each error belongs to, so the message shows beside what must be corrected.
ERROR_FIELDS = {
    "title_required": "title",
    "window_required": "start_date",
    "deadline_required": "deadline_date",
    "start_after_end": "end_date",
    "deadline_before_end": "deadline_date",
    "unknown_unit": "root_unit_id",
    "unit_out_of_scope": "root_unit_id",
    "kinds_required": "unit_kinds",
    "unknown_kind": "unit_kinds",
    "unknown_category": "unit_category",
    "unknown_measure": "measure",
    "quantity_needs_unit": "measure_unit",
    "unknown_measure_unit": "measure_unit",
    "negative_target": "target",
    "due_outside_window": "due_date",
}


def campaign_error_message(error) -> str:
    code = getattr(error, "code", error)
    details = getattr(error, "details", {})
    message = CAMPAIGN_ERRORS.get(code)
    if message is None:
        return str(code)
    return str(message) % details if details else str(message)
