import click
from flask.cli import AppGroup

campaigns_cli = AppGroup("campaigns", help="Create and launch campaigns.")
