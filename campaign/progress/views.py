"""The progress dashboard: county → township → village → the report, scoped to the user's unit."""
import hashlib
import threading
from collections import OrderedDict
from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import permissions
from ..campaigns.models import Task
from ..campaigns.services import visible_campaign
from ..extensions import db
from ..units.models import Unit
from .counters import counted_progress
from .services import progress_scope, unit_reports

bp = Blueprint("progress", __name__, url_prefix="/progress")

LEAF_KINDS = frozenset({"village", "community", "school", "kindergarten", "agency"})
SORT_KEYS = {
    "name": lambda row, figures: row.name,
    "expected": lambda row, figures: figures.expected,
    "submitted": lambda row, figures: figures.submitted,
    "approved": lambda row, figures: figures.approved,
    "returned": lambda row, figures: figures.returned,
    "on_time": lambda row, figures: figures.on_time,
    "late": lambda row, figures: figures.late,
    "missing": lambda row, figures: figures.missing,
    "reported": lambda row, figures: figures.reported,
    "pct_reached": lambda row, figures: figures.pct_reached,
    "reached_share": lambda row, figures: figures.reached_share,
}


def report_url(assignment_id) -> str:
    if "reporting.report" in current_app.view_functions:
        return url_for("reporting.report", assignment_id=assignment_id)
    return f"{request.script_root}/reports/{assignment_id}"


@bp.app_template_global()
def progress_report_url(assignment_id) -> str:
    return report_url(assignment_id)


@bp.app_template_filter("percent")
def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@bp.app_template_filter("percent_bar")
def percent_bar(value) -> Markup:
    """A <meter> bar (capped at 100 %) and the figure; only numbers go into the markup."""
    if value is None:
        return Markup("—")
    text = percent(value)
    return Markup(
        f'<meter min="0" max="1" low="0.6" high="0.99" optimum="1" value="{min(value, 1):.4f}">{text}</meter> {text}'
    )


def campaign_in_sight(campaign_id):
    """The campaign and the user's starting unit in it, or 404."""
    campaign = visible_campaign(current_user, campaign_id)
    if campaign is None or campaign.is_draft:
        abort(404)
    return campaign, progress_scope(current_user, campaign)


def unit_in_sight(scope, unit_id) -> Unit:
    """A unit inside the user's view of the campaign, or 404 (another township's id included)."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or not unit.is_within(scope):
        abort(404)
    return unit


def sorted_rows(rows, task_id, sort):
    """Rows of a task table in the order asked by ?sort=key (or -key for descending); no figure sorts last."""
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        return rows
    measure = SORT_KEYS[key]
    present = [row for row in rows if measure(row, row.cell(task_id)) is not None]
    absent = [row for row in rows if measure(row, row.cell(task_id)) is None]
    return sorted(present, key=lambda row: measure(row, row.cell(task_id)), reverse=sort.startswith("-")) + absent


def trail(scope, unit):
    """The units from the user's starting unit down to ``unit`` (one query), for the breadcrumbs."""
    ids = [int(part) for part in unit.path.strip("/").split("/")]
    ids = ids[ids.index(scope.id):] if scope.id in ids else [unit.id]
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [units[i] for i in ids if i in units]


@bp.get("/campaigns/<int:campaign_id>")
@login_required
@permissions.require("progress.view")
def dashboard(campaign_id):
    campaign, scope = campaign_in_sight(campaign_id)
    return render_scope(campaign, scope, scope)


@bp.get("/campaigns/<int:campaign_id>/units/<int:unit_id>")
@login_required
@permissions.require("progress.view")
def unit(campaign_id, unit_id):
    campaign, scope = campaign_in_sight(campaign_id)
    shown = unit_in_sight(scope, unit_id)
    return render_scope(campaign, scope, shown)


def render_scope(campaign, scope, shown):
    breadcrumbs = trail(scope, shown)
    own_reports = unit_reports(campaign, shown)
    if shown.kind in LEAF_KINDS:
        return render_template(
            "progress/unit.html", campaign=campaign, unit=shown, breadcrumbs=breadcrumbs,
            reports=own_reports, progress=None,
        )
    progress = counted_progress(campaign, shown)
    sort = request.args.get("sort", "")
    tables = [(task, sorted_rows(progress.task_rows(task.id), task.id, sort)) for task in progress.tasks]
    return render_template(
        "progress/dashboard.html",
        campaign=campaign,
        unit=shown,
        breadcrumbs=breadcrumbs,
        progress=progress,
        own_reports=own_reports,
        sort=sort,
        task_tables=task_tables(campaign, shown, progress, tables, sort),
        may_export=permissions.has_permission(current_user, "summary.export"),
        chasing_url=url_for("progress.chasing", campaign_id=campaign.id)
        if "progress.chasing" in current_app.view_functions else None,
    )


TABLES_KEPT = 64  # a township of 30 villages renders ~200 KiB: at most ~15 MiB per worker
_rendered_tables: OrderedDict = OrderedDict()
_tables_lock = threading.Lock()  # for threaded workers


def task_tables(campaign, shown, progress, tables, sort) -> Markup:
    """The per-task tables, rendered once per distinct content: the key holds everything the fragment
    shows (locale, tasks, rows and their figures), so a report change makes a new key, never a stale page.
    Rendering the 12 tables of a city is ~10× the cost of reading the counters."""
    key = repr((
        str(get_locale()), request.script_root, campaign.id, shown.id, sort,
        tuple(
            (tuple(getattr(task, column.key) for column in Task.__table__.columns),
             tuple((row.unit_id, row.name, row.cell(task.id).counts()) for row in rows))
            for task, rows in tables
        ),
    ))
    key = hashlib.sha256(key.encode()).digest()
    with _tables_lock:
        html = _rendered_tables.get(key)
        if html is not None:
            _rendered_tables.move_to_end(key)
    if html is None:
        html = Markup(render_template("progress/_task_tables.html", campaign=campaign, unit=shown,
                                      progress=progress, tables=tables, sort=sort))
        with _tables_lock:
            _rendered_tables[key] = html
            while len(_rendered_tables) > TABLES_KEPT:
                _rendered_tables.popitem(last=False)
    return html


from . import chasing_views  # noqa: E402,F401
