"""The alert page's map (issue 16, item 5: "preview ... the polygons on the map"): over the target counties, the
very polygons each operator's CBC gets in its CAP <area>, within its vertex limit and covering the warned area,
with a legend naming each operator and its vertices; named areas drawn when named. And the preview's handset
texts in CBS pages of 15. On SQLite and PostgreSQL, through the page's HTML."""
from __future__ import annotations

import json
import re

import lxml.html
import pytest
import shapely
from shapely.geometry import Polygon, shape

from tests.support.console import compose, sign_in, waiting_alert
from warning_service.cap.message import Circle
from warning_service.channels.cell_broadcast.outbound import alert_version
from warning_service.extensions import db
from warning_service.geography.areas import circle_ring
from warning_service.models import Alert, CbcOperator
from warning_service.reference_data import boundaries
from warning_service.services.cbc_operators import add_operator

# Two operators with the same vertex limit and one whose CBC takes far fewer vertices.
LIMITS = {"cmcc": 60, "cucc": 12, "ctcc": 60}
NAMES = {"cmcc": "中国移动", "cucc": "中国联通", "ctcc": "中国电信"}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
SLACK = 1.1  # pixels: the map's shapes are simplified to about a pixel and rounded to a tenth of one


@pytest.fixture
def operators(app) -> None:
    for code, limit in LIMITS.items():
        add_operator(db.session, None, "test", code=code, name=NAMES[code], url=f"http://127.0.0.1:1/{code}",
                     failover_url=None, token="t", callback_secret="s", max_vertices=limit)
    db.session.commit()


def alert_page(client, **fields) -> tuple[Alert, lxml.html.HtmlElement]:
    """An alert composed in the console, and its page as the officer reads it (in Chinese)."""
    saved = compose(client, **fields)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    alert = db.session.get(Alert, int(saved.headers["Location"].rsplit("/", 1)[1]))
    return alert, lxml.html.fromstring(client.get(saved.headers["Location"]).get_data(as_text=True))


def cap_points(text: str) -> list[tuple[float, float]]:
    """A CAP polygon's "lat,lon" pairs as (lon, lat) points."""
    return [(float(lon), float(lat)) for lat, lon in (pair.split(",") for pair in text.split())]


def drawn_points(text: str) -> list[tuple[float, float]]:
    values = [float(value) for value in NUMBER.findall(text)]
    return list(zip(values[0::2], values[1::2]))


def operator_polygons(page: lxml.html.HtmlElement) -> dict[str, list[lxml.html.HtmlElement]]:
    found: dict[str, list[lxml.html.HtmlElement]] = {}
    for polygon in page.xpath("//svg[@id='area-map']//polygon"):
        found.setdefault(polygon.get("data-operator"), []).append(polygon)
    return found


def check_operators_cover(page: lxml.html.HtmlElement, alert: Alert, target: shapely.Geometry,
                          drawn_target: shapely.Geometry) -> None:
    """One polygon per operator, within its limit, the one its CAP message carries, covering the target: in
    degrees exactly (the CAP text), on the map within the drawing's rounding."""
    version = alert_version(db.session, alert, "console@ews.garze-ngawa.example")
    by_operator = operator_polygons(page)
    assert sorted(by_operator) == sorted(LIMITS)
    for code, [polygon] in by_operator.items():
        corners, drawn = cap_points(polygon.get("data-cap")), drawn_points(polygon.get("points"))
        assert len(drawn) == len(corners) <= LIMITS[code]
        assert Polygon(corners).covers(target)
        assert Polygon(drawn).buffer(SLACK).covers(drawn_target)
        operator = db.session.query(CbcOperator).filter_by(code=code).one()
        assert [polygon.get("data-cap")] == [" ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in each.exterior.coords)
                                             for each in version.polygons(operator.max_vertices)]
        [legend] = page.xpath(f"//ul[@id='area-map-legend']/li[@data-operator='{code}']")
        assert legend.text_content().split() == [f"{NAMES[code]}：1", "个多边形，共", f"{len(corners)}", "个顶点（上限",
                                                  f"{LIMITS[code]}）"]
    assert len(by_operator["cucc"][0].get("points").split()) < len(by_operator["cmcc"][0].get("points").split())


