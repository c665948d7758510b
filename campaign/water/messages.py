"""Display names of the water vocabularies and what a refused change or a bad import row says."""
from flask_babel import lazy_gettext as _l

from ..tables.messages import TABLE_ERRORS

KIND_LABELS = {
    "river": _l("River"),
    "pond": _l("Pond"),
    "reservoir": _l("Reservoir"),
    "canal": _l("Canal"),
    "ditch": _l("Ditch"),
    "construction_pit": _l("Construction pit"),
    "other": _l("Other water"),
}

DANGER_LABELS = {
    "high": _l("High danger"),
    "medium": _l("Medium danger"),
    "low": _l("Low danger"),
}

POINT_STATUS_LABELS = {
    "active": _l("In use"),
    "archived": _l("Archived (filled in or gone)"),
}

# "Open" alone is also the verb on links (查看): the hazard state has words of its own.
HAZARD_STATUS_LABELS = {
    "open": _l("Not rectified"),
    "in_progress": _l("Being rectified"),
    "closed": _l("Closed (rectified)"),
}

SORT_LABELS = {
    "village": _l("Township and village"),
    "name": _l("Name"),
    "danger": _l("Danger level"),
    "last_patrol": _l("Longest without patrol"),
    "hazards": _l("Most hazards"),
    "newest": _l("Newest first"),
}

WATER_ERRORS = {
    "not_allowed": _l("You may not change water points."),
    "village_out_of_scope": _l("Choose a village or community within your area."),
    "not_a_village": _l("Water points belong to an administrative village or a community."),
    "name_required": _l("The name is required."),
    "too_long": _l("At most %(limit)s characters."),
    "unknown_kind": _l("Unknown kind of water “%(value)s”."),
    "unknown_danger": _l("Unknown danger level “%(value)s”."),
    "bad_count": _l("Enter a whole number of zero or more."),
    "bad_interval": _l("Enter a number of days between 1 and 366."),
    "latitude_required": _l("Enter the latitude."),
    "longitude_required": _l("Enter the longitude."),
    "latitude_not_number": _l("The latitude “%(value)s” is not a number: write it in decimal degrees, e.g. 30.2336."),
    "longitude_not_number": _l("The longitude “%(value)s” is not a number: write it in decimal degrees, e.g. 119.7249."),
    "latitude_out_of_range": _l("The latitude “%(value)s” is out of range: it lies between -90 and 90."),
    "longitude_out_of_range": _l("The longitude “%(value)s” is out of range: it lies between -180 and 180."),
    "swapped": _l("Latitude and longitude look swapped: in China the latitude is about 18–54 and the longitude "
                  "about 73–135. Did you mean latitude %(longitude)s, longitude %(latitude)s?"),
    "changed_meanwhile": _l("Someone else changed this water point while you were editing it. Your changes were "
                            "not saved; check the current data and save again."),
    "unknown_status": _l("Unknown state."),
    "patroller_required": _l("Enter who patrolled."),
    "patrol_time_required": _l("Enter the date and time of the patrol."),
    "patrol_in_future": _l("The patrol time lies in the future."),
    "found_on_required": _l("Enter the date the hazard was found."),
    "found_in_future": _l("The date found lies in the future."),
    "description_required": _l("Describe the hazard."),
    "rectify_by_required": _l("Enter the date by which it must be rectified."),
    "rectify_before_found": _l("The rectify-by date cannot be before the date found."),
    "owner_required": _l("Enter who must rectify it."),
    "closing_note_required": _l("Closing a hazard needs a note on how it was rectified."),
    "closing_photo_required": _l("Closing a hazard needs at least one photo of the rectified place."),
    "bad_transition": _l("This hazard cannot be moved to that state."),
    "bad_purpose": _l("Unknown photo purpose."),
}

IMPORT_ERRORS = {
    **TABLE_ERRORS,
    "conflict": _l("The import clashed with a change made at the same time. Nothing was imported; please try again."),
    "unknown_village": _l("No village or community within your area has the code “%(value)s”."),
    "duplicate_point": _l("“%(value)s” in the same village already appears on line %(first_line)s."),
    "bad_boolean": _l("“%(value)s” is not yes or no (是/否, 1/0, yes/no)."),
    "bad_point_code": _l("The water point code “%(value)s” may hold only letters and digits (at most 16)."),
    "duplicate_point_code": _l("The water point code %(value)s already appears on line %(first_line)s."),
    "point_out_of_scope": _l("The water point %(value)s is outside your area."),
    "ambiguous_point": _l("This village has %(count)s water points called “%(value)s”: fill in the column 编号 "
                          "(the code from the app's export) to say which one this row is."),
    **{code: message for code, message in WATER_ERRORS.items() if code not in ("not_allowed", "changed_meanwhile")},
}


def _format(messages, error) -> str:
    message = messages.get(error.code)
    if message is None:
        return error.code
    return str(message) % {"value": getattr(error, "value", ""), **error.details}


def water_error_message(error) -> str:
    return _format(WATER_ERRORS, error)


def import_error_message(error) -> str:
    return _format(IMPORT_ERRORS, error)
