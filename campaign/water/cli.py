import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from ..cli import run_import
from .importing import import_water_points_from_path
from .messages import import_error_message

water_cli = AppGroup("water", help="Import and export water points.")


@water_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--lang", default=None, help="Language of the messages: zh_Hans_CN (default) or en.")
def import_command(path, lang):
    """Import water points from a CSV or XLSX file: every row, or none when any row is wrong."""
    run_import(import_water_points_from_path, path, lang, import_error_message, lambda result: _(
        "Water points created %(created)s, updated %(updated)s, positions to check %(flagged)s.",
        created=result.created, updated=result.updated, flagged=result.flagged))
