"""The JSON API described as an OpenAPI 3.1 document, served at /api/v1/openapi.json.

Kept true by tests/api/test_openapi.py: every route of the ``api`` blueprint is described here and
every path here is a route; schemathesis calls every operation with a token of each role and checks
each answer against this document (status, content type, body).
"""
from ..campaigns.models import AssignmentStatus
from ..inputs import INT32_MAX, MAX_JSON_DEPTH
from .errors import API_PREFIX


def nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


def obj(properties: dict, required=None) -> dict:
    return {"type": "object", "properties": properties, "required": list(required or properties)}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


ID = {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
TIME = nullable("string", format="date-time")
DATE = nullable("string", format="date")
TEXT = nullable("string")
COUNT = nullable("integer")
RATE = nullable("number")
FIGURE_COUNTS = ("expected", "submitted", "approved", "returned", "on_time", "late", "missing", "reported",
                 "target_total", "reached")
FIGURE_RATES = ("submitted_rate", "on_time_rate", "late_rate", "missing_rate", "pct_reached", "reached_share")

SCHEMAS = {
    "Error": obj({"error": obj({
        "code": {"type": "string", "examples": ["not_found"]},
        "message": {"type": "string", "description": "For people, in the request's language."},
        "details": {"type": "object", "description": "The values the message names; `field` for a body field."},
    })}),
    "UnitBrief": obj({"id": ID, "name": {"type": "string"}, "kind": {"type": "string"},
                      "kind_label": {"type": "string"}}),
    "User": obj({
        "id": ID, "username": {"type": "string"}, "display_name": TEXT, "role": {"type": "string"},
        "role_label": {"type": "string"}, "unit": ref("UnitBrief"),
        "permissions": {"type": "array", "items": {"type": "string"}},
    }),
    "CampaignBrief": obj({"id": ID, "title": {"type": "string"}, "status": {"type": "string"},
                          "start_date": DATE, "end_date": DATE, "deadline_at": TIME}),
    "TaskBrief": obj({
        "id": ID, "title": {"type": "string"}, "description": TEXT, "measure": {"type": "string"},
        "target": COUNT, "measure_unit": TEXT, "measure_unit_label": TEXT, "requires_photo": {"type": "boolean"},
        "requires_document": {"type": "boolean"}, "due_date": DATE,
    }),
    "AssignmentSummary": obj({
        "id": ID, "url": {"type": "string"}, "campaign": ref("CampaignBrief"), "task": ref("TaskBrief"),
        "unit": ref("UnitBrief"), "status": {"type": "string"}, "status_label": {"type": "string"},
        "version": {"type": "integer"}, "done": nullable("boolean"), "total": COUNT, "target": COUNT,
        "percent": COUNT, "submitted_at": TIME, "reviewed_at": TIME, "updated_at": TIME,
    }),
    "Person": {"type": ["object", "null"], "properties": {"id": nullable("integer"), "username": TEXT,
                                                          "name": TEXT}},
    "Instalment": obj({"id": ID, "quantity": {"type": "integer"}, "reported_on": DATE, "note": TEXT,
                       "reported_by": ref("Person"), "created_at": TIME}),
    "Evidence": obj({
        "id": ID, "name": TEXT, "kind": {"type": "string", "enum": ["image", "pdf", "docx", "xlsx"]},
        "content_type": {"type": "string"}, "size": {"type": "integer"}, "sha256": {"type": "string"},
        "width": COUNT, "height": COUNT, "uploaded_at": TIME, "taken_at": TIME, "latitude": RATE,
        "longitude": RATE, "url": {"type": "string"}, "thumbnail_url": TEXT, "page_url": {"type": "string"},
    }),
    "HistoryEntry": obj({"action": {"type": "string"}, "action_label": {"type": "string"}, "at": TIME,
                         "by": ref("Person"), "before": {}, "after": {}}),
    "AssignmentDetail": {"allOf": [ref("AssignmentSummary"), obj({
        "note": TEXT, "return_reason": TEXT, "reviewed_by": ref("Person"), "first_submitted_at": TIME,
        "locked": {"type": "boolean"}, "lock_exception_until": TIME, "editable": {"type": "boolean"},
        "may_report": {"type": "boolean"}, "may_edit": {"type": "boolean"}, "may_review": {"type": "boolean"},
        "missing_evidence": {"type": "array", "items": {"type": "string"}},
        "instalments": {"type": "array", "items": ref("Instalment")},
        "evidence": {"type": "array", "items": ref("Evidence")},
        "history": {"type": "array", "items": ref("HistoryEntry")},
    })]},
    "AssignmentEnvelope": obj({"assignment": ref("AssignmentDetail")}),
    "Token": obj({"id": ID, "name": {"type": "string"}, "prefix": {"type": "string"}, "created_at": TIME,
                  "last_used_at": TIME, "revoked_at": TIME, "active": {"type": "boolean"}}),
    "Figures": obj({**{name: COUNT for name in FIGURE_COUNTS}, **{name: RATE for name in FIGURE_RATES}}),
    "Progress": obj({
        "campaign": obj({"id": ID, "title": {"type": "string"}, "deadline": TIME, "status": {"type": "string"}}),
        "scope": obj({"id": ID, "name": {"type": "string"}, "kind": {"type": "string"}}),
        "days_left": COUNT,
        "tasks": {"type": "array", "items": obj({
            "id": ID, "title": {"type": "string"}, "measure": {"type": "string"}, "target": COUNT,
            "measure_unit": TEXT, "totals": ref("Figures")})},
        "rows": {"type": "array", "items": obj({
            "unit": obj({"id": ID, "name": {"type": "string"}, "kind": {"type": "string"}, "code": TEXT}),
            "tasks": {"type": "object", "additionalProperties": ref("Figures")}})},
    }),
}

ERROR_TEXT = {
    400: "Refused: the body, a field or a parameter (`error.code` says which, `details.field` where).",
    401: "No valid bearer token (`unauthorized`, `invalid_token`).",
    403: "The user may see this but not do it (`forbidden`, `not_allowed`).",
    404: "No such thing, or not in the user's area (`not_found`).",
    409: "The report changed meanwhile or its status does not allow this (`conflict`, `not_editable` …).",
    413: "A file or the request is too large, or a photo has too many pixels (`too_large`, `image_too_large`).",
    415: "Not a photo (JPEG, PNG, WebP), PDF, DOCX or XLSX by its content (`bad_type`).",
    422: "The Idempotency-Key was used before on another operation (`idempotency_key_other_scope`).",
    423: "After the deadline without an exception, or the campaign closed (`locked`, `campaign_closed`).",
    503: "The database is briefly unreachable; nothing was saved; retry after `Retry-After` seconds.",
    507: "The server could not store the file (`storage_failed`).",
}


def json_content(schema) -> dict:
    return {"application/json": {"schema": schema}}


def answers(status: int, schema, *errors: int, description="OK") -> dict:
    result = {str(status): {"description": description, "content": json_content(schema)}}
    for code in sorted({*errors, 401, 503}):
        result[str(code)] = {"description": ERROR_TEXT[code], "content": json_content(ref("Error"))}
    return result


def id_parameter(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": ID,
            "example": 1}


def body(properties: dict, required=()) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(required),
              "description": f"A JSON object; nested at most {MAX_JSON_DEPTH} levels."}
    return {"required": True, "content": json_content(schema)}


