"""`flask areas ...`: the named areas officers and agencies target by name (scenic areas and the like).

The same rules and ledger entries as the admin page (services/named_areas.py). Removing deactivates:
alerts that named an area keep its code, and the code is never given to another shape.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..intake.limits import IntakeLimits
from ..models import NamedArea
from ..services import named_areas
from .agency import refused

areas_cli = AppGroup("areas", help="Manage the named areas (scenic areas) alerts can target by code.")

# Which option each field of a NamedAreaRefused comes from.
_OPTIONS = {"code": "--code", "name_zh": "--name-zh", "name_en": "--name-en", "name_bo": "--name-bo",
            "source": "--source", "accuracy": "--accuracy", "geojson": "--geojson", "centre": "--centre",
            "radius_km": "--radius-km"}


def _centre(context: click.Context, parameter: click.Parameter, value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lat, lon = (float(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter("give the centre as LAT,LON in degrees, e.g. 29.617,102.033") from None
    return lat, lon


@areas_cli.command("add")
@click.option("--code", required=True, help="ASCII slug agencies send, e.g. hailuogou.")
@click.option("--name-zh", required=True, help="The Chinese name officers pick it by.")
@click.option("--name-en", required=True, help="The English name.")
@click.option("--name-bo", help="The Tibetan name, only from a sourced glossary entry (else leave it out).")
@click.option("--geojson", type=click.File(encoding="utf-8"),
              help="A GeoJSON file: a Polygon or MultiPolygon, bare or as a Feature or FeatureCollection of one.")
@click.option("--centre", callback=_centre, metavar="LAT,LON", help="Or the centre of a circle ...")
@click.option("--radius-km", type=float, help="... and its radius in km.")
@click.option("--source", required=True, help="Where the shape comes from.")
@click.option("--accuracy", required=True,
              help="How exact it is, e.g. 'approximate: circle of 8 km around the scenic area's centre' or 'surveyed'.")
def add(code: str, name_zh: str, name_en: str, name_bo: str | None, geojson, centre: tuple[float, float] | None,
        radius_km: float | None, source: str, accuracy: str) -> None:
    """Register a named area from a GeoJSON polygon, or from a centre and radius."""
    try:
        area = named_areas.add_named_area(
            db.session, None, "cli", code=code, name_zh=name_zh, name_en=name_en, name_bo=name_bo, source=source,
            accuracy=accuracy, limits=IntakeLimits.from_settings(current_app.config),
            geojson=geojson.read() if geojson else None, centre=centre, radius_km=radius_km)
    except named_areas.NamedAreaRefused as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"named area {area.code} added: {area.name_zh} / {area.name_en}, counties {', '.join(area.county_codes)}")


@areas_cli.command("list")
def list_areas() -> None:
    """Every named area, inactive ones marked."""
    areas = named_areas.named_areas(db.session)
    click.echo(f"named areas: {len(areas)}")
    for area in areas:
        flag = "" if area.active else " (inactive)"
        click.echo(f"  {area.code:<20} {area.name_zh} / {area.name_en}  counties {','.join(area.county_codes)}  "
                   f"[{area.accuracy}]{flag}")


@areas_cli.command("remove")
@click.argument("code")
def remove(code: str) -> None:
    """Deactivate a named area: no new alert can name it."""
    area = db.session.scalar(select(NamedArea).where(NamedArea.code == code))
    if area is None:
        raise click.ClickException(f"no named area {code!r} (see `flask areas list`)")
    try:
        named_areas.deactivate_named_area(db.session, None, "cli", area)
    except named_areas.NamedAreaRefused as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"named area {code} ({area.name_zh}) deactivated: no new alert can name it")
