from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from .. import permissions
from ..evidence.services import UploadError, send_stored_file, store_upload, upload_error_message
from ..database import utcnow
from ..extensions import db
from ..fieldforms import answers
from ..timeutil import format_local, local_to_utc, local_today, to_local
from . import forms_data, forms_export, importing, io, services
from .forms import (
    ConfirmForm,
    HazardForm,
    HazardStatusForm,
    OfficialFormsForm,
    PatrolForm,
    WaterImportForm,
    WaterPointForm,
)
from .messages import (
    DANGER_LABELS,
    HAZARD_STATUS_LABELS,
    KIND_LABELS,
    POINT_STATUS_LABELS,
    SORT_LABELS,
    import_error_message,
    water_error_message,
)
from .models import HazardStatus, WaterPointStatus

bp = Blueprint("water", __name__, url_prefix="/water")

POINTS_PER_PAGE = 50
TOWNSHIPS_PER_PAGE = 10  # of the overdue counts by township and village
EXPORT_TYPES = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", io.points_xlsx),
    "csv": ("text/csv; charset=utf-8", io.points_csv),
    "geojson": ("application/geo+json", io.points_geojson),
    "kml": ("application/vnd.google-earth.kml+xml", None),
}


@bp.context_processor
def water_labels():
    return {
        "water_kind_labels": KIND_LABELS,
        "danger_labels": DANGER_LABELS,
        "point_status_labels": POINT_STATUS_LABELS,
        "hazard_status_labels": HAZARD_STATUS_LABELS,
        "can_edit_water": services.can_edit(current_user),
    }


def _point_or_404(point_id):
    point = services.point_for(current_user, point_id)
    if point is None:
        abort(404)
    return point


def _hazard_or_404(hazard_id):
    hazard = services.hazard_for(current_user, hazard_id)
    if hazard is None:
        abort(404)
    return hazard


def _refused(form, error, page):
    """Nothing saved: the message beside the field to correct, or at the top (page or JSON)."""
    target = getattr(form, error.field, None) if error.field else None
    message = water_error_message(error)
    if target is None:
        return answers.invalid(form, page, message)
    target.errors = [*target.errors, message]
    return answers.invalid(form, page)


def _chosen_files(form):
    return [item for item in (request.files.getlist(form.photos.name) or []) if item and item.filename]


def _taken_in(form, page, with_photos=True):
    """The way into every water field form: shown (GET) or checked, its idempotency key claimed (a resent
    form gets its first answer) and its photos stored. Returns ``(refused, claimed, uploads)``: an answer to
    give back as it is, or None with the claim and the stored photos to go on with."""
    if not form.validate_on_submit():
        return (answers.invalid(form, page) if request.method == "POST" else page()), None, None
    claimed, answer = answers.begin(form, page)
    if answer is not None:
        return answer, None, None
    uploads = _store_photos(form) if with_photos else []
    if uploads is None:
        return answers.invalid(form, page), None, None
    return None, claimed, uploads


def _store_photos(form) -> list | None:
    """The chosen photos stored (not yet attached); None, with the messages on the form, when any is refused."""
    uploads, messages = [], []
    for file_storage in _chosen_files(form):
        try:
            uploads.append(store_upload(file_storage, allowed_kinds=("image",)))
        except UploadError as error:
            messages.append(upload_error_message(error))
    if messages:
        form.photos.errors = [*form.photos.errors, *messages]
        return None
    return uploads


# --- Lists --------------------------------------------------------------------------------------------


def _filter_choices(filters):
    """Townships to filter by, and villages once the area is small enough to list them."""
    townships = services.township_choices(current_user)
    villages = []
    if current_user.unit.kind not in ("county", "city", "province") or filters.township_id:
        villages = services.village_choices(current_user, filters.township_id)
    return townships, villages


@bp.route("/")
@login_required
@permissions.require("water.view")
def index():
    filters = services.PointFilters.from_args(request.args)
    page = services.list_water_points(current_user, filters, request.args.get("page", 1, type=int),
                                      POINTS_PER_PAGE)
    townships, villages = _filter_choices(filters)
    return render_template("water/index.html", page=page, filters=filters, townships=townships,
                           villages=villages, sort_labels=SORT_LABELS, filter_args=filters.as_args())


