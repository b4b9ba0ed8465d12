"""`flask templates check`: render every combination from the message templates and list the problems."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..channels.catalog import budget_for, texts
from ..rendering.check import check_templates
from ..rendering.render import TEMPLATES_ROOT

templates_cli = AppGroup("templates", help="Check the bilingual message templates.")


@templates_cli.command("check")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=TEMPLATES_ROOT,
              show_default=True, help="The template set: a folder with messages/, families.toml and review.toml.")
@click.option("--strict", is_flag=True,
              help="Also count, per hazard, the Tibetan sections that still carry Chinese, and fail unless none do.")
def check(root: Path, strict: bool) -> None:
    """Render every hazard, level, status, message type, channel and language with sample data.

    Exits 1, listing each problem, on a render error, a text over its channel's
    budget after fitting, non-NFC text, a discouraged Tibetan vowel sign, a
    Tibetan message without Tibetan letters, or an Exercise message without its banner. With --strict,
    also on a Tibetan section of an Actual message that carries Chinese (counted per hazard).
    """
    report = check_templates(root, {text: budget_for(text, current_app.config) for text in texts()})
    for problem in report.problems:
        click.echo(problem)
    click.echo(report.summary())
    if strict:
        for line in report.chinese_summary():
            click.echo(line)
    if not report.ok or (strict and any(report.chinese.values())):
        raise SystemExit(1)
