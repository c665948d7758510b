import click
from flask_babel import gettext as _

from ..cli import in_default_locale
from ..extensions import db
from ..i18n import ROLE_LABELS
from .services import DEMO_PASSWORD, demo_logins, load_demo


@click.command("demo")
@in_default_locale
def demo_command():
    """Load the demo county (临安区) once, and print the logins."""
    result = load_demo()
    db.session.commit()
    if result.loaded:
        click.echo(_("Demo county loaded: %(units)s units, %(users)s users, %(assignments)s assignments, "
                     "%(points)s water points.", units=result.units, users=result.users,
                     assignments=result.assignments, points=result.water_points))
    else:
        click.echo(_("The database already has units: the demo was not loaded again."))
    logins = demo_logins()
    if logins:
        click.echo(_("Demo logins (password %(password)s for all):", password=DEMO_PASSWORD))
        for username, role, unit_name in logins:
            click.echo(f"  {username:<10} {ROLE_LABELS[role]}  ·  {unit_name}")
