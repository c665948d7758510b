"""API token endpoints: the owner lists and revokes their tokens (creating one needs the website:
a token cannot mint tokens); the office lists and revokes the tokens of the users it manages."""
from .. import permissions
from ..accounts.services import find_user_in_scope
from ..extensions import db
from . import services
from .errors import ApiError
from .serializers import json_response, token_data
from .views import api_user, bp, require


@bp.get("/tokens")
def list_tokens():
    """Every token owner, whatever the role: seeing and revoking one's own tokens is always allowed."""
    return json_response({"items": [token_data(token) for token in services.tokens_of(api_user())]})


@bp.post("/tokens")
def create_token():
    """Refused to every caller: a token may not mint tokens, or a stolen one would outlive its
    revocation. Tokens are created on the website, after a login with the password."""
    raise services.TokenError("token_cannot_create_tokens")


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id):
    token = services.token_of(api_user(), token_id)
    if token is None:
        raise ApiError(404, "not_found")
    services.revoke_token(token, api_user())
    db.session.commit()
    return json_response(token_data(token))


@bp.get("/users/<int:user_id>/tokens")
def list_user_tokens(user_id):
    """The office: the tokens of a user it manages."""
    owner = _managed_user(user_id)
    return json_response({"items": [token_data(token) for token in services.tokens_of(owner)]})


@bp.delete("/users/<int:user_id>/tokens/<int:token_id>")
def revoke_user_token(user_id, token_id):
    owner = _managed_user(user_id)
    token = services.token_of(owner, token_id)
    if token is None:
        raise ApiError(404, "not_found")
    services.revoke_token(token, api_user())
    db.session.commit()
    return json_response(token_data(token))


def _managed_user(user_id):
    """404 outside the caller's area, 403 for a user the caller may see but not manage."""
    require("users.manage")
    owner = find_user_in_scope(api_user(), user_id)
    if owner is None:
        raise ApiError(404, "not_found")
    if not permissions.can_manage_user(api_user(), owner):
        raise ApiError(403, "forbidden")
    return owner