def test_each_operator_s_polygon_covers_the_named_area_within_its_limit(client, people, operators, hailuogou):
    sign_in(client, "officer")
    alert, page = alert_page(client, counties=None, named_areas=["hailuogou"], headline="海螺沟景区暴雨黄色预警")
    area = shape(json.loads(hailuogou.geometry_geojson))
    [outline] = page.xpath("//svg[@id='area-map']/path[@data-area='hailuogou']")
    check_operators_cover(page, alert, area, Polygon(drawn_points(outline.get("d"))))
    targeted = {path.get("data-code") for path in page.xpath("//svg[@id='area-map']/path[contains(@class, 'targeted')]")}
    assert targeted == set(alert.county_codes) == set(hailuogou.county_codes)
    legend = page.xpath("//ul[@id='area-map-legend']")[0].text_content()
    assert "命名区域：海螺沟" in legend and "预警涉及的县" in legend
    assert page.xpath("//p[@id='cbc-reach']")[0].text_content().count("中国") == 3


def test_each_operator_s_polygon_covers_the_target_counties(client, people, operators):
    sign_in(client, "officer")
    alert, page = alert_page(client)  # Kangding and Luding, named by code: their boundaries are the area
    counties = shapely.union_all([shape(boundaries("counties.geojson")[code]) for code in ("513301", "513322")])
    drawn = shapely.union_all([Polygon(points) for path in page.xpath("//svg[@id='area-map']/path[contains(@class, 'targeted')]")
                               for points in (drawn_points(ring) for ring in path.get("d").split("M") if ring)])
    check_operators_cover(page, alert, counties, drawn)
    names = [text.text_content() for text in page.xpath("//svg[@id='area-map']/text")]
    assert names == ["康定市", "泸定县"]  # the target counties named on the map, in the officer's language
    assert len(page.xpath("//svg[@id='area-map']/path[@class='county']")) > 0  # and their neighbours, not targeted


def test_the_map_stays_small_for_the_whole_region(client, people, operators):
    sign_in(client, "officer")
    every = sorted(boundaries("counties.geojson"))
    _, page = alert_page(client, counties=every)
    [svg] = page.xpath("//svg[@id='area-map']")
    assert len(lxml.html.tostring(svg)) < 60_000  # under 2 s at 256 kbit/s, as the compose page's map
    assert all(len(polygon.get("points").split()) <= LIMITS[polygon.get("data-operator")]
               for polygon in svg.xpath(".//polygon"))


def test_without_operators_the_map_shows_the_area_and_no_polygons(client, people):
    sign_in(client, "officer")
    page = lxml.html.fromstring(client.get(f"/alerts/{waiting_alert()}").get_data(as_text=True))
    assert page.xpath("//svg[@id='area-map']/path[@class='warned']") and not operator_polygons(page)
    assert "未登记此类小区广播中心" in page.xpath("//p[@id='cbc-reach']")[0].text_content()


def test_the_preview_counts_each_handset_text_in_cbs_pages_of_15(client, people, operators):
    sign_in(client, "officer")
    page = lxml.html.fromstring(client.get(f"/alerts/{waiting_alert()}").get_data(as_text=True))
    for language in ("zh", "bo"):
        [cell] = page.xpath(f"//tr[@data-channel='cell_broadcast']/td[@lang='{language}']")
        text = cell.xpath(".//div[@class='message']")[0].text_content()
        measure = cell.xpath(".//div[@class='measure']")[0].text_content()
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        assert re.match(rf"小区广播 {-(-units // 41)}/15 页（{units:,} 个单位）", measure.strip()), measure


def test_a_circle_is_drawn_as_the_cbcs_also_get_it_and_every_polygon_covers_it(client, people, operators):
    sign_in(client, "officer")
    alert, page = alert_page(client, counties=None, circle_lat="30.05", circle_lon="101.96", circle_radius_km="5")
    [circle] = alert.area["circles"]
    disc = shapely.polygons(circle_ring(Circle(circle["lat"], circle["lon"], circle["radius_km"])))
    [drawn] = page.xpath("//svg[@id='area-map']/path[@class='cap-circle']")
    check_operators_cover(page, alert, disc, Polygon(drawn_points(drawn.get("d"))))
    assert "圆形区域（同时以 CAP 圆形发送）" in page.xpath("//ul[@id='area-map-legend']")[0].text_content()
