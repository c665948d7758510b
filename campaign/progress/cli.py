"""``flask --app wsgi reminders send``: queue the automatic reminders that are due, send what is pending.

Safe to run from cron every hour, and by two machines at once: each reminder has a unique key
and each message is claimed by one sender before it leaves.
"""
from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from ..cli import in_default_locale
from ..extensions import db
from .chasing import queue_due_reminders, send_pending

reminders_cli = AppGroup("reminders", help="Send the reminders that are due.")


@reminders_cli.command("send")
@click.option("--now", "now_text", default=None,
              help='Act as if it were this UTC moment, "YYYY-MM-DD HH:MM" (for a catch-up run or a test).')
@in_default_locale
def send_command(now_text):
    """Queue the reminders due at the campaigns' offsets, then send pending and retry-due messages."""
    now = None
    if now_text:
        try:
            now = datetime.strptime(now_text.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
        except ValueError:
            raise click.ClickException(f'--now: expected "YYYY-MM-DD HH:MM", got {now_text!r}') from None
    try:
        queued = queue_due_reminders(now=now)
        db.session.commit()
    except ValueError as error:  # a wrong REMINDER_CHANNEL
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    result = send_pending(now=now)
    click.echo(f"queued: {queued}, sent: {result.sent}, failed: {result.failed}")


progress_cli = AppGroup("progress", help="Progress counters.")


@progress_cli.command("rebuild-counters")
def rebuild_counters_command():
    """Recompute every campaign's progress counters from the assignments (after a repair by hand)."""
    from .counters import rebuild_all

    rows = rebuild_all()
    db.session.commit()
    click.echo(f"counters: {rows}")
