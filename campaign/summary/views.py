"""The county workbook download and its print-friendly page, scoped like the dashboard."""
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user, login_required

from .. import permissions
from ..campaigns.services import visible_campaign
from ..progress.services import progress_scope
from ..printing import signature_lines
from .workbook import build_workbook
from .workbook_data import gather
from .workbook_sheet import signature_labels
from .workbook_tasks import task_heading

bp = Blueprint("summary", __name__, url_prefix="/summary")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def exported_campaign(campaign_id):
    campaign = visible_campaign(current_user, campaign_id)
    if campaign is None or campaign.is_draft:
        abort(404)
    return campaign, progress_scope(current_user, campaign)


def user_label(user) -> str:
    return user.display_name or user.username


def workbook_filename(campaign, scope) -> str:
    return f"{campaign.title}-{scope.name}-汇总表.xlsx"


@bp.get("/campaigns/<int:campaign_id>/workbook.xlsx")
@login_required
@permissions.require("summary.export")
def workbook(campaign_id):
    campaign, scope = exported_campaign(campaign_id)
    content = build_workbook(gather(campaign, scope, compiled_by=user_label(current_user)))
    filename = workbook_filename(campaign, scope)
    return Response(
        content,
        mimetype=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=\"summary-{campaign.id}.xlsx\"; "
            f"filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )


@bp.get("/campaigns/<int:campaign_id>/print")
@login_required
@permissions.require("summary.export")
def print_page(campaign_id):
    campaign, scope = exported_campaign(campaign_id)
    data = gather(campaign, scope, compiled_by=user_label(current_user), full=False)
    return render_template("summary/print.html", data=data, campaign=campaign, progress=data.progress,
                           heading=lambda task: task_heading(task, data),
                           signature=signature_lines(data.signature, signature_labels()))


from . import township_views  # noqa: E402,F401
