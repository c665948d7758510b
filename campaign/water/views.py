from flask import Blueprint

bp = Blueprint("water", __name__, url_prefix="/water")