@bp.route("/hazards")
@login_required
@permissions.require("water.view")
def hazards():
    status = request.args.get("status", "open")
    if status not in ("open", "", *(item.value for item in HazardStatus)):
        status = "open"
    township_id = request.args.get("township", type=int)
    overdue_only = request.args.get("overdue") == "1"
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = services.list_hazards(current_user, status=status, township_id=township_id,
                                        overdue_only=overdue_only, page=page, per_page=POINTS_PER_PAGE)
    counts = services.overdue_hazard_counts(current_user)
    count_pages = max(1, -(-len(counts.townships) // TOWNSHIPS_PER_PAGE))
    count_page = min(max(1, request.args.get("count_page", 1, type=int)), count_pages)
    shown = counts.townships[(count_page - 1) * TOWNSHIPS_PER_PAGE:count_page * TOWNSHIPS_PER_PAGE]
    return render_template("water/hazards.html", rows=rows, total=total, page=page, per_page=POINTS_PER_PAGE,
                           status=status, township_id=township_id, overdue_only=overdue_only, counts=counts,
                           shown_townships=[(entry, counts.villages_of(entry[0])) for entry in shown],
                           count_page=count_page, count_pages=count_pages,
                           townships=services.township_choices(current_user))


@bp.route("/patrols")
@login_required
@permissions.require("water.view")
def patrols():
    filters = services.PointFilters.from_args(request.args)
    dates = OfficialFormsForm(request.args)
    dates.validate()
    start = dates.start.data if not dates.start.errors else None
    end = dates.end.data if not dates.end.errors else None
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = services.list_patrols(current_user, filters, start, end, page, POINTS_PER_PAGE)
    args = {**filters.as_args(), **({"start": start.isoformat()} if start else {}),
            **({"end": end.isoformat()} if end else {})}
    return render_template("water/patrols.html", rows=rows, total=total, page=page, per_page=POINTS_PER_PAGE,
                           filters=filters, dates=dates, townships=services.township_choices(current_user),
                           list_args=args)


# --- Water points ---------------------------------------------------------------------------------------


def _point_form(point=None):
    form = WaterPointForm(obj=point) if point is not None else WaterPointForm()
    form.unit_id.choices = [SelectChoice(value, label) for value, label in services.village_choices(current_user)]
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
@permissions.require("water.edit")
def new():
    form = _point_form()
    if request.method == "GET":
        form.unit_id.data = request.args.get("village", current_user.unit.id, type=int)
        form.kind.data = "pond"
        form.danger_level.data = "medium"

    def page():
        return render_template("water/form.html", form=form, point=None)

    refused, claimed, uploads = _taken_in(form, page)
    if refused is not None:
        return refused
    unit = permissions.get_unit_or_404(current_user, form.unit_id.data)
    try:
        point = services.create_water_point(actor=current_user, unit=unit, **form.point_fields())
        for upload in uploads:
            services.attach_photo(point, actor=current_user, upload=upload, purpose="point")
    except services.WaterError as error:
        return _refused(form, error, page)
    return answers.done(claimed, url_for("water.detail", point_id=point.id), _saved_notices(point))


def _saved_notices(point):
    notices = [("success", _("Water point %(name)s saved.", name=point.name))]
    if point.needs_position_check:
        notices.append(("error", _("The position lies far outside the county: the point was saved and marked for "
                                   "a second look. Check the latitude and longitude.")))
    return notices


@bp.route("/<int:point_id>")
@login_required
@permissions.require("water.view")
def detail(point_id):
    point = _point_or_404(point_id)
    return render_template("water/detail.html", detail=services.point_detail(point), today=local_today(),
                           hazard_overdue=services.hazard_overdue, confirm_form=ConfirmForm())


@bp.route("/<int:point_id>/edit", methods=["GET", "POST"])
@login_required
@permissions.require("water.edit")
def edit(point_id):
    point = _point_or_404(point_id)
    form = _point_form(point)
    if request.method == "GET":
        form.version.data = point.version
        form.latitude.data = f"{point.latitude:.6f}".rstrip("0").rstrip(".")
        form.longitude.data = f"{point.longitude:.6f}".rstrip("0").rstrip(".")

    def page():
        return render_template("water/form.html", form=form, point=point)

    refused, claimed, uploads = _taken_in(form, page)
    if refused is not None:
        return refused
    unit = permissions.get_unit_or_404(current_user, form.unit_id.data)
    expected = int(form.version.data) if (form.version.data or "").isdigit() else None
    try:
        services.update_water_point(point, actor=current_user, unit=unit, expected_version=expected,
                                    **form.point_fields())
        for upload in uploads:
            services.attach_photo(point, actor=current_user, upload=upload, purpose="point")
    except services.WaterError as error:
        if error.code == "changed_meanwhile":
            db.session.rollback()
            theirs = {name: getattr(point, name) for name in (*WaterPointForm.FIELDS, "version")}
            if answers.wants_json():
                return answers.conflict(water_error_message(error), theirs, page)
            flash(water_error_message(error), "error")
            return page(), 409
        return _refused(form, error, page)
    return answers.done(claimed, url_for("water.detail", point_id=point.id), _saved_notices(point))


@bp.route("/<int:point_id>/archive", methods=["GET", "POST"])
@login_required
@permissions.require("water.edit")
def archive(point_id):
    return _change_status(point_id, WaterPointStatus.ARCHIVED.value)


@bp.route("/<int:point_id>/restore", methods=["GET", "POST"])
@login_required
@permissions.require("water.edit")
def restore(point_id):
    return _change_status(point_id, WaterPointStatus.ACTIVE.value)


def _change_status(point_id, status):
    point = _point_or_404(point_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.set_point_status(point, actor=current_user, status=status)
        db.session.commit()
        flash(_("Water point %(name)s archived.", name=point.name) if status == "archived"
              else _("Water point %(name)s is in use again.", name=point.name), "success")
        return redirect(url_for("water.detail", point_id=point.id))
    return render_template("water/confirm_status.html", form=form, point=point, status=status)


@bp.route("/<int:point_id>/confirm-position", methods=["POST"])
@login_required
@permissions.require("water.edit")
def confirm_position(point_id):
    point = _point_or_404(point_id)
    if ConfirmForm().validate_on_submit():
        services.confirm_position(point, actor=current_user)
        db.session.commit()
        flash(_("Position confirmed."), "success")
    return redirect(url_for("water.detail", point_id=point.id))


# --- Patrols and hazards ---------------------------------------------------------------------------------


@bp.route("/<int:point_id>/patrols/new", methods=["GET", "POST"])
@login_required
@permissions.require("water.edit")
def new_patrol(point_id):
    point = _point_or_404(point_id)
    form = PatrolForm()
    if request.method == "GET":
        now = to_local(utcnow())
        form.patrol_date.data = now.date()
        form.patrol_time.data = now.time().replace(second=0, microsecond=0)
        form.patroller_name.data = current_user.display_name or ""

    def page():
        return render_template("water/patrol_form.html", form=form, point=point)

    refused, claimed, uploads = _taken_in(form, page)
    if refused is not None:
        return refused
    try:
        patrol = services.record_patrol(
            point, actor=current_user,
            patrolled_at=local_to_utc(form.patrol_date.data, form.patrol_time.data),
            patroller_name=form.patroller_name.data, sign_intact=form.sign_intact.data,
            rescue_equipment_present=form.rescue_equipment_present.data,
            people_swimming=form.people_swimming.data or 0, findings=form.findings.data,
        )
        for upload in uploads:
            services.attach_photo(point, actor=current_user, upload=upload, purpose="patrol", patrol=patrol)
    except services.WaterError as error:
        return _refused(form, error, page)
    return answers.done(claimed, url_for("water.detail", point_id=point.id), [("success", _("Patrol recorded."))])


@bp.route("/<int:point_id>/hazards/new", methods=["GET", "POST"])
@login_required
@permissions.require("water.edit")
def new_hazard(point_id):
    point = _point_or_404(point_id)
    form = HazardForm()
    if request.method == "GET":
        form.found_on.data = local_today()

    def page():
        return render_template("water/hazard_form.html", form=form, point=point)

    refused, claimed, uploads = _taken_in(form, page)
    if refused is not None:
        return refused
    try:
        hazard = services.record_hazard(
            point, actor=current_user, found_on=form.found_on.data, description=form.description.data,
            rectify_by=form.rectify_by.data, owner_name=form.owner_name.data,
        )
        for upload in uploads:
            services.attach_photo(point, actor=current_user, upload=upload, purpose="hazard", hazard=hazard)
    except services.WaterError as error:
        return _refused(form, error, page)
    return answers.done(claimed, url_for("water.detail", point_id=point.id), [("success", _("Hazard recorded."))])


@bp.route("/hazards/<int:hazard_id>/status", methods=["GET", "POST"])
@login_required
@permissions.require("water.edit")
def hazard_status(hazard_id):
    hazard = _hazard_or_404(hazard_id)
    point = hazard.water_point
    form = HazardStatusForm()
    if hazard.status == HazardStatus.CLOSED.value:
        flash(water_error_message(services.WaterError("bad_transition")), "error")
        return redirect(url_for("water.detail", point_id=point.id))

    def page():
        return render_template("water/hazard_status.html", form=form, hazard=hazard, point=point,
                               overdue=services.hazard_overdue(hazard))

    wanted = form.status.data
    refused, claimed, uploads = _taken_in(form, page, with_photos=wanted == HazardStatus.CLOSED.value)
    if refused is not None:
        return refused
    try:
        for upload in uploads:
            services.attach_photo(point, actor=current_user, upload=upload, purpose="closing", hazard=hazard)
        services.move_hazard(hazard, actor=current_user, status=wanted, closing_note=form.closing_note.data or "")
    except services.WaterError as error:
        return _refused(form, error, page)
    message = _("Hazard closed.") if wanted == HazardStatus.CLOSED.value else _("Hazard marked as being rectified.")
    return answers.done(claimed, url_for("water.detail", point_id=point.id), [("success", message)])


# --- Photos --------------------------------------------------------------------------------------------


@bp.route("/photos/<int:photo_id>")
@login_required
@permissions.require("water.view")
def photo(photo_id):
    found = services.photo_for(current_user, photo_id)
    if found is None:
        abort(404)
    return send_stored_file(found.stored_file, download_name=found.original_name or None)


@bp.route("/photos/<int:photo_id>/thumb")
@login_required
@permissions.require("water.view")
def photo_thumb(photo_id):
    found = services.photo_for(current_user, photo_id)
    if found is None:
        abort(404)
    return send_stored_file(found.stored_file, thumbnail=True)


# --- Import and export -----------------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@login_required
@permissions.require("water.import")
def import_points():
    form = WaterImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        result = importing.import_water_points(upload.read(), upload.filename or "", actor=current_user)
        if result.ok:
            db.session.commit()
        else:
            db.session.rollback()
        return render_template("water/import_result.html", result=result, filename=upload.filename,
                               errors=[(error, import_error_message(error)) for error in result.errors])
    return render_template("water/import.html", form=form)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename={filename.encode('ascii', 'ignore').decode() or 'export'}; "
        f"filename*=UTF-8''{_quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@bp.route("/export.<fmt>")
@login_required
@permissions.require("water.view")
def export(fmt):
    if fmt not in EXPORT_TYPES:
        abort(404)
    filters = services.PointFilters.from_args(request.args)
    records = io.export_records(services.all_water_points(current_user, filters))
    mimetype, writer = EXPORT_TYPES[fmt]
    stamp = local_today().strftime("%Y%m%d")
    if fmt == "kml":
        data = io.points_kml(records, document_name=_("Water points of %(unit)s", unit=current_user.unit.name))
    else:
        data = writer(records)
    return _download(data, mimetype, f"water-points-{stamp}.{fmt}")


@bp.route("/forms")
@login_required
@permissions.require("water.view")
def official_forms():
    form = OfficialFormsForm(request.args)
    filters = services.PointFilters.from_args(request.args)
    if "form" in request.args and form.validate():
        return _official_form_download(form, filters)
    if "form" not in request.args:
        filters.key_only = True
    townships = services.township_choices(current_user)
    return render_template("water/forms.html", form=form, filters=filters, townships=townships)


def _official_form_download(form, filters):
    group = form.group.data
    stamp = local_today()
    signing = {"area": forms_data.form_area(current_user, filters),
               "contacts": forms_data.form_contacts(current_user, group)}
    if form.form.data == "register":
        rows = io.export_records(services.all_water_points(current_user, filters))
        data = forms_export.register_workbook(rows, group, filled_on=stamp, **signing)
        name = f"{forms_export.REGISTER_TITLE}-{stamp:%Y%m%d}.xlsx"
    else:
        patrols = services.patrols_for_export(current_user, filters, form.start.data, form.end.data)
        rows = [{
            "township": township or "", "village": village or "", "point_name": point_name,
            "patrolled_at": format_local(patrol.patrolled_at), "patroller_name": patrol.patroller_name,
            "sign_intact": patrol.sign_intact, "rescue_equipment_present": patrol.rescue_equipment_present,
            "people_swimming": patrol.people_swimming, "findings": patrol.findings,
        } for patrol, point_name, village, township in patrols]
        data = forms_export.patrol_workbook(rows, group, filled_on=stamp, **signing)
        name = f"{forms_export.PATROL_TITLE}-{stamp:%Y%m%d}.xlsx"
    return _download(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name)


from . import map_views  # noqa: E402,F401
