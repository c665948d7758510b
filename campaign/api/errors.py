"""API errors: one JSON shape, ``{"error": {"code", "message", "details"}}``, with the HTTP status
that fits. Messages are translated (Chinese by default, English with ``Accept-Language: en``)."""
from flask import current_app, request
from flask_babel import lazy_gettext as _l

from ..evidence.services import upload_error_message
from ..reporting.messages import ERROR_FIELDS, MISSING_EVIDENCE, MISSING_SEPARATOR, report_error_message
from ..timeutil import format_local
from .serializers import json_response, json_safe

API_PREFIX = "/api/v1"

API_MESSAGES = {
    "unauthorized": _l("Send a valid API token in the header: Authorization: Bearer <token>."),
    "invalid_token": _l("The API token is not valid: it is unknown or revoked, or its user is deactivated."),
    "forbidden": _l("You may not do this."),
    "not_found": _l("Not found, or not in your area."),
    "method_not_allowed": _l("This method is not allowed here."),
    "too_large": _l("The request is too large (at most %(limit_mb)s MB)."),
    "bad_request": _l("The request could not be understood."),
    "server_error": _l("Something went wrong on the server; nothing was saved. Try again later."),
    "invalid_json": _l("The request body must be a JSON object."),
    "field_required": _l("The field “%(field)s” is required."),
    "field_invalid": _l("The field “%(field)s” must be %(expected)s."),
    "bad_parameter": _l("The parameter “%(parameter)s” is not valid."),
    "idempotency_key_invalid": _l("The Idempotency-Key header must be 8 to 64 letters, digits, “-” or “_”."),
    "idempotency_key_other_scope": _l("This Idempotency-Key was already used for another request: "
                                      "use a new key for each new write."),
    # Token management.
    "name_required": _l("Give the token a name, e.g. the device or program that will use it."),
    "name_too_long": _l("The name is too long (at most %(max)s characters)."),
    "too_many_tokens": _l("You have %(max)s valid tokens already: revoke one you no longer use first."),
    "token_cannot_create_tokens": _l("An API token cannot create tokens. Log in on the website and create "
                                     "one on the API tokens page."),
    # Reporting messages that, on the pages, point at the form.
    "conflict": _l("%(by)s saved this report at %(at)s (version %(version)s). Nothing of yours was saved: "
                   "read the report again, re-apply your changes and send them with the new version."),
    "evidence_missing": _l("This task cannot be submitted without %(missing)s. Upload it first, then submit."),
    "no_files": _l("Send at least one photo or document as multipart/form-data."),
}

EXPECTED = {
    "integer": _l("a whole number"),
    "string": _l("text"),
    "boolean": _l("true or false"),
    "date": _l("a date written YYYY-MM-DD"),
}

REPORT_STATUSES = {
    "not_allowed": 403,
    "evidence_not_found": 404,
    "unit_out_of_scope": 404,
    "conflict": 409,
    "not_editable": 409,
    "invalid_transition": 409,
    "not_submitted": 409,
    "evidence_missing": 409,
    "campaign_not_active": 409,
    "locked": 423,
    "campaign_closed": 423,
}
UPLOAD_STATUSES = {"too_large": 413, "image_too_large": 413, "bad_type": 415, "storage_failed": 507}
TOKEN_STATUSES = {"not_allowed": 403, "token_cannot_create_tokens": 403}


class ApiError(Exception):
    """Raised in the API's views; turned into the JSON error response."""

    def __init__(self, status: int, code: str, **details):
        super().__init__(code)
        self.status = status
        self.code = code
        self.details = details


def api_message(code: str, details: dict | None = None) -> str:
    details = dict(details or {})
    if "expected" in details:
        details["expected"] = str(EXPECTED.get(details["expected"], details["expected"]))
    template = API_MESSAGES.get(code)
    if template is None:
        return str(API_MESSAGES["bad_request"])
    try:
        return str(template) % details if details else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


def error_response(status: int, code: str, message: str, details: dict | None = None, headers=None):
    body = {"error": {"code": code, "message": message, "details": json_safe(details or {})}}
    response = json_response(body, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="campaign-desk"' + (
            ', error="invalid_token"' if code == "invalid_token" else "")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def api_error_response(error: ApiError):
    return error_response(error.status, error.code, api_message(error.code, error.details), error.details)


def report_error_response(error):
    """A refused reporting service call (ReportError or ReportConflict)."""
    status = REPORT_STATUSES.get(error.code, 400)
    details = dict(error.details)
    if error.code == "conflict":
        message = api_message("conflict", {
            "by": details.get("by") or str(_l("Someone")),
            "at": format_local(details.get("at")),
            "version": details.get("version"),
        })
    elif error.code == "evidence_missing":
        missing = str(MISSING_SEPARATOR).join(str(MISSING_EVIDENCE.get(item, item))
                                              for item in details.get("missing", []))
        message = api_message("evidence_missing", {"missing": missing})
    elif error.code == "no_files":
        message = api_message("no_files")
    else:
        message = report_error_message(error)
    if error.code in ERROR_FIELDS:
        details.setdefault("field", ERROR_FIELDS[error.code])
    return error_response(status, error.code, message, details)


def upload_error_response(error):
    return error_response(UPLOAD_STATUSES.get(error.code, 400), error.code, upload_error_message(error),
                          error.details)


def token_error_response(error):
    return error_response(TOKEN_STATUSES.get(error.code, 400), error.code,
                          api_message("forbidden" if error.code == "not_allowed" else error.code, error.details),
                          error.details)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def http_error_response(error):
    status = error.code or 500
    if status >= 500:
        return error_response(500, "server_error", api_message("server_error"))
    code = HTTP_CODES.get(status, "bad_request")
    details, headers = {}, {}
    if status == 413:
        details["limit_mb"] = int(current_app.config.get("MAX_UPLOAD_MB", 0))
    if status == 405 and getattr(error, "valid_methods", None):
        details["allowed"] = sorted(error.valid_methods)
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return error_response(status, code, api_message(code, details), details, headers)
