"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`."""
from warning_service.app import create_app

app = create_app()
