from flask.cli import AppGroup

water_cli = AppGroup("water", help="Import and export water points.")
