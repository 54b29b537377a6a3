"""WSGI entry point for any server: `gunicorn lti_tool.wsgi:app`."""

from lti_tool.app import create_app

app = create_app()
