from flask import Blueprint, render_template
from flask_login import login_required

from .. import permissions

bp = Blueprint("units", __name__, url_prefix="/units")


@bp.route("/")
@login_required
@permissions.require("units.view")
def index():
    return render_template("units/index.html")
