"""Serving evidence files to users who may see the assignment's unit."""
from flask import Blueprint
from flask_login import current_user, login_required

from ..permissions import require
from .services import send_stored_file, visible_evidence_or_404

bp = Blueprint("evidence", __name__, url_prefix="/files")


@bp.get("/evidence/<int:evidence_id>")
@login_required
@require("evidence.view")
def evidence_file(evidence_id):
    evidence = visible_evidence_or_404(current_user, evidence_id)
    return send_stored_file(evidence.stored_file, download_name=evidence.original_name or None)


@bp.get("/evidence/<int:evidence_id>/thumb")
@login_required
@require("evidence.view")
def evidence_thumbnail(evidence_id):
    evidence = visible_evidence_or_404(current_user, evidence_id)
    return send_stored_file(evidence.stored_file, thumbnail=True, download_name=evidence.original_name or None)
