"""resolve_areas and county_of_point against the shipped boundaries.

Expected values are either spelled out or computed here straight from the GeoJSON
with plain shapely (no STRtree, no prepared geometries), never from region_map().
"""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box, shape

from warning_service.cap.errors import FieldError
from warning_service.cap.message import AreaBlock, Circle
from warning_service.geography.areas import AreaResolution, county_of_point, resolve_areas
from warning_service.reference_data import boundaries, county_rows

COUNTY_SHAPES = {code: shape(geometry) for code, geometry in boundaries("counties.geojson").items()}
REGION = shapely.union_all([shape(geometry) for geometry in boundaries("prefectures.geojson").values()])
COUNTY_ROWS = [row for row in county_rows() if row["code"] != row["prefecture_code"]]
GARZE = sorted(row["code"] for row in COUNTY_ROWS if row["prefecture_code"] == "513300")
NGAWA = sorted(row["code"] for row in COUNTY_ROWS if row["prefecture_code"] == "513200")
ALL_COUNTIES = sorted(GARZE + NGAWA)
MIN_LON, MIN_LAT, MAX_LON, MAX_LAT = shapely.total_bounds(list(COUNTY_SHAPES.values()))
KANGDING_SEAT = (30.001, 101.956)
LUDING_SEAT = (29.917, 102.233)
KM_PER_DEGREE = math.pi / 180 * 6371.0088


def cap_box(south: float, west: float, north: float, east: float) -> list[tuple[float, float]]:
    """A closed CAP polygon (lat, lon) for a lon/lat box."""
    return [(south, west), (north, west), (north, east), (south, east), (south, west)]


def brute_force(points: list[tuple[float, float]]) -> list[str]:
    """Counties whose intersection with the polygon has positive area, checked against all 31."""
    polygon = shapely.Polygon([(lon, lat) for lat, lon in points])
    return sorted(code for code, county in COUNTY_SHAPES.items() if county.intersection(polygon).area > 0)


def resolve_one(**parts) -> AreaResolution:
    return resolve_areas([AreaBlock(**parts)])


def test_reference_data_has_the_region_this_file_assumes():
    assert len(GARZE) == 18 and len(NGAWA) == 13
    assert sorted(COUNTY_SHAPES) == ALL_COUNTIES


# --- geocodes ---------------------------------------------------------------------------------

def test_county_code():
    result = resolve_one(geocodes=[("GB/T 2260", "513301")])
    assert result == AreaResolution(county_codes=["513301"])


def test_township_code_adds_its_county():
    result = resolve_one(geocodes=[("GB/T 2260", "513301100000")])
    assert result.county_codes == ["513301"]
    assert result.township_codes == ["513301100000"]
    assert result.errors == [] and result.outside == []


@pytest.mark.parametrize("prefecture, counties", [("513300", GARZE), ("513200", NGAWA)])
def test_prefecture_code_gives_all_its_counties(prefecture, counties):
    result = resolve_one(geocodes=[("GB/T 2260", prefecture)])
    assert result.county_codes == counties
    assert result.township_codes == [] and result.errors == []


def test_prefecture_code_lists():
    assert GARZE[:3] == ["513301", "513322", "513323"] and GARZE[-1] == "513338"
    assert NGAWA[:3] == ["513201", "513221", "513222"] and NGAWA[-1] == "513233"


@pytest.mark.parametrize("name", ["GB/T 2260", "GB/T2260", "gbt2260", "ADCODE", "adcode", " GB / T 2260 "])
def test_value_name_spellings(name):
    assert resolve_one(geocodes=[(name, "513322")]).county_codes == ["513322"]


def test_code_with_surrounding_whitespace():
    assert resolve_one(geocodes=[("GB/T 2260", " 513322\n")]).county_codes == ["513322"]


def test_code_outside_the_region():
    result = resolve_one(geocodes=[("GB/T 2260", "510104")])
    assert result.county_codes == [] and result.errors == []
    assert result.outside == ["area[0].geocode[0]: geocode GB/T 2260=510104"]


def test_township_outside_the_region():
    result = resolve_one(geocodes=[("GB/T 2260", "510104001000")])
    assert result.county_codes == [] and result.township_codes == []
    assert result.outside == ["area[0].geocode[0]: geocode GB/T 2260=510104001000"]


@pytest.mark.parametrize("value", ["51330", "5133011", "51330110000", "5133011000000", "51330a", "", "513301 100000"])
def test_bad_code_is_an_error_with_its_location(value):
    areas = [AreaBlock(geocodes=[("GB/T 2260", "513322")]), AreaBlock(geocodes=[("SAME", "006109"), ("GB/T 2260", value)])]
    result = resolve_areas(areas, location="info[0].area")
    assert [error.location for error in result.errors] == ["info[0].area[1].geocode[1]"]
    assert repr(value) in result.errors[0].message
    assert result.county_codes == ["513322"]


