"""WSGI entry point: ``gunicorn --config gunicorn.conf.py wsgi:app`` (the Procfile's ``web``; README
« En production ») or ``flask --app wsgi run``."""

from referral.web.app import create_app

app = create_app()
