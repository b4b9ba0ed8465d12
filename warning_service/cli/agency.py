import click
from flask.cli import AppGroup

agency_cli = AppGroup("agency")
