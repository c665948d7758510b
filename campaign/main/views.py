from flask import Blueprint, abort, current_app, redirect, render_template, request, session
from flask_login import current_user, login_required

from ..redirects import safe_next
from .health import readiness_problem
from .services import home_page_data

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("main/index.html", **home_page_data(current_user))


@bp.route("/language", methods=["POST"])
def set_language():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = locale
    return redirect(safe_next(request.form.get("next")))


@bp.route("/healthz")
def health():
    """Liveness: the process answers. It touches nothing else, so a slow database does not get
    healthy workers restarted."""
    return {"status": "ok"}


@bp.route("/readyz")
def ready():
    """Readiness: 200 when requests can be served, else 503 with the reason."""
    problem = readiness_problem()
    if problem:
        return {"status": "unavailable", "reason": problem}, 503, {"Cache-Control": "no-store"}
    return {"status": "ok"}, 200, {"Cache-Control": "no-store"}
