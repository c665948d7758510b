"""User management pages: list, create, edit, reset a password, bulk import."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..extensions import db
from ..i18n import ROLE_LABELS, UNIT_KIND_LABELS
from .messages import account_error_message
from .models import Role
from .services import (
    USERS_PER_PAGE,
    AccountError,
    create_user,
    find_unit_by_code,
    find_unit_in_scope,
    find_user_in_scope,
    reset_password,
    unit_choices,
    update_user,
    users_visible_to,
)
from .user_forms import PASSWORD_HINT, ImportUsersForm, NewUserForm, ResetPasswordForm, UserForm
from .user_import import COLUMNS, import_users, template_csv
from .views import bp

# Which form field shows a refused operation's message.
ERROR_FIELDS = {
    "username_required": "username",
    "username_taken": "username",
    "unknown_role": "role",
    "role_not_grantable": "role",
    "role_does_not_fit_unit": "role",
    "cannot_demote_self": "active",
    "unit_required": "unit_id",
    "unknown_unit": "unit_code",
    "unknown_unit_code": "unit_code",
    "unit_out_of_scope": "unit_code",
    "too_short": "password",
    "needs_letters_and_digits": "password",
}


@bp.route("/users/")
@login_required
@permissions.require("users.view")
def users():
    search = request.args.get("q", "").strip()[:64]
    role = request.args.get("role", "")
    if role not in Role.values():
        role = ""
    pagination = db.paginate(
        users_visible_to(current_user, search, role or None),
        page=request.args.get("page", 1, type=int),
        per_page=USERS_PER_PAGE,
        error_out=False,
    )
    can_manage = permissions.has_permission(current_user, "users.manage")
    return render_template(
        "accounts/users/index.html",
        pagination=pagination,
        search=search,
        role=role,
        roles=Role.values(),
        can_manage=can_manage,
        can_manage_user=permissions.can_manage_user,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
@permissions.require("users.manage")
def user_new():
    form = NewUserForm()
    _fill_choices(form)
    if form.validate_on_submit():
        unit = _chosen_unit(form)
        if unit is not None:
            try:
                user = create_user(
                    username=form.username.data,
                    password=form.password.data,
                    role=form.role.data,
                    unit=unit,
                    display_name=form.display_name.data,
                    phone=form.phone.data,
                    actor=current_user,
                )
            except AccountError as error:
                _show_error(form, error)
            else:
                db.session.commit()
                flash(_("User %(username)s has been created.", username=user.username), "success")
                return redirect(url_for("accounts.users"))
    return render_template(
        "accounts/users/form.html", form=form, user=None, password_hint=PASSWORD_HINT
    )


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
@permissions.require("users.view")
def user_edit(user_id):
    user = manageable_user_or_abort(user_id)
    form = UserForm(obj=user)
    _fill_choices(form, current_unit=user.unit)
    if form.validate_on_submit():
        unit = _chosen_unit(form)
        if unit is not None:
            try:
                update_user(
                    user,
                    actor=current_user,
                    display_name=form.display_name.data,
                    phone=form.phone.data,
                    role=form.role.data,
                    unit=unit,
                    active=form.active.data,
                )
            except AccountError as error:
                _show_error(form, error)
            else:
                db.session.commit()
                flash(_("User %(username)s has been saved.", username=user.username), "success")
                return redirect(url_for("accounts.users"))
    return render_template("accounts/users/form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@login_required
@permissions.require("users.view")
def user_password(user_id):
    user = manageable_user_or_abort(user_id)
    if user.id == current_user.id:
        return redirect(url_for("accounts.change_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset_password(user, form.new_password.data, actor=current_user)
        except AccountError as error:
            form.new_password.errors.append(account_error_message(error))
        else:
            db.session.commit()
            flash(
                _("The password of %(username)s has been reset; they must log in again with it.",
                  username=user.username),
                "success",
            )
            return redirect(url_for("accounts.users"))
    return render_template(
        "accounts/users/password.html", form=form, user=user, password_hint=PASSWORD_HINT
    )


@bp.route("/users/import", methods=["GET", "POST"])
@login_required
@permissions.require("users.manage")
def users_import():
    form = ImportUsersForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        result = import_users(upload.read(), actor=current_user, source=upload.filename or "")
        if result.ok:
            db.session.commit()
            response = Response(render_template("accounts/users/import_result.html", result=result))
            response.headers["Cache-Control"] = "no-store"  # generated passwords are on it
            return response
        db.session.rollback()
        problems = result.problems
    return render_template("accounts/users/import.html", form=form, problems=problems, columns=COLUMNS)


@bp.route("/users/import/template.csv")
@login_required
@permissions.require("users.manage")
def users_import_template():
    return Response(
        template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=users.csv"},
    )


def manageable_user_or_abort(user_id):
    """404 for a user outside the actor's area, 403 for one they may see but not manage."""
    user = find_user_in_scope(current_user, user_id)
    if user is None:
        abort(404)
    if not permissions.can_manage_user(current_user, user):
        abort(403)
    return user


def _fill_choices(form, current_unit=None):
    units = unit_choices(current_user)
    if units is None:  # too many units for a select: the division code field remains
        units = [current_unit] if current_unit is not None else []
    base_depth = current_user.unit.depth
    labelled = [(unit, _unit_label(unit, base_depth)) for unit in units]
    form.fill_choices(permissions.grantable_roles(current_user), labelled, _("— choose a unit —"))


def _unit_label(unit, base_depth) -> str:
    indent = "\u3000" * max(unit.depth - base_depth, 0)
    parts = [unit.name, str(UNIT_KIND_LABELS.get(unit.kind, unit.kind))]
    if unit.code:
        parts.append(unit.code)
    return indent + " · ".join(parts)


def _chosen_unit(form):
    """The unit named by division code if one was typed, else the one selected; errors go on the form."""
    code = (form.unit_code.data or "").strip()
    if code:
        unit = find_unit_by_code(code)
        if unit is None:
            form.unit_code.errors.append(account_error_message(AccountError("unknown_unit_code", division_code=code)))
        elif not permissions.unit_is_within(current_user, unit):
            form.unit_code.errors.append(account_error_message(AccountError("unit_out_of_scope")))
        else:
            return unit
        return None
    if form.unit_id.data:
        unit = find_unit_in_scope(current_user, int(form.unit_id.data))
        if unit is not None:
            return unit
    form.unit_id.errors.append(account_error_message(AccountError("unit_required")))
    return None


def _show_error(form, error: AccountError):
    details = dict(error.details)
    if "role" in details:
        details["role"] = str(ROLE_LABELS.get(details["role"], details["role"]))
    message = account_error_message(AccountError(error.code, **details))
    field = getattr(form, ERROR_FIELDS.get(error.code, ""), None)
    if field is not None:
        field.errors.append(message)
    else:
        flash(message, "error")
