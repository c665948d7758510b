import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from ..cli import run_import
from .messages import import_error_message
from .importing import import_units_from_path

units_cli = AppGroup("units", help="Manage the unit tree.")


@units_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--lang", default=None, help="Language of the messages: zh_Hans_CN (default) or en.")
def import_command(path, lang):
    """Import the unit tree from a CSV or XLSX file: every row, or none when any row is wrong."""
    run_import(import_units_from_path, path, lang, import_error_message, lambda result: _(
        "Created %(created)s, updated %(updated)s, unchanged %(unchanged)s.",
        created=result.created, updated=result.updated, unchanged=result.unchanged))