ASSIGNMENT = id_parameter("assignment_id", "The assignment (a task for one unit).")
VERSION = {"type": "integer", "description": "The `version` last read; a stale one gives 409 `conflict`."}
VERSION_BODY = body({"expected_version": VERSION}, ["expected_version"])
FILE_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def operation(summary: str, responses: dict, *, parameters=(), request_body=None, public=False) -> dict:
    result = {"summary": summary, "responses": responses}
    if parameters:
        result["parameters"] = list(parameters)
    if request_body:
        result["requestBody"] = request_body
    if public:
        result["security"] = []
    return result


def file_answers() -> dict:
    result = answers(200, {}, 403, 404)
    result["200"] = {"description": "The file; images inline, documents as attachments; `Cache-Control: no-store`.",
                     "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in FILE_TYPES}}
    return result


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
    "description": "Chosen by the client; a retry with the same key gets the first answer and counts nothing twice "
                   "(`Idempotent-Replayed: true`). The same key on another operation is 422.",
}


def paths() -> dict:
    query_id = {"type": "integer", "minimum": 1, "maximum": 999_999_999}
    return {
        "/openapi.json": {"get": operation("This document.", {
            "200": {"description": "OpenAPI 3.1", "content": json_content({"type": "object"})}}, public=True)},
        "/me": {"get": operation("The token's user: role, unit, permissions.", answers(200, {
            "allOf": [ref("User"), obj({"token_id": ID})]}))},
        "/assignments": {"get": operation(
            "The user's own tasks in active campaigns, or with `status` a reviewer's queue.",
            answers(200, obj({"scope": {"type": "string", "enum": ["mine", "review"]}, "count": {"type": "integer"},
                              "page": {"type": "integer"}, "per_page": {"type": "integer"},
                              "items": {"type": "array", "items": ref("AssignmentSummary")}},
                             ["scope", "count", "items"]), 400, 403, 404),
            parameters=[
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": [
                    *(status.value for status in AssignmentStatus), "all"]}},
                {"name": "campaign", "in": "query", "schema": query_id},
                {"name": "task", "in": "query", "schema": query_id},
                {"name": "page", "in": "query", "schema": query_id},
                {"name": "per_page", "in": "query", "schema": {**query_id, "description": "At most 100."}},
            ])},
        "/assignments/{assignment_id}": {"get": operation(
            "A report as its page shows it.", answers(200, ref("AssignmentDetail"), 403, 404),
            parameters=[ASSIGNMENT])},
        "/assignments/{assignment_id}/instalments": {"post": operation(
            "Add a quantity (instalments need no version: two at once both count).",
            answers(201, obj({"instalment": ref("Instalment"), "assignment": ref("AssignmentDetail")}),
                    400, 403, 404, 409, 422, 423, description="Added"),
            parameters=[ASSIGNMENT, IDEMPOTENCY_KEY], request_body=body({
                "quantity": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                "reported_on": {"type": "string", "format": "date"}, "note": {"type": "string"}},
                ["quantity", "reported_on"]))},
        "/assignments/{assignment_id}/report": {
            method: operation("Save the note (and `done` for a yes/no task) as a draft.",
                              answers(200, ref("AssignmentEnvelope"), 400, 403, 404, 409, 422, 423),
                              parameters=[ASSIGNMENT, IDEMPOTENCY_KEY], request_body=body(
                                  {"expected_version": VERSION, "note": {"type": "string"},
                                   "done": {"type": "boolean"}}, ["expected_version"]))
            for method in ("put", "post")},
        "/assignments/{assignment_id}/submit": {"post": operation(
            "Submit the report for review.", answers(200, ref("AssignmentEnvelope"), 400, 403, 404, 409, 422, 423),
            parameters=[ASSIGNMENT, IDEMPOTENCY_KEY], request_body=VERSION_BODY)},
        "/assignments/{assignment_id}/evidence": {"post": operation(
            "Upload photos or documents (multipart, any field name; `files` in the docs).",
            answers(201, obj({"evidence": {"type": "array", "items": ref("Evidence")},
                              "assignment": ref("AssignmentDetail")}),
                    400, 403, 404, 409, 413, 415, 422, 423, 507, description="Stored"),
            parameters=[ASSIGNMENT, IDEMPOTENCY_KEY], request_body={"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "properties": {"files": {
                    "type": "array", "items": {"type": "string", "format": "binary"}}}}}}})},
        "/assignments/{assignment_id}/evidence/{evidence_id}": {"delete": operation(
            "Remove a file from the report.", answers(200, ref("AssignmentEnvelope"), 400, 403, 404, 409, 423),
            parameters=[ASSIGNMENT, id_parameter("evidence_id", "The evidence file.")])},
        "/assignments/{assignment_id}/approve": {"post": operation(
            "Approve a submitted report (reviewers above the unit).",
            answers(200, ref("AssignmentEnvelope"), 400, 403, 404, 409, 423),
            parameters=[ASSIGNMENT], request_body=VERSION_BODY)},
        "/assignments/{assignment_id}/return": {"post": operation(
            "Return a submitted report with a reason.",
            answers(200, ref("AssignmentEnvelope"), 400, 403, 404, 409, 423),
            parameters=[ASSIGNMENT], request_body=body({"expected_version": VERSION, "reason": {"type": "string"}},
                                                       ["expected_version"]))},
        "/evidence/{evidence_id}": {"get": operation(
            "The file as uploaded.", file_answers(), parameters=[id_parameter("evidence_id", "The evidence file.")])},
        "/evidence/{evidence_id}/thumbnail": {"get": operation(
            "A JPEG at most 320 px (images only; 404 for documents).", {
                **answers(200, {}, 403, 404),
                "200": {"description": "The thumbnail; `Cache-Control: private, no-cache` with an ETag.",
                        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}},
            parameters=[id_parameter("evidence_id", "The evidence file.")])},
        "/campaigns/{campaign_id}/progress": {"get": operation(
            "A campaign's progress by task and unit, from the dashboard's own computation.",
            answers(200, ref("Progress"), 403, 404), parameters=[id_parameter("campaign_id", "The campaign.")])},
        "/tokens": {
            "get": operation("The token owner's own tokens (any role).", answers(200, obj({"items": {
                "type": "array", "items": ref("Token")}}))),
            "post": operation("Refused to every caller (`token_cannot_create_tokens`): tokens are made on the "
                              "website only, so a stolen token cannot mint more.",
                              answers(403, ref("Error"), description=ERROR_TEXT[403]))},
        "/tokens/{token_id}": {"delete": operation(
            "Revoke one of the owner's own tokens.", answers(200, ref("Token"), 404),
            parameters=[id_parameter("token_id", "The token.")])},
        "/users/{user_id}/tokens": {"get": operation(
            "The office: the tokens of a user it manages.", answers(200, obj({"items": {
                "type": "array", "items": ref("Token")}}), 403, 404),
            parameters=[id_parameter("user_id", "The user.")])},
        "/users/{user_id}/tokens/{token_id}": {"delete": operation(
            "The office: revoke a token of a user it manages.", answers(200, ref("Token"), 403, 404),
            parameters=[id_parameter("user_id", "The user."), id_parameter("token_id", "The token.")])},
    }


def document(server_url: str = "") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Campaign Desk API (专项行动工作台)", "version": "1",
                 "description": "The reporting pages as JSON; see docs/api.md. Messages are Chinese by default, "
                                "English with `Accept-Language: en`. Times are UTC (`Z`), dates county dates."},
        "servers": [{"url": server_url + API_PREFIX}],
        "security": [{"bearer": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal token from /account/tokens/ (`cd_…`)."}},
            "schemas": SCHEMAS,
        },
    }
