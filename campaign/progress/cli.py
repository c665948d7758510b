from flask.cli import AppGroup

reminders_cli = AppGroup("reminders", help="Send the reminders that are due.")
