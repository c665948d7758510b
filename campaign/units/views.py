from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from .. import permissions
from ..extensions import db
from ..timeutil import local_today
from . import export, importing, services
from .forms import UnitForm, UnitImportForm
from .messages import import_error_message, unit_error_message

bp = Blueprint("units", __name__, url_prefix="/units")

# The kind a new unit most likely has under a parent of each kind.
CHILD_KINDS = {"province": "city", "city": "county", "county": "township", "township": "village"}


@bp.route("/")
@login_required
@permissions.require("units.view")
def index():
    text = request.args.get("q", "").strip()
    if text:
        page = services.search_units(
            current_user, text, request.args.get("page", 1, type=int), current_app.config["UNITS_PER_PAGE"]
        )
        return render_template("units/search.html", q=text, results=page)
    return _render_unit(current_user.unit)


@bp.route("/<int:unit_id>")
@login_required
@permissions.require("units.view")
def detail(unit_id):
    return _render_unit(permissions.get_unit_or_404(current_user, unit_id))


def _render_unit(unit):
    return render_template(
        "units/unit.html",
        page=services.unit_page(current_user, unit),
        head_count=services.household_or_students,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@permissions.require("units.manage")
def new():
    parent = permissions.get_unit_or_404(current_user, request.args.get("parent", current_user.unit.id, type=int))
    form = UnitForm()
    form.parent_id.choices = _choices(services.parent_choices(current_user, extra_parent=parent))
    if request.method == "GET":
        form.parent_id.data = parent.id
        form.kind.data = CHILD_KINDS.get(parent.kind, "village")
    if form.validate_on_submit():
        chosen = permissions.get_unit_or_404(current_user, form.parent_id.data)
        try:
            unit = services.create_unit(actor=current_user, parent=chosen, **form.unit_fields())
        except services.UnitError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Unit %(name)s added.", name=unit.name), "success")
            return redirect(url_for("units.detail", unit_id=unit.id))
    return render_template("units/form.html", form=form, unit=None, parent=parent)


@bp.route("/<int:unit_id>/edit", methods=["GET", "POST"])
@login_required
@permissions.require("units.manage")
def edit(unit_id):
    unit = permissions.get_unit_or_404(current_user, unit_id)
    form = UnitForm(obj=unit)
    form.keep_category(unit.category)
    top_of_area = unit.id == current_user.unit.id
    if top_of_area:
        # The top of the user's area stays where it is: its parent lies outside the area.
        form.parent_id.choices = [SelectChoice(unit.parent_id or 0, unit.parent.name if unit.parent else _("(top level)"))]
    else:
        form.parent_id.choices = _choices(services.parent_choices(current_user, unit, extra_parent=unit.parent))
    if request.method == "GET":
        form.parent_id.data = unit.parent_id or 0
    if form.validate_on_submit():
        if top_of_area:
            parent = unit.parent
        else:
            parent = permissions.get_unit_or_404(current_user, form.parent_id.data)
        try:
            services.update_unit(unit, actor=current_user, parent=parent, **form.unit_fields())
        except services.UnitError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Unit %(name)s saved.", name=unit.name), "success")
            return redirect(url_for("units.detail", unit_id=unit_id))
    return render_template("units/form.html", form=form, unit=unit, parent=unit.parent)


def _choices(pairs):
    return [SelectChoice(value, label) for value, label in pairs]


def _show_error(form, error):
    target = getattr(form, error.field, None) if error.field else None
    message = unit_error_message(error)
    if target is not None:
        target.errors = [*target.errors, message]
    else:
        flash(message, "error")


@bp.route("/import", methods=["GET", "POST"])
@login_required
@permissions.require("units.manage")
def import_units():
    form = UnitImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        result = importing.import_units(upload.read(), upload.filename or "", actor=current_user)
        if result.ok:
            db.session.commit()
        else:
            db.session.rollback()
        return render_template(
            "units/import_result.html",
            result=result,
            filename=upload.filename,
            errors=[(error, import_error_message(error)) for error in result.errors],
        )
    return render_template("units/import.html", form=form)


EXPORT_TYPES = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", export.units_xlsx),
    "csv": ("text/csv; charset=utf-8", export.units_csv),
}


@bp.route("/export.<fmt>")
@login_required
@permissions.require("units.export")
def export_units(fmt):
    if fmt not in EXPORT_TYPES:
        abort(404)
    mimetype, writer = EXPORT_TYPES[fmt]
    top = permissions.get_unit_or_404(current_user, request.args.get("unit", current_user.unit.id, type=int))
    response = Response(writer(export.unit_records(current_user, top)), mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=units-{local_today():%Y%m%d}.{fmt}"
    response.headers["Cache-Control"] = "private, no-store"
    return response