def test_foreign_geocode_is_unresolved_not_an_error():
    result = resolve_one(geocodes=[("SAME", "006109"), ("UGC", "CAZ041")])
    assert result.unresolved == [
        "area[0].geocode[0]: geocode SAME=006109 is not a GB/T 2260 code",
        "area[0].geocode[1]: geocode UGC=CAZ041 is not a GB/T 2260 code",
    ]
    assert result.county_codes == [] and result.errors == [] and result.outside == []


@pytest.mark.parametrize("retired, successor", [("513321", "513301"), ("513229", "513201")])
def test_codes_retired_in_2015_name_their_successors(retired, successor):
    assert resolve_one(geocodes=[("GB/T 2260", retired)]).county_codes == [successor]


def test_unknown_code_inside_our_prefectures_is_unresolved():
    result = resolve_one(geocodes=[("GB/T 2260", "513399")])
    assert result.unresolved == ["area[0].geocode[0]: geocode GB/T 2260=513399 names no county of Garzê or Ngawa"]
    assert result.county_codes == [] and result.outside == [] and result.errors == []


@pytest.mark.parametrize("code", ["510000", "510000000000", "100000"])
def test_sichuan_and_china_contain_all_31_counties(code):
    assert resolve_one(geocodes=[("ADCODE", code)]).county_codes == ALL_COUNTIES


def test_twelve_digit_form_of_a_prefecture_code():
    result = resolve_one(geocodes=[("GB/T 2260", "513300000000")])
    assert result.county_codes == GARZE and result.township_codes == []


# --- circles ----------------------------------------------------------------------------------

def distance_km(county: shapely.Geometry, lat: float, lon: float) -> float:
    """Distance from a point to a county, in a local equirectangular projection (fine at 100 km)."""
    scale = np.array([KM_PER_DEGREE * math.cos(math.radians(lat)), KM_PER_DEGREE])
    local = shapely.transform(county, lambda xy: (xy - (lon, lat)) * scale)
    return local.distance(shapely.Point(0, 0))


def test_circle_around_luding():
    lat, lon = LUDING_SEAT
    distances = {code: distance_km(county, lat, lon) for code, county in COUNTY_SHAPES.items()}
    # Luding's seat is 15.5 km from Kangding and more than 70 km from every other county,
    # so a 30 km circle reaches exactly these two, far from any rounding question.
    assert 14 < distances["513301"] < 17
    assert min(d for code, d in distances.items() if code not in ("513301", "513322")) > 60
    expected = sorted(code for code, d in distances.items() if d < 30)
    assert expected == ["513301", "513322"]

    assert resolve_one(circles=[Circle(lat, lon, 30)]) == AreaResolution(county_codes=expected)
    assert resolve_one(circles=[Circle(lat, lon, 10)]).county_codes == ["513322"]


def test_circle_far_away_is_outside():
    result = resolve_one(circles=[Circle(39.9, 116.4, 50)])
    assert result == AreaResolution(outside=["area[0].circle[0]"])


@pytest.mark.parametrize("circle", [Circle(90, 0, 1000), Circle(-89.5, 100, 500), Circle(10, 179.9, 800), Circle(-5, -180, 300)])
def test_circles_over_a_pole_or_the_antimeridian_are_outside_without_error(circle):
    assert resolve_one(circles=[circle]) == AreaResolution(outside=["area[0].circle[0]"])


def test_largest_circle_allowed():
    result = resolve_one(circles=[Circle(*KANGDING_SEAT, 1000)])
    assert result.county_codes == ALL_COUNTIES and result.errors == []


@pytest.mark.parametrize("circle, wording", [
    (Circle(95, 101, 10), "latitude 95"),
    (Circle(-90.5, 101, 10), "latitude -90.5"),
    (Circle(30, 181, 10), "longitude 181"),
    (Circle(30, 101, -5), "radius"),
    (Circle(30, 101, 5000), "radius"),
    (Circle(30, 101, math.nan), "radius"),
])
def test_invalid_circle(circle, wording):
    result = resolve_areas([AreaBlock(circles=[Circle(*LUDING_SEAT, 5), circle])])
    assert [error.location for error in result.errors] == ["area[0].circle[1]"]
    assert wording in result.errors[0].message
    assert result.county_codes == ["513322"]


def test_radius_zero_circle_is_a_point_in_its_county():
    """Seismic agencies send the epicentre as a circle of radius 0 (CAP's point)."""
    assert resolve_one(circles=[Circle(*LUDING_SEAT, 0)]).county_codes == ["513322"]
    assert resolve_one(circles=[Circle(*KANGDING_SEAT, 0)]).county_codes == ["513301"]
    beijing = resolve_one(circles=[Circle(39.9, 116.4, 0)])
    assert beijing.county_codes == [] and beijing.outside == ["area[0].circle[0]"]


