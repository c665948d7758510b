from flask import Blueprint, render_template
from flask_login import login_required

from .. import permissions

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


@bp.route("/")
@login_required
@permissions.require("campaigns.view")
def index():
    return render_template("campaigns/index.html")


@bp.route("/<int:campaign_id>")
@login_required
@permissions.require("campaigns.view")
def detail(campaign_id):
    return render_template("campaigns/index.html")
