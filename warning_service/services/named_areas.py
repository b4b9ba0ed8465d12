"""Registering named areas (the admin page and `flask areas` share these), and resolving the codes
alerts name to the registered shapes.

No Flask here. Bad input raises NamedAreaRefused naming the field at fault; nothing is committed.
Every change is in the ledger with the acting admin; the shape itself is recorded by its digest and
point count, not its points. Removing deactivates: alerts that named the area keep its code, and a
code is never given to another shape.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.events import Actor, record
from ..cap.errors import FieldError
from ..cap.message import AlertMessage, AreaBlock
from ..geography.named_areas import (
    CODE,
    ShapeRefused,
    cap_polygons,
    counties_touched,
    geometry_from_circle,
    geometry_from_geojson,
    geometry_text,
    is_named_area,
    named_area_codes,
)
from ..intake.cap_xml import invalid_fields
from ..intake.limits import IntakeLimits
from ..models import NamedArea, User
from ..models.named_area import MAX_ACCURACY, MAX_NAME_BO, MAX_NAME_EN, MAX_NAME_ZH
from ..registration import RegistryError

# Why a named area is refused: a stable code and its English text (the CLI's, the ledger's). The admin
# page words them in the reader's language by code (web/named_areas.py); keep the two in step.
REFUSAL_TEXTS: Mapping[str, str] = {
    "code_malformed": "a code has 2 to 40 characters, lowercase ASCII letters, digits, '-' or '_', beginning with "
                      "a letter: %(given)r",
    "code_taken": "the code %(given)r is already the named area %(name)r (codes are never reused)",
    "name_length": "a name has %(min)s to %(max)s characters",
    "name_taken": "an active named area is already called %(name)s",
    "source_missing": "say where the shape comes from (its source)",
    "accuracy_length": "say how exact the shape is in 1 to %(max)s characters, e.g. 'approximate: circle of 8 km "
                       "around the scenic area's centre' or 'surveyed'",
    "shape_missing": "give the shape: a GeoJSON polygon, or a centre and a radius",
    "shape_twice": "give either a GeoJSON polygon or a centre and a radius, not both",
    "geojson_malformed": "the GeoJSON is not valid JSON",
    "geojson_not_polygon": "the GeoJSON must be a Polygon or a MultiPolygon (bare, or a Feature or FeatureCollection "
                           "of one), not %(found)s",
    "geojson_features": "a FeatureCollection must hold exactly one feature; this one has %(count)s",
    "polygon_holes": "a named area's polygon has no holes (CAP polygons cannot carry them); this one has %(count)s",
    "too_many_points": "at most %(allowed)s points; this shape has %(count)s",
    "position_malformed": "position %(index)s is not a [longitude, latitude] pair of numbers in range",
    "ring_not_closed": "a ring needs at least 4 positions, the last repeating the first; this one has %(count)s",
    "polygon_invalid": "not a valid simple polygon (%(reason)s); it is not repaired, give a corrected one",
    "shape_outside": "the shape lies outside Garzê and Ngawa: it shares no area with their 31 counties",
    "latitude_out_of_range": "latitude %(value)g is not between -90 and 90",
    "longitude_out_of_range": "longitude %(value)g is not between -180 and 180",
    "radius_out_of_range": "a radius is more than 0 and at most %(max)s km, not %(value)g",
    "named_area_inactive": "the named area %(area)s is already inactive",
}


class NamedAreaRefused(RegistryError):
    """Input the named-area registry refuses (see RegistryError): `field` is code, name_zh, name_en, name_bo,
    source, accuracy, geojson, centre or radius_km."""

    texts = REFUSAL_TEXTS


def add_named_area(session: Session, actor: Actor, via: str, *, code: str, name_zh: str, name_en: str,
                   name_bo: str | None, source: str, accuracy: str, limits: IntakeLimits,
                   geojson: str | None = None, centre: tuple[float, float] | None = None,
                   radius_km: float | None = None) -> NamedArea:
    """Register a named area from a GeoJSON polygon, or from a centre (lat, lon) and a radius; its shape
    may have as many points as one alert may carry (`limits`), as every alert naming it carries them."""
    code = (code or "").strip()
    if not CODE.fullmatch(code):
        raise NamedAreaRefused("code", "code_malformed", given=code[:60])
    names = {"name_zh": _name("name_zh", name_zh, 1, MAX_NAME_ZH), "name_en": _name("name_en", name_en, 1, MAX_NAME_EN),
             "name_bo": _name("name_bo", name_bo, 0, MAX_NAME_BO) or None}
    source = (source or "").strip()
    if not source:
        raise NamedAreaRefused("source", "source_missing")
    accuracy = (accuracy or "").strip()
    if not 0 < len(accuracy) <= MAX_ACCURACY:
        raise NamedAreaRefused("accuracy", "accuracy_length", max=MAX_ACCURACY)
    geometry, counties, field = _shape(geojson, centre, radius_km, limits)
    if (existing := session.scalar(select(NamedArea).where(NamedArea.code == code))) is not None:
        raise NamedAreaRefused("code", "code_taken", conflict=True, given=code, name=existing.name_zh)
    if session.scalar(select(NamedArea.id).where(NamedArea.name_zh == names["name_zh"], NamedArea.active)):
        raise NamedAreaRefused("name_zh", "name_taken", conflict=True, name=names["name_zh"])
    stored = geometry_text(geometry)
    user_id = actor.id if isinstance(actor, User) else None
    area = NamedArea(code=code, **names, geometry_geojson=stored, county_codes=counties, source=source,
                     accuracy=accuracy, created_by_id=user_id, updated_by_id=user_id)
    session.add(area)
    session.flush()
    shape: dict[str, Any] = ({"centre": list(centre), "radius_km": radius_km} if field == "centre"
                             else {"geojson_sha256": hashlib.sha256(stored.encode()).hexdigest()})
    record(session, actor, "named_area.add", area, via=via, code=code, **names, counties=counties, source=source,
           accuracy=accuracy, points=sum(map(len, cap_polygons(stored))), **shape)
    return area


def deactivate_named_area(session: Session, actor: Actor, via: str, area: NamedArea) -> None:
    """No new alert can name it; alerts that named it keep its code and shape."""
    if not area.active:
        raise NamedAreaRefused("code", "named_area_inactive", conflict=True, area=area.code)
    area.active = False
    area.updated_by_id = actor.id if isinstance(actor, User) else None
    record(session, actor, "named_area.deactivate", area, via=via, code=area.code)


def named_areas(session: Session, active_only: bool = False) -> list[NamedArea]:
    query = select(NamedArea).order_by(NamedArea.code)
    return list(session.scalars(query.where(NamedArea.active) if active_only else query))


def named_in(session: Session, area: Mapping[str, Any]) -> list[NamedArea]:
    """The named areas a stored alert's area names (active or not: it was sent to them), in its order."""
    codes = named_area_codes(area.get("geocodes", []))
    found = {row.code: row for row in session.scalars(select(NamedArea).where(NamedArea.code.in_(codes)))}
    return [found[code] for code in codes if code in found]


