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


def register_commands(app):
    from .accounts.cli import users_cli
    from .backup.cli import backup_command, restore_command
    from .campaigns.cli import campaigns_cli
    from .demo.cli import demo_command
    from .progress.cli import reminders_cli
    from .summary.cli import report_cli
    from .units.cli import units_cli
    from .water.cli import water_cli

    for command in (units_cli, users_cli, campaigns_cli, demo_command, water_cli, reminders_cli, report_cli,
                    backup_command, restore_command):
        app.cli.add_command(command)
