"""What each refused account operation says to the user."""
from flask_babel import lazy_gettext as _l

ACCOUNT_ERRORS = {
    "username_required": _l("A username is required."),
    "username_taken": _l("The username %(username)s is already taken."),
    "username_taken_ignoring_case": _l(
        "The username %(username)s is already taken as %(existing)s: usernames do not depend on capital letters."
    ),
    "unknown_role": _l("Unknown role %(role)s."),
    "unknown_unit": _l("No unit has that division code."),
    "role_not_grantable": _l("You may not give the role %(role)s."),
    "unit_out_of_scope": _l("That unit is outside your area."),
    "role_does_not_fit_unit": _l("This role cannot belong to a unit of that kind."),
    "too_short": _l("The password must have at least 8 characters."),
    "needs_letters_and_digits": _l("The password must contain both letters and digits."),
    "wrong_password": _l("The current password is not correct."),
    "not_allowed": _l("You may not change this user."),
    "cannot_demote_self": _l("You cannot deactivate yourself or change your own role."),
    "bad_credentials": _l(
        "Wrong username or password. If you have forgotten your password or your account may have been "
        "deactivated, ask the county office."
    ),
    "throttled": _l(
        "Too many failed logins from here. Please wait %(minutes)s minutes and try again, or ask the "
        "county office to unlock your account."
    ),
    "role_required": _l("A role is required."),
    "unit_required": _l("Choose a unit or enter its division code."),
    "unit_code_required": _l("A unit division code is required."),
    "unknown_unit_code": _l("No unit has the division code %(division_code)s."),
    "too_long": _l("%(field)s is too long: at most %(max)s characters."),
    "duplicate_in_file": _l(
        "The username %(username)s appears more than once in the file (first on line %(first_line)s)."
    ),
    "missing_columns": _l("The file lacks the columns: %(columns)s."),
    "unreadable_file": _l("The file could not be read. Save it as CSV in UTF-8 or GB18030 and try again."),
    "no_rows": _l("The file has no users in it."),
}


def account_error_message(error) -> str:
    code = getattr(error, "code", error)
    details = getattr(error, "details", {})
    message = ACCOUNT_ERRORS.get(code)
    if message is None:
        return str(code)
    return str(message) % details if details else str(message)
