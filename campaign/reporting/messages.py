"""What each refused reporting operation says to the user."""
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from ..i18n import ASSIGNMENT_STATUS_LABELS
from ..timeutil import format_local

REPORT_ERRORS = {
    "not_allowed": _l("You may not do this on this report."),
    "campaign_closed": _l("The campaign is closed: its reports can no longer be changed or reviewed."),
    "campaign_not_active": _l("The campaign is not running: its reports cannot be changed."),
    "locked": _l("The deadline (%(deadline)s) has passed: this report is locked. If you still need to "
                 "report, ask the county office to reopen it for your unit."),
    "not_editable": _l("This report is %(status)s and cannot be changed unless it is returned."),
    "conflict": _l("%(by)s saved this report at %(at)s. Their version is shown below; your text is kept "
                   "in the form: re-apply your changes and save again."),
    "invalid_transition": _l("This step is not possible while the report is %(status)s."),
    "not_submitted": _l("Only a submitted report can be reviewed; this one is %(status)s."),
    "note_too_long": _l("The note is too long (at most %(max)s characters)."),
    "not_a_quantity": _l("This task is reported as done or not done, not as a quantity."),
    "quantity_invalid": _l("Enter the quantity as a whole number, 0 or more."),
    "quantity_too_large": _l("That quantity is too large (at most %(max)s)."),
    "date_required": _l("Enter the date as YYYY-MM-DD."),
    "date_in_future": _l("The date cannot be in the future."),
    "date_outside_window": _l("The date must lie within the campaign, %(start)s – %(end)s."),
    "evidence_missing": _l("This task cannot be submitted without %(missing)s. Upload it below, then submit."),
    "no_files": _l("Choose at least one photo or document."),
    "evidence_not_found": _l("This evidence is no longer attached to the report."),
    "reason_required": _l("Give the reason."),
    "reason_too_long": _l("The reason is too long (at most %(max)s characters)."),
    "unit_out_of_scope": _l("Choose a unit that takes part in this campaign in your area."),
    "until_required": _l("Enter the date and time the exception ends."),
    "until_in_past": _l("The exception must end in the future."),
}

MISSING_EVIDENCE = {
    "photo": _l("a photo"),
    "document": _l("a document (PDF, Word or Excel)"),
}
MISSING_SEPARATOR = _l(" and ")

# The form field each error belongs to, so the message shows beside what must be corrected.
ERROR_FIELDS = {
    "note_too_long": "note",
    "quantity_invalid": "quantity",
    "quantity_too_large": "quantity",
    "date_required": "reported_on",
    "date_in_future": "reported_on",
    "date_outside_window": "reported_on",
    "reason_required": "reason",
    "reason_too_long": "reason",
    "unit_out_of_scope": "unit_id",
    "until_required": "until",
    "until_in_past": "until",
}

ACTION_LABELS = {
    "report.save": _l("Saved the draft"),
    "report.instalment": _l("Reported a quantity"),
    "report.submit": _l("Submitted"),
    "report.return": _l("Returned"),
    "report.approve": _l("Approved"),
    "report.evidence_add": _l("Added evidence"),
    "report.evidence_remove": _l("Removed evidence"),
}

FIELD_LABELS = {
    "status": _l("Status"),
    "done": _l("Done"),
    "note": _l("Note"),
    "return_reason": _l("Reason for return"),
    "quantity": _l("Quantity"),
    "reported_on": _l("Date"),
    "instalment_note": _l("Note"),
    "total": _l("Running total"),
}


def _display(key, value):
    if key == "status":
        return str(ASSIGNMENT_STATUS_LABELS.get(value, value))
    if key == "missing":
        return str(MISSING_SEPARATOR).join(str(MISSING_EVIDENCE.get(item, item)) for item in value)
    if isinstance(value, datetime):
        return format_local(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def report_error_message(error) -> str:
    code = getattr(error, "code", error)
    details = {key: _display(key, value) for key, value in (getattr(error, "details", {}) or {}).items()}
    message = REPORT_ERRORS.get(code)
    if message is None:
        return str(code)
    if code == "conflict":
        details["at"] = format_local(getattr(error, "details", {}).get("at"), "%H:%M")
        details["by"] = details.get("by") or _l("Someone")
    try:
        return str(message) % details if details else str(message)
    except (KeyError, TypeError, ValueError):
        return str(message)
