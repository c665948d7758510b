import click
from flask_babel import gettext as _

from ..cli import in_default_locale
from .services import BackupError, create_backup, restore_backup


@click.command("backup")
@click.argument("out_path", type=click.Path(dir_okay=False, writable=True))
@in_default_locale
def backup_command(out_path):
    """Write a consistent snapshot of the database and the uploads to OUT_PATH (.tar.gz)."""
    try:
        summary = create_backup(out_path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    rows = sum(summary.tables.values())
    click.echo(_("Backup written to %(path)s: %(rows)s rows, %(files)s files.",
                 path=summary.path, rows=rows, files=summary.files))


@click.command("restore")
@click.argument("in_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Restore even over a database that has data.")
@in_default_locale
def restore_command(in_path, force):
    """Restore a backup made by `backup` into this instance."""
    try:
        manifest = restore_backup(in_path, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(_("Restored the backup of %(when)s: %(files)s files.",
                 when=manifest["created_at"], files=len(manifest["files"])))
