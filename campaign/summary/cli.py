"""Township summaries (活动总结) and the county's compiled workbook."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

from ..campaigns.models import Campaign
from ..extensions import db
from .workbook import build_workbook
from .workbook_data import gather

report_cli = AppGroup("report", help="Compile and export the summary workbook.")


@report_cli.command("export")
@click.argument("campaign_id", type=int)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The .xlsx file to write.")
@click.option("--by", "compiled_by", default=None, help="Name shown as the compiler on the cover sheet.")
@click.option("--lang", default=None, help="Language of the workbook: zh_Hans_CN (default) or en.")
def export(campaign_id, output, compiled_by, lang):
    """Compile CAMPAIGN_ID's county workbook (the campaign's whole tree) into OUTPUT."""
    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        export_workbook(campaign_id, output, compiled_by)


def export_workbook(campaign_id, output, compiled_by):
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(_("No campaign with id %(id)s.", id=campaign_id))
    if not output.lower().endswith(".xlsx"):
        raise click.ClickException(_("The output file must end in .xlsx."))
    content = build_workbook(gather(campaign, campaign.root_unit, compiled_by=compiled_by or _("Command line")))
    Path(output).write_bytes(content)
    click.echo(_("Wrote %(path)s (%(size)s bytes).", path=output, size=len(content)))
