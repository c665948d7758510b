from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from .describe import describe
from .forms import AuditFilterForm
from .services import AuditFilters, browse, filter_choices

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@login_required
@permissions.require("audit.view")
def index():
    """Read-only: the audit trail has no route that edits or deletes."""
    form = AuditFilterForm(request.args)
    actions, kinds = filter_choices()
    form.action.choices = [("", _("All actions"))] + actions
    form.entity_type.choices = [("", _("All kinds of record"))] + kinds
    filters = AuditFilters()
    if form.validate():
        filters = AuditFilters(
            action=form.action.data or "",
            entity_type=form.entity_type.data or "",
            entity_id=(form.entity_id.data or "").strip(),
            username=(form.username.data or "").strip(),
            since=form.since.data,
            until=form.until.data,
        )
    result = browse(current_user, filters, before=request.args.get("before", type=int),
                    after=request.args.get("after", type=int))
    arguments = {key: value for key, value in request.args.items() if key not in ("before", "after")}
    return render_template("audit/index.html", form=form, result=result, rows=describe(result.records),
                           arguments=arguments)
