"""Command-line groups: ``flask --app wsgi units|users|campaigns|demo …``."""


def register_commands(app):
    from .accounts.cli import users_cli
    from .campaigns.cli import campaigns_cli
    from .demo.cli import demo_command
    from .units.cli import units_cli

    app.cli.add_command(units_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(campaigns_cli)
    app.cli.add_command(demo_command)
