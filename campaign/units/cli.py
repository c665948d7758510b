import click
from flask.cli import AppGroup

units_cli = AppGroup("units", help="Manage the unit tree.")