# --- polygons ---------------------------------------------------------------------------------

def test_box_over_the_border_selects_only_the_county_inside():
    # Half over 汶川县, half over the Chengdu plain (Dujiangyan, Pengzhou).
    points = cap_box(31.02, 103.44, 31.22, 103.64)
    bbox = box(103.44, 31.02, 103.64, 31.22)
    assert 0.4 < bbox.difference(REGION).area / bbox.area < 0.6
    assert brute_force(points) == ["513221"]
    assert resolve_one(polygons=[points]) == AreaResolution(county_codes=["513221"])


def test_box_over_beijing_is_outside():
    result = resolve_one(polygons=[cap_box(39.8, 116.2, 40.1, 116.6)])
    assert result == AreaResolution(outside=["area[0].polygon[0]"])


def test_polygon_around_the_whole_region_selects_all_31():
    assert resolve_one(polygons=[cap_box(20, 90, 40, 110)]).county_codes == ALL_COUNTIES


def test_orientation_does_not_matter():
    points = cap_box(30.5, 101.5, 31.5, 102.5)
    assert resolve_one(polygons=[points[::-1]]).county_codes == brute_force(points)


def test_touching_a_county_along_its_border_does_not_select_it():
    exterior = max(COUNTY_SHAPES["513322"].geoms, key=lambda part: part.area).exterior
    (x1, y1), (x2, y2) = exterior.coords[0], exterior.coords[1]
    # The outer side of an edge is right of it, along (dy, -dx), on a counter-clockwise ring.
    side = 1 if exterior.is_ccw else -1
    length = math.hypot(x2 - x1, y2 - y1)
    apex = ((x1 + x2) / 2 + side * 0.001 * (y2 - y1) / length, (y1 + y2) / 2 - side * 0.001 * (x2 - x1) / length)
    points = [(y1, x1), (y2, x2), (apex[1], apex[0]), (y1, x1)]
    triangle = shapely.Polygon([(lon, lat) for lat, lon in points])
    assert triangle.touches(COUNTY_SHAPES["513322"])
    assert "513322" not in resolve_one(polygons=[points]).county_codes


VALID = cap_box(29.8, 102.1, 30.0, 102.3)


@pytest.mark.parametrize("points, wording", [
    (VALID[:-1], "not closed"),
    ([(29.8, 102.1), (30.0, 102.1), (29.8, 102.1)], "at least 4 points"),
    ([(29.8, 102.1), (95.0, 102.1), (30.0, 102.3), (29.8, 102.1)], "point 1: latitude 95"),
    ([(29.8, 102.1), (30.0, 102.1), (30.0, 190.0), (29.8, 102.1)], "point 2: longitude 190"),
    ([(29.8, 102.1), (math.nan, 102.1), (30.0, 102.3), (29.8, 102.1)], "point 1: latitude nan"),
    # A bow tie: the edges cross at (29.9, 102.2).
    ([(29.8, 102.1), (30.0, 102.3), (30.0, 102.1), (29.8, 102.3), (29.8, 102.1)], "self-intersection near lat 29.9, lon 102.2"),
    # Exactly collinear (the coordinates are binary fractions): no area.
    ([(29.5, 102.0), (29.75, 102.25), (30.0, 102.5), (29.5, 102.0)], "not a valid simple polygon"),
    ([(29.8, 102.1)] * 4, "not a valid simple polygon"),
])
def test_invalid_polygon(points, wording):
    result = resolve_areas([AreaBlock(polygons=[VALID, points])])
    assert [error.location for error in result.errors] == ["area[0].polygon[1]"]
    assert wording in result.errors[0].message
    assert result.county_codes == ["513322"]


def test_bow_tie_is_not_repaired():
    bow_tie = [(29.8, 102.1), (30.0, 102.3), (30.0, 102.1), (29.8, 102.3), (29.8, 102.1)]
    result = resolve_one(polygons=[bow_tie])
    assert result.county_codes == []
    assert result.errors == [FieldError(
        "area[0].polygon[0]",
        "not a valid simple polygon (self-intersection near lat 29.9, lon 102.2); it is not repaired, send a corrected one",
    )]


def test_polygon_of_41009_points_resolves_as_brute_force_does():
    lat, lon = KANGDING_SEAT
    angles = np.linspace(0, 2 * math.pi, 41_008, endpoint=False)
    radius_km = 60
    lats = lat + radius_km / KM_PER_DEGREE * np.sin(angles)
    lons = lon + radius_km / (KM_PER_DEGREE * math.cos(math.radians(lat))) * np.cos(angles)
    points = list(zip(lats.tolist(), lons.tolist()))
    points.append(points[0])
    assert len(points) == 41_009
    expected = brute_force(points)
    assert "513301" in expected and len(expected) >= 3

    assert resolve_one(polygons=[points]) == AreaResolution(county_codes=expected)


