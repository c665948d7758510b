"""``flask --app wsgi users create|list|import|unlock``: run with no actor, so no area limit applies."""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from ..cli import in_default_locale
from ..extensions import db
from ..i18n import ROLE_LABELS
from ..timeutil import format_local
from ..units.models import Unit
from .messages import account_error_message
from .models import Role, User
from .services import AccountError, create_user, find_unit_by_code, unlock_login
from .user_import import import_users

users_cli = AppGroup("users", help="Manage user accounts.")


def fail(message):
    click.echo(message, err=True)
    sys.exit(1)


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, help=f"One of: {', '.join(Role.values())}.")
@click.option("--unit", "unit_code", required=True, help="The unit's 12-digit division code.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="")
@click.option("--phone", default="")
@in_default_locale
def create_command(username, role, unit_code, password, display_name, phone):
    """Create a user (no area limit: for setting up the first administrator)."""
    unit = find_unit_by_code(unit_code)
    if unit is None:
        fail(account_error_message(AccountError("unknown_unit_code", division_code=unit_code)))
    try:
        user = create_user(
            username=username,
            password=password,
            role=role,
            unit=unit,
            display_name=display_name,
            phone=phone,
        )
    except AccountError as error:
        db.session.rollback()
        fail(account_error_message(error))
    db.session.commit()
    click.echo(
        _(
            "Created user %(username)s (%(role)s) at %(unit)s.",
            username=user.username,
            role=ROLE_LABELS[user.role],
            unit=unit.name,
        )
    )


@users_cli.command("list")
@click.option("--unit", "unit_code", default=None, help="Only users in this unit and below it (division code).")
@in_default_locale
def list_command(unit_code):
    """List users: username, role, unit, enabled, last login."""
    statement = select(User).join(User.unit).order_by(User.username)
    if unit_code:
        unit = find_unit_by_code(unit_code)
        if unit is None:
            fail(account_error_message(AccountError("unknown_unit_code", division_code=unit_code)))
        statement = statement.where(Unit.path.like(f"{unit.path}%"))
    for user in db.session.scalars(statement):
        click.echo(
            "\t".join(
                [
                    user.username,
                    user.display_name or "-",
                    str(ROLE_LABELS[user.role]),
                    user.unit.name,
                    _("Enabled") if user.active else _("Deactivated"),
                    format_local(user.last_login_at) or "-",
                ]
            )
        )


@users_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@in_default_locale
def import_command(path):
    """Create the users of a CSV file (all or none); print the generated passwords once."""
    result = import_users(path.read_bytes(), actor=None, source=path.name)
    if not result.ok:
        db.session.rollback()
        click.echo(_("Nothing was imported. Correct these rows and try again:"), err=True)
        for problem in result.problems:
            click.echo(f"{_('Line %(line)s', line=problem.line)}: {problem.message}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(_("%(count)s users imported", count=len(result.created)))
    for item in result.created:
        password = item.generated_password or _("as given in the file")
        click.echo(f"{item.user.username}\t{password}")


@users_cli.command("unlock")
@click.argument("username")
@in_default_locale
def unlock_command(username):
    """Lift the login slow-down of an account: its failures so far no longer count (audited)."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        fail(_("No user is called %(username)s.", username=username))
    unlock_login(user, actor=None)
    db.session.commit()
    click.echo(_("%(username)s can log in again at once from any address.", username=user.username))