def resolve_named_areas(session: Session, message: AlertMessage) -> list[dict[str, str | None]]:
    """Put each named area's registered polygon beside the geocode naming it, in the same <area>: the
    region's rules then find the counties it touches, and the alert carries its shape (cell broadcast).
    Returns the areas' names ({"code", "zh", "bo"}, bo None until a sourced one is registered), in the
    message's order, which the alert keeps as `named_places` so its texts name the place, not only its
    county. Raises a 422 naming every code that is unknown or no longer active; changes nothing then."""
    named = list(_named_geocodes(message))
    if not named:
        return []
    codes = {code for _, _, code in named}
    rows = {area.code: area for area in session.scalars(select(NamedArea).where(NamedArea.code.in_(codes), NamedArea.active))}
    found = {code: cap_polygons(area.geometry_geojson) for code, area in rows.items()}
    unknown = {location: FieldError(location, f"no active named area {code!r} is registered here")
               for location, _, code in named if code not in found}
    if unknown:
        raise invalid_fields("the message names areas this service does not know", list(unknown.values()))
    done: set[tuple[int, str]] = set()
    for _, area, code in named:
        if (id(area), code) not in done:
            done.add((id(area), code))
            area.polygons.extend(found[code])
    in_order = dict.fromkeys(code for _, _, code in named)
    return [{"code": code, "zh": rows[code].name_zh, "bo": rows[code].name_bo} for code in in_order]


def _named_geocodes(message: AlertMessage) -> Iterator[tuple[str, AreaBlock, str]]:
    """(where, area, code) for each NAMED_AREA geocode, where as the sender wrote it: a JSON field path,
    or the XML path (the JSON form repeats its one area in each language's <info>)."""
    for info_index, info in enumerate(message.infos):
        for area_index, area in enumerate(info.areas):
            named = [(index, value.strip()) for index, (name, value) in enumerate(area.geocodes) if is_named_area(name)]
            for position, (index, code) in enumerate(named):
                where = (f"area.named_areas[{position}]" if message.format == "json"
                         else f"/alert/info[{info_index + 1}]/area[{area_index + 1}]/geocode[{index + 1}]")
                yield where, area, code


def _name(field: str, value: str | None, shortest: int, longest: int) -> str:
    value = (value or "").strip()
    if not shortest <= len(value) <= longest:
        raise NamedAreaRefused(field, "name_length", min=shortest, max=longest)
    return value


def _shape(geojson: str | None, centre: tuple[float, float] | None, radius_km: float | None,
           limits: IntakeLimits) -> tuple[dict[str, Any], list[str], str]:
    """The geometry, the counties it touches and which input gave it (geojson or centre)."""
    drawn = centre is not None or radius_km is not None
    if geojson and geojson.strip() and drawn:
        raise NamedAreaRefused("geojson", "shape_twice")
    if not (geojson and geojson.strip()) and not (centre is not None and radius_km is not None):
        raise NamedAreaRefused("centre" if drawn else "geojson", "shape_missing")
    field = "centre" if drawn else "geojson"
    try:
        if drawn:
            geometry = geometry_from_circle(centre[0], centre[1], radius_km)
        else:
            geometry = geometry_from_geojson(geojson, limits.polygon_points, limits.alert_points)
        return geometry, counties_touched(geometry), field
    except ShapeRefused as refused:
        where = "radius_km" if refused.code == "radius_out_of_range" else field
        raise NamedAreaRefused(where, refused.code, **refused.details) from None