def test_fine_polygon_inside_one_county():
    # Kangding's seat is 10.7 km from its border (checks.txt), so a 5 km ring stays inside it.
    lat, lon = KANGDING_SEAT
    angles = np.linspace(0, 2 * math.pi, 40_000, endpoint=False)
    lats = lat + 5 / KM_PER_DEGREE * np.sin(angles)
    lons = lon + 5 / (KM_PER_DEGREE * math.cos(math.radians(lat))) * np.cos(angles)
    points = list(zip(lats.tolist(), lons.tolist())) + [(float(lats[0]), float(lons[0]))]
    assert resolve_one(polygons=[points]).county_codes == ["513301"]


# --- whole areas ------------------------------------------------------------------------------

def test_no_areas():
    assert resolve_areas([]) == AreaResolution()


def test_area_with_only_a_description():
    result = resolve_one(description="泸定县城区")
    assert result.unresolved == ["area[0]: no polygon, circle or geocode (areaDesc '泸定县城区')"]
    assert result.county_codes == [] and result.errors == []


def test_parts_of_several_areas_are_united():
    areas = [
        AreaBlock(geocodes=[("GB/T 2260", "513322"), ("GB/T 2260", "510104")]),
        AreaBlock(polygons=[cap_box(31.02, 103.44, 31.22, 103.64)], circles=[Circle(*LUDING_SEAT, 5)]),
    ]
    result = resolve_areas(areas)
    assert result.county_codes == ["513221", "513322"]
    assert result.outside == ["area[0].geocode[1]: geocode GB/T 2260=510104"]


# Run in a child process: without the RegionMap lock this segfaults (5 runs in 6 on GEOS 3.14).
CONCURRENT_SCRIPT = """
import random, threading
from warning_service.cap.message import AreaBlock
from warning_service.geography.areas import county_of_point, resolve_areas

rng = random.Random(1)
boxes = []
for _ in range(300):
    west, south, size = rng.uniform(97.3, 104.4), rng.uniform(27.9, 34.3), rng.uniform(0.01, 0.5)
    box = [(south, west), (south + size, west), (south + size, west + size), (south, west + size), (south, west)]
    boxes.append(([AreaBlock(polygons=[box])], (south + size / 2, west + size / 2)))
expected = [(resolve_areas(areas).county_codes, county_of_point(*centre)) for areas, centre in boxes]
wrong = []

def work():
    for (areas, centre), answer in zip(boxes, expected):
        if (resolve_areas(areas).county_codes, county_of_point(*centre)) != answer:
            wrong.append(areas)

for _ in range(3):
    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(len(wrong))
"""


def test_threads_can_share_the_region_map():
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", CONCURRENT_SCRIPT], cwd=root, capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stdout.strip()) == (0, "0"), run.stderr[-2000:]


# --- county_of_point --------------------------------------------------------------------------

@pytest.mark.parametrize("row", COUNTY_ROWS, ids=[row["code"] for row in COUNTY_ROWS])
def test_each_county_seat_lies_in_its_county(row):
    assert county_of_point(float(row["lat"]), float(row["lon"])) == row["code"]


def test_all_31_seats_are_checked():
    assert len(COUNTY_ROWS) == 31


@pytest.mark.parametrize("lat, lon, county", [
    (30.052, 101.961, "513301"),  # Garzê prefecture government, in Kangding's old town
    (31.902, 102.223, "513201"),  # Ngawa prefecture government, in Barkam
    (30.657, 104.066, None),  # Chengdu
    (39.904, 116.407, None),  # Beijing
    (math.nan, math.nan, None),
])
def test_county_of_point(lat, lon, county):
    assert county_of_point(lat, lon) == county


def test_point_on_a_shared_border_goes_to_the_lower_code():
    kangding, luding = (set(map(tuple, shapely.get_coordinates(COUNTY_SHAPES[code]).tolist())) for code in ("513301", "513322"))
    lon, lat = min(kangding & luding)  # a vertex both rings share
    assert county_of_point(lat, lon) == "513301"


# --- property ---------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(
    west=st.floats(MIN_LON, MAX_LON),
    south=st.floats(MIN_LAT, MAX_LAT),
    width=st.floats(0.001, 0.6),
    height=st.floats(0.001, 0.6),
)
def test_small_boxes_match_brute_force(west, south, width, height):
    points = cap_box(south, west, south + height, west + width)
    expected = brute_force(points)
    result = resolve_one(polygons=[points])
    assert set(result.county_codes) <= set(ALL_COUNTIES)
    assert result.county_codes == expected
    assert result.outside == ([] if expected else ["area[0].polygon[0]"])
    assert result.errors == []
