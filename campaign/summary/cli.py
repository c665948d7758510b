from flask.cli import AppGroup

report_cli = AppGroup("report", help="Compile and export the summary workbook.")
