"""Named areas' shapes as plain functions: GeoJSON read strictly (never repaired), circles drawn as intake
draws them, placed in our counties, and written back as CAP polygons."""
from __future__ import annotations

import json
import re

import pytest
import shapely

from warning_service.geography.areas import county_of_point
from warning_service.geography.county_map import county_map
from warning_service.geography.named_areas import (
    ShapeRefused,
    cap_polygons,
    counties_touched,
    geometry_from_circle,
    geometry_from_geojson,
    geometry_text,
    is_named_area,
    map_path,
    named_area_codes,
)

# A square of about 4 km around Luding's seat (lon, lat), closed.
LUDING = [[102.21, 29.90], [102.25, 29.90], [102.25, 29.94], [102.21, 29.94], [102.21, 29.90]]
# Across the border of Luding and Kangding, near the Gonggar ridge.
ACROSS = [[101.90, 29.55], [102.10, 29.55], [102.10, 29.70], [101.90, 29.70], [101.90, 29.55]]


def polygon(*rings: list) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def read(document: object, max_polygon_points: int = 1000, max_points: int = 2000) -> dict:
    """`document` as an uploaded file holds it: JSON text (a str is taken as the text itself)."""
    text = document if isinstance(document, str) else json.dumps(document)
    return geometry_from_geojson(text, max_polygon_points, max_points)


def refusal(document: object, **limits: int) -> ShapeRefused:
    with pytest.raises(ShapeRefused) as refused:
        geometry = read(document, **limits)
        counties_touched(geometry)
    return refused.value


@pytest.mark.parametrize("wrap", [
    lambda g: g,
    lambda g: {"type": "Feature", "properties": {"name": "x"}, "geometry": g},
    lambda g: {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": g}]},
], ids=["bare", "feature", "collection"])
def test_a_polygon_bare_or_wrapped_reads_as_plain_positions(wrap):
    geometry = read(wrap(polygon([[*point, 3100.0] for point in LUDING])))  # an altitude is dropped
    assert geometry == {"type": "Polygon", "coordinates": [[tuple(point) for point in LUDING]]}
    assert counties_touched(geometry) == ["513322"]


def test_a_multipolygon_keeps_its_parts_and_touches_each_county():
    geometry = read({"type": "MultiPolygon", "coordinates": [[LUDING], [ACROSS]]})
    assert geometry["type"] == "MultiPolygon" and len(geometry["coordinates"]) == 2
    assert counties_touched(geometry) == ["513301", "513322"]
    assert [len(ring) for ring in cap_polygons(geometry_text(geometry))] == [5, 5]


def test_cap_polygons_are_lat_lon_and_closed():
    [ring] = cap_polygons(geometry_text(read(polygon(LUDING))))
    assert ring[0] == ring[-1] == (29.90, 102.21)


@pytest.mark.parametrize(("document", "code"), [
    ("not json", "geojson_malformed"),
    ({"type": "Point", "coordinates": [102.2, 29.9]}, "geojson_not_polygon"),
    ({"type": "Polygon", "coordinates": []}, "geojson_not_polygon"),
    ({"type": "Polygon", "coordinates": [5]}, "geojson_not_polygon"),
    ({"type": "FeatureCollection", "features": []}, "geojson_features"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": polygon(LUDING)}] * 2},
     "geojson_features"),
    (polygon(LUDING, [[102.22, 29.91], [102.23, 29.91], [102.23, 29.92], [102.22, 29.91]]), "polygon_holes"),
    (polygon(LUDING[:-1]), "ring_not_closed"),
    (polygon([LUDING[0], LUDING[1], LUDING[0]]), "ring_not_closed"),
    (polygon([[102.21, 95.0], *LUDING[1:-1], [102.21, 95.0]]), "position_malformed"),
    (polygon([["102", "29"], *LUDING[1:]]), "position_malformed"),
    (polygon([[True, 29.9], *LUDING[1:]]), "position_malformed"),
    # a bow tie: the outline crosses itself, and it is refused, not repaired
    (polygon([[102.21, 29.90], [102.25, 29.94], [102.25, 29.90], [102.21, 29.94], [102.21, 29.90]]), "polygon_invalid"),
    (polygon([[116.3, 39.9], [116.5, 39.9], [116.5, 40.0], [116.3, 40.0], [116.3, 39.9]]), "shape_outside"),  # Beijing
])
def test_bad_shapes_are_refused_with_a_stable_code(document, code):
    assert refusal(document).code == code


def test_points_are_counted_against_the_limits_before_any_is_read():
    ring = [["junk"]] * 50  # never read: the count refuses first
    assert refusal(polygon(ring), max_polygon_points=49).details == {"allowed": 49, "count": 50}
    parts = {"type": "MultiPolygon", "coordinates": [[LUDING], [ACROSS]]}
    assert refusal(parts, max_points=9).details == {"allowed": 9, "count": 10}


def test_a_circle_is_a_closed_ring_around_its_centre_in_its_county():
    geometry = geometry_from_circle(29.617, 102.0335, 11)
    [ring] = geometry["coordinates"]
    assert len(ring) == 65 and ring[0] == ring[-1]
    shape = shapely.polygons(ring)
    assert shapely.is_valid(shape) and shape.contains(shapely.Point(102.0335, 29.617))
    assert county_of_point(29.617, 102.0335) in counties_touched(geometry)


@pytest.mark.parametrize(("lat", "lon", "radius", "code"), [
    (91, 102, 5, "latitude_out_of_range"),
    (29.6, float("nan"), 5, "longitude_out_of_range"),
    (29.6, 102.0, 0, "radius_out_of_range"),
    (29.6, 102.0, 101, "radius_out_of_range"),
])
def test_bad_circles_are_refused(lat, lon, radius, code):
    with pytest.raises(ShapeRefused) as refused:
        geometry_from_circle(lat, lon, radius)
    assert refused.value.code == code


def test_named_area_geocodes_are_found_by_value_name():
    assert is_named_area("NAMED_AREA") and is_named_area(" named_area ") and not is_named_area("GB/T 2260")
    geocodes = [["GB/T 2260", "513322"], ["NAMED_AREA", "hailuogou"], ["NAMED_AREA", " hailuogou "],
                ["NAMED_AREA", "mugecuo"]]
    assert named_area_codes(geocodes) == ["hailuogou", "mugecuo"]


def test_the_outline_is_drawn_on_the_county_map_around_its_centre():
    path = map_path(geometry_text(geometry_from_circle(29.617, 102.0335, 11)))
    values = [float(value) for value in re.findall(r"-?\d+(?:\.\d+)?", path)]
    xs, ys = values[0::2], values[1::2]
    drawn = county_map()
    x, y = (float(value) for value in drawn.projection.point(102.0335, 29.617).split(","))
    assert path.startswith("M") and path.endswith("Z")
    assert 0 <= min(xs) < x < max(xs) <= drawn.width and 0 <= min(ys) < y < max(ys) <= drawn.height
