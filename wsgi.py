"""Entry point: ``flask --app wsgi …`` and ``gunicorn wsgi:app``."""
from campaign import create_app

app = create_app()
