"""``Idempotency-Key`` on the API's writes: a retried call is accepted once per user and answered with
the first call's status and body (see fieldforms.services)."""
from functools import wraps

from flask import g, request

from ..extensions import db
from ..fieldforms.services import IdempotencyError, Replay, claim, clean_key, settle
from .errors import ApiError
from .serializers import json_response, json_safe

HEADER = "Idempotency-Key"


def idempotent(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            claimed = claim(g.api_user, clean_key(request.headers.get(HEADER)), request.path)
        except IdempotencyError as error:
            raise ApiError(400 if error.code == "invalid" else 422, f"idempotency_key_{error.code}") from error
        if isinstance(claimed, Replay):
            response = json_response(claimed.outcome, claimed.status_code)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        g.idempotency_claim = claimed
        return view(*args, **kwargs)

    return wrapper


def committed(body: dict, status: int = 200):
    """Remember the answer under the call's key (if any), commit once, answer."""
    body = json_safe(body)
    settle(g.pop("idempotency_claim", None), status, body)
    db.session.commit()
    return json_response(body, status)
