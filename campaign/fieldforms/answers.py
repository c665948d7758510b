"""How a form POST answers: a redirect and a flash for the browser, or JSON when the client asks
(``Accept: application/json``: field-form.js and the offline outbox). The JSON shapes are a contract:

- 200 ``{"ok": true, "redirect": url, "message": text}`` (a replayed idempotency key answers the same);
- 400 ``{"ok": false, "message": text, "errors": {field: [texts]}, "labels": {field: label}}``;
- 409 ``{"ok": false, "conflict": true, "message": text, "theirs": {...}}``;
- 403/404/413 ``{"ok": false, "message": text}``.
"""
from flask import flash, jsonify, redirect, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..api.serializers import json_safe
from ..extensions import db
from . import services

CHECK_FIELDS = _l("Nothing was saved: correct the fields marked in red and send again.")
KEY_REFUSED = _l("The form was sent with an invalid or reused key; reload the page and try again.")
STATUS_MESSAGES = {
    400: _l("The form had expired or was sent from another page. Please go back, reload the page and try again."),
    403: _l("You do not have permission to do this."),
    404: _l("The page or record was not found, or it is outside your area."),
    405: _l("This address cannot be opened directly. Please use the buttons on the page."),
    413: _l("The upload is too large: at most %(limit)s MB in one sending. Send fewer files at a time."),
    500: _l("Something went wrong on our side. Nothing was saved; please try again."),
}


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def status_message(status: int, limit_mb=None) -> str:
    message = STATUS_MESSAGES.get(status, STATUS_MESSAGES[500])
    return str(message) % {"limit": limit_mb} if status == 413 else str(message)


def refused_json(status: int, message: str):
    return jsonify({"ok": False, "message": message}), status


def claim(raw_key):
    """The form's key claimed for this user and URL: a Replay when it was used already, else the
    claimed row (or None without a key). Raises IdempotencyError for a malformed or reused key."""
    return services.claim(current_user, services.clean_key(raw_key), request.path)


def begin(form, page):
    """Claim the form's key: (claimed, None) to go on with the write, or (None, answer) to return at once:
    the first outcome for a replayed key, or a refusal for a malformed or reused one."""
    try:
        claimed = claim(form.idempotency_key.data)
    except services.IdempotencyError:
        return None, invalid(form, page, KEY_REFUSED)
    if isinstance(claimed, services.Replay):
        return None, replayed(claimed)
    return claimed, None


def done(claimed, url: str, notices: list[tuple[str, str]]):
    """The write succeeded: remember its outcome under the key, commit once, answer."""
    outcome = {"ok": True, "redirect": url, "message": " ".join(text for _, text in notices),
               "notices": [[category, text] for category, text in notices]}
    services.settle(claimed, 200, outcome)
    db.session.commit()
    return replayed(services.Replay(200, outcome))


def replayed(replay: "services.Replay"):
    """The first outcome again: the same flashes, and the redirect or the same JSON. JSON answers flash
    too: field-form.js goes to ``redirect`` next, where the page shows them."""
    outcome = replay.outcome
    for category, text in outcome.get("notices", []):
        flash(text, category)
    if wants_json():
        return jsonify({key: outcome[key] for key in ("ok", "redirect", "message") if key in outcome}), \
            replay.status_code
    return redirect(outcome.get("redirect") or request.path)


def invalid(form, page, message=None):
    """Nothing saved: the page with the errors beside the fields, or 400 JSON naming them."""
    db.session.rollback()
    if wants_json():
        wrong = [item for item in form if item.errors and isinstance(item.errors, (list, tuple))]
        errors = {item.name: [str(text) for text in item.errors] for item in wrong}
        labels = {item.name: str(item.label.text) for item in wrong}
        return jsonify({"ok": False, "message": str(message or CHECK_FIELDS), "errors": errors,
                        "labels": labels}), 400
    if message:
        flash(str(message), "error")
    return page()


def conflict(message: str, theirs: dict, page):
    """Someone else saved first: nothing of this user's was saved."""
    db.session.rollback()
    if wants_json():
        return jsonify({"ok": False, "conflict": True, "message": message, "theirs": json_safe(theirs)}), 409
    return page()
