"""The office's view of a user's credentials: login failures with an unlock, and API tokens to revoke."""
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..api import services as tokens
from ..api.forms import ConfirmForm
from ..extensions import db
from .services import recent_login_failures, unlock_login
from .user_views import manageable_user_or_abort
from .views import bp


@bp.route("/users/<int:user_id>/access")
@login_required
@permissions.require("users.manage")
def user_access(user_id):
    user = manageable_user_or_abort(user_id)
    return render_template(
        "accounts/users/access.html",
        user=user,
        form=ConfirmForm(),
        failures=recent_login_failures(user),
        window_minutes=int(current_app.config["LOGIN_THROTTLE_WINDOW"].total_seconds() // 60),
        tokens=tokens.tokens_of(user),
    ), 200, {"Cache-Control": "no-store"}


@bp.route("/users/<int:user_id>/unlock-login", methods=["POST"])
@login_required
@permissions.require("users.manage")
def user_unlock_login(user_id):
    user = manageable_user_or_abort(user_id)
    if ConfirmForm().validate_on_submit():
        unlock_login(user, actor=current_user)
        db.session.commit()
        flash(_("%(username)s can log in again at once from any address.", username=user.username), "success")
    return redirect(url_for("accounts.user_access", user_id=user.id))


@bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
@permissions.require("users.manage")
def user_revoke_token(user_id, token_id):
    user = manageable_user_or_abort(user_id)
    token = tokens.token_of(user, token_id)
    if token is None:
        abort(404)
    if ConfirmForm().validate_on_submit() and token.revoked_at is None:
        tokens.revoke_token(token, current_user)
        db.session.commit()
        flash(_("The token “%(name)s” has been revoked: programs using it can no longer connect.",
                name=token.name), "success")
    return redirect(url_for("accounts.user_access", user_id=user.id))


@bp.route("/users/<int:user_id>/tokens/revoke-all", methods=["POST"])
@login_required
@permissions.require("users.manage")
def user_revoke_all_tokens(user_id):
    user = manageable_user_or_abort(user_id)
    if ConfirmForm().validate_on_submit():
        count = tokens.revoke_all_tokens(user, current_user, reason="revoked_by_office")
        db.session.commit()
        flash(_("%(count)s tokens of %(username)s have been revoked.", count=count, username=user.username),
              "success")
    return redirect(url_for("accounts.user_access", user_id=user.id))
