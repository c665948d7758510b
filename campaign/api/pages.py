"""The page where a logged-in user creates and revokes their own API tokens.

A blueprint of its own, registered with the API's: the API is exempt from CSRF, these forms
are not. A new token is rendered once in the response and kept nowhere (not in the session
cookie, which is signed but readable).
"""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..extensions import db
from . import services
from .errors import api_message
from .forms import ConfirmForm, TokenForm

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")


def _render(form, new_token=None, status=200):
    response = render_template("api/tokens.html", form=form, tokens=services.tokens_of(current_user),
                               new_token=new_token)
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/", methods=["GET", "POST"])
@login_required
@permissions.require("api.tokens")
def index():
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(form, status=400 if form.is_submitted() else 200)
    try:
        token, clear = services.create_token(current_user, form.name.data)
    except services.TokenError as error:
        db.session.rollback()
        form.name.errors = [*form.name.errors, api_message(error.code, error.details)]
        return _render(form, status=400)
    db.session.commit()
    return _render(TokenForm(formdata=None), new_token={"row": token, "value": clear})


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
@permissions.require("api.tokens")
def revoke(token_id):
    token = services.token_of(current_user, token_id)
    if token is None:
        abort(404)
    form = ConfirmForm()
    if token.revoked_at is None and form.validate_on_submit():
        services.revoke_token(token, current_user)
        db.session.commit()
        flash(_("The token “%(name)s” has been revoked: programs using it can no longer connect.",
                name=token.name), "success")
        return redirect(url_for("api_tokens.index"))
    if token.revoked_at is not None:
        flash(_("This token has already been revoked."), "info")
        return redirect(url_for("api_tokens.index"))
    return render_template("api/revoke.html", form=form, token=token)
