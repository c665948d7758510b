import sys

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

from ..extensions import db
from .io import import_water_points_from_path
from .messages import import_error_message

water_cli = AppGroup("water", help="Import and export water points.")


@water_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--lang", default=None, help="Language of the messages: zh_Hans_CN (default) or en.")
def import_command(path, lang):
    """Import water points from a CSV or XLSX file: every row, or none when any row is wrong."""
    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        result = import_water_points_from_path(path)
        if not result.ok:
            db.session.rollback()
            for error in result.errors:
                click.echo(_("Line %(line)s: %(message)s", line=error.line, message=import_error_message(error)),
                           err=True)
            click.echo(_("Nothing was imported: %(count)s problem(s) found.", count=len(result.errors)), err=True)
            sys.exit(1)
        db.session.commit()
        click.echo(_("Water points created %(created)s, updated %(updated)s, positions to check %(flagged)s.",
                     created=result.created, updated=result.updated, flagged=result.flagged))
