"""Command-line groups: ``flask --app wsgi units|users|campaigns|demo …``."""
from functools import wraps

from flask import current_app
from flask_babel import force_locale


def in_default_locale(command):
    """Messages in the office's language: a terminal has no browser to ask."""

    @wraps(command)
    def wrapped(*args, **kwargs):
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            return command(*args, **kwargs)

    return wrapped


def run_import(import_from_path, path, lang, error_message, summary):
    """The shape every file import shares on the command line: all rows or none, every bad row
    printed with its line, exit status 1 on any; ``summary(result)`` says what was done."""
    import sys

    import click
    from flask_babel import gettext as _

    from .extensions import db

    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        result = import_from_path(path)
        if not result.ok:
            db.session.rollback()
            for error in result.errors:
                column = result.headers.get(error.column, error.column) if error.column else None
                if column:
                    click.echo(_("Line %(line)s, column %(column)s: %(message)s", line=error.line, column=column,
                                 message=error_message(error)), err=True)
                else:
                    click.echo(_("Line %(line)s: %(message)s", line=error.line, message=error_message(error)),
                               err=True)
            click.echo(_("Nothing was imported: %(count)s problem(s) found.", count=len(result.errors)), err=True)
            sys.exit(1)
        db.session.commit()
        click.echo(summary(result))


def register_commands(app):
    from .accounts.cli import users_cli
    from .backup.cli import backup_command, restore_command
    from .campaigns.cli import campaigns_cli
    from .demo.cli import demo_command
    from .evidence.cli import files_cli
    from .progress.cli import progress_cli, reminders_cli
    from .summary.cli import report_cli
    from .units.cli import units_cli
    from .water.cli import water_cli

    for command in (units_cli, users_cli, campaigns_cli, demo_command, water_cli, reminders_cli, progress_cli,
                    report_cli, backup_command, restore_command, files_cli):
        app.cli.add_command(command)
