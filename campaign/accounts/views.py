import math

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..redirects import safe_next
from . import devices
from .cookies import EXPIRES_KEY
from .forms import ChangePasswordForm, LoginForm
from .messages import account_error_message
from .services import AccountError, authenticate, change_own_password, end_session, start_session

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username = (form.username.data or "").strip()
        result = authenticate(username, form.password.data, request.remote_addr,
                              known_device=username.lower() in devices.trusted_usernames())
        db.session.commit()  # failed attempts are recorded too: they drive the throttle
        if result.user is not None:
            locale = session.get("locale")
            session.clear()  # no session fixation: nothing from before the login survives
            if locale:
                session["locale"] = locale
            login = start_session(result.user, request.remote_addr)
            db.session.commit()
            login_user(result.user)
            session.permanent = True  # the cookie outlives the browser, and expires with the login
            session[EXPIRES_KEY] = int(login.expires_at.timestamp())
            return devices.remember(redirect(safe_next(request.args.get("next"))), result.user.username.lower())
        flash(account_error_message(_login_error(result)), "error")
    return render_template("accounts/login.html", form=form)


def _login_error(result) -> AccountError:
    if result.wait:
        return AccountError(result.error, minutes=max(1, math.ceil(result.wait.total_seconds() / 60)))
    return AccountError(result.error)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session(current_user.login_token)
    db.session.commit()
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_own_password(current_user, form.current_password.data, form.new_password.data)
        except AccountError as error:
            flash(account_error_message(error), "error")
        else:
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.index"))
    return render_template("accounts/change_password.html", form=form)


from . import access_views, user_views  # noqa: E402,F401
