from flask import Blueprint

bp = Blueprint("summary", __name__, url_prefix="/summary")
