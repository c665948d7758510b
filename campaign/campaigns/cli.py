"""Campaigns from the command line: ``flask --app wsgi campaigns create|launch|list``."""
from datetime import date, datetime

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..cli import in_default_locale
from ..extensions import db
from ..timeutil import format_local
from ..units.models import Unit
from .messages import campaign_error_message
from .models import Campaign
from .playbooks import get_playbook, list_playbooks
from .services import CampaignError, create_campaign, launch_campaign

campaigns_cli = AppGroup("campaigns", help="Create and launch campaigns.")


def _parse_date(value, option):
    if not value:
        raise click.ClickException(f"{option} YYYY-MM-DD is required")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.ClickException(f"{option}: expected YYYY-MM-DD, got {value!r}") from None


def _fail(error: CampaignError):
    db.session.rollback()
    raise click.ClickException(campaign_error_message(error))


@campaigns_cli.command("create")
@click.option("--playbook", "playbook_key", help="Playbook key, e.g. forest-fire-month; omit for a blank campaign.")
@click.option("--title", help="Campaign title (defaults to the playbook's title and the start year).")
@click.option("--theme", default=None, help="Theme (defaults to the playbook's).")
@click.option("--start", help="First day, YYYY-MM-DD (required).")
@click.option("--end", help="Last day, YYYY-MM-DD (required).")
@click.option("--deadline", help='Summary deadline in Beijing time, "YYYY-MM-DD HH:MM" '
                                 "(defaults to the playbook's offset from the end date).")
@click.option("--unit", "unit_code", help="Division code of the unit that runs the campaign (required).")
@in_default_locale
def create_command(playbook_key, title, theme, start, end, deadline, unit_code):
    """Create a draft campaign and print its id."""
    playbook = None
    if playbook_key:
        playbook = get_playbook(playbook_key)
        if playbook is None:
            known = ", ".join(p.key for p in list_playbooks())
            raise click.ClickException(f"unknown playbook {playbook_key!r}; known: {known}")
    start_date = _parse_date(start, "--start")
    end_date = _parse_date(end, "--end")
    if deadline:
        try:
            moment = datetime.strptime(deadline.strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            raise click.ClickException(f'--deadline: expected "YYYY-MM-DD HH:MM", got {deadline!r}') from None
        deadline_date, deadline_time = moment.date(), moment.time()
    elif playbook:
        deadline_date, deadline_time = playbook.deadline_after(end_date)
    else:
        raise click.ClickException("--deadline is required for a campaign without a playbook")
    if not title:
        if not playbook:
            raise click.ClickException("--title is required for a campaign without a playbook")
        title = _("%(year)s %(title)s", year=start_date.year, title=playbook.title)
    if not unit_code:
        raise click.ClickException("--unit CODE is required: the division code of the unit running the campaign")
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code.strip()))
    if unit is None:
        raise click.ClickException(f"no unit has the division code {unit_code!r}")
    try:
        campaign = create_campaign(
            actor=None, playbook=playbook, title=title,
            theme=theme if theme is not None else (playbook.theme if playbook else ""),
            description=playbook.description if playbook else "",
            start_date=start_date, end_date=end_date, deadline_date=deadline_date,
            deadline_time=deadline_time, root_unit=unit,
        )
    except CampaignError as error:
        _fail(error)
    db.session.commit()
    click.echo(campaign.id)


@campaigns_cli.command("launch")
@click.argument("campaign_id", type=int)
@in_default_locale
def launch_command(campaign_id):
    """Launch a draft campaign and print how many assignments were created."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign with id {campaign_id}")
    try:
        created = launch_campaign(campaign, actor=None)
    except CampaignError as error:
        _fail(error)
    db.session.commit()
    click.echo(created)


@campaigns_cli.command("list")
@in_default_locale
def list_command():
    """List all campaigns: id, status, window, deadline (Beijing time), unit, title."""
    campaigns = db.session.scalars(
        select(Campaign).options(joinedload(Campaign.root_unit)).order_by(Campaign.start_date.desc(), Campaign.id.desc())
    )
    for campaign in campaigns:
        click.echo("\t".join([
            str(campaign.id), campaign.status, f"{campaign.start_date}..{campaign.end_date}",
            format_local(campaign.deadline_at), campaign.root_unit.name, campaign.title,
        ]))
