"""Every route: the API's authorisation matrix (anonymous, another agency's key, a revoked key, a console
session without a key), forms posted without a CSRF token, and the security headers on every answer.
The console's routes by role are walked by tests/console/test_routes_by_role.py; its route list is reused."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.support.api import good_body, post
from tests.support.console import console_routes, csrf_token, post_form, sign_in, waiting_alert
from warning_service.extensions import db
from warning_service.models import Alert, ApiKey, AuditEvent, Role, utcnow
from warning_service.web import SECURITY_HEADERS

PUBLIC_API = {"api.list_hazards", "api.feed", "api.get_public_alert_cap", "api.openapi"}


def api_routes(app) -> list[tuple[str, str, str]]:
    return [(rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def call(client, method: str, rule: str, alert_id: int, headers: dict[str, str]):
    path = rule.replace("<int:alert_id>", str(alert_id))
    if method == "GET":
        return client.get(path, headers=headers)
    return post(client, headers, good_body("MATRIX-1")) if path.endswith("/alerts") else \
        client.post(path, data=good_body("MATRIX-1"), headers={**headers, "Content-Type": "application/cap+xml"})


@pytest.fixture
def weather_alert(client, weather) -> int:
    created = post(client, weather[1], good_body("OWN-1"))
    assert created.status_code == 201
    return created.get_json()["id"]


def test_every_keyed_api_route_refuses_the_anonymous_and_the_revoked(app, client, weather, weather_alert):
    routes = [route for route in api_routes(app) if route[0] not in PUBLIC_API]
    assert len(routes) >= 5
    for endpoint, method, rule in routes:
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic " + weather[1]["Authorization"][7:]}):
            assert call(client, method, rule, weather_alert, headers).status_code == 401, (endpoint, headers)
    for api_key in db.session.scalars(select(ApiKey).where(ApiKey.agency_id == weather[0].id)):
        api_key.revoked_at = utcnow()
    db.session.commit()
    for endpoint, method, rule in routes:
        assert call(client, method, rule, weather_alert, weather[1]).status_code == 401, endpoint
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1


def test_another_agencys_key_reaches_nothing_of_this_agency(app, client, weather, make_agency, weather_alert):
    _, other = make_agency("旅游局", "tourism", ["rainstorm"], sender="tourism.demo@ews.example")
    for endpoint, method, rule in api_routes(app):
        if "<int:alert_id>" in rule and endpoint not in PUBLIC_API:
            assert call(client, method, rule, weather_alert, other).status_code == 403, endpoint
    listing = client.get("/api/v1/alerts", headers=other).get_json()
    assert listing["total"] == 0 and listing["items"] == []
    # The public copy of an alert waiting for review is no more public for another agency.
    assert client.get(f"/api/v1/public/alerts/{weather_alert}/cap", headers=other).status_code == 404


@pytest.mark.parametrize("name", ["admin", "officer", "auditor"])
def test_a_console_session_is_no_api_key(app, client, people, weather, weather_alert, name):
    assert sign_in(client, name).status_code == 302
    for endpoint, method, rule in api_routes(app):
        if endpoint not in PUBLIC_API:
            assert call(client, method, rule, weather_alert, {}).status_code == 401, (name, endpoint)


@pytest.mark.parametrize("name", ["admin", "officer"])
def test_every_form_post_without_a_csrf_token_is_refused(app, client, people, name):
    """A forged cross-site form (signed in, no token) changes nothing, on every POST route."""
    alert_id = waiting_alert()
    assert sign_in(client, name).status_code == 302
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    posts = [(endpoint, rule) for endpoint, method, rule in console_routes(app) if method == "POST"]
    assert len(posts) >= 8
    for endpoint, rule in posts + [("auth.login", "/login")]:
        path = re.sub(r"<\w+:\w+>", "1", rule.replace("<int:alert_id>", str(alert_id)))
        response = client.post(path, data={"confirm_status": "Actual", "username": "x", "password": "y",
                                           "reason": "forged", "language": "en"})
        assert response.status_code == 400, (endpoint, response.status_code)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_security_headers_on_every_answer(app, client, people, weather, weather_alert):
    """Pages, API answers, errors, redirects and static files all carry the headers."""
    signed_in = sign_in(client, "admin")
    answers = [signed_in, client.get("/static/console/console.css"), client.get("/healthz"), client.get("/no-such-page"),
               client.post("/api/v1/alerts", data=b"<x", headers=weather[1])]
    for _endpoint, method, rule in console_routes(app) + api_routes(app):
        if method == "GET":
            path = rule.replace("<bigid:delivery_id>", "1").replace("<int:user_id>", "1")
            answers.append(call(client, method, path, weather_alert, weather[1]))
    answers.append(client.post("/logout", data={}))  # without its token: 400
    answers.append(client.get("/login"))
    assert {answer.status_code for answer in answers} >= {200, 302, 400, 404}
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.request.path, name)
    assert "frame-ancestors 'none'" in SECURITY_HEADERS["Content-Security-Policy"]
    assert "'unsafe-inline'" not in SECURITY_HEADERS["Content-Security-Policy"]


def test_a_nul_character_in_any_form_or_query_is_refused_before_it_reaches_the_database(app, client, people):
    """PostgreSQL cannot store or compare a NUL: every POST route and a search answer 400, nothing changes."""
    alert_id = waiting_alert()
    assert sign_in(client, "admin").status_code == 302
    token = csrf_token(client, "/admin/")
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    posts = [rule for endpoint, method, rule in console_routes(app) if method == "POST"]
    for rule in posts:
        path = re.sub(r"<\w+:\w+>", "1", rule.replace("<int:alert_id>", str(alert_id)))
        response = client.post(path, data={"csrf_token": token, "reason": "nul\x00byte", "username": "a\x00"})
        assert response.status_code == 400, (rule, response.status_code)
        assert "NUL" in response.get_data(as_text=True)
    assert client.get(f"/reports/alerts/{alert_id}/log?county=51\x0033").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events



# Beyond PostgreSQL's integer and bigint (and SQLite's 64-bit integer), and below them.
HUGE_IDS = (2**31, 2**63 - 1, 2**63, 10**30, -(2**63) - 1, -(10**30))
ID_ARGUMENT = re.compile(r"<[^>]*:(\w+_id)>")


def with_huge_ids(rule: str) -> list[str]:
    return [ID_ARGUMENT.sub(str(huge), rule) for huge in HUGE_IDS]


@pytest.mark.parametrize("name, role", [("admin", Role.ADMIN), ("officer", Role.DUTY_OFFICER),
                                        ("auditor", Role.AUDITOR)])
def test_huge_and_negative_ids_answer_404_on_every_console_route(app, client, people, name, role):
    """Walked by each role the route lets in, so the id reaches the handler's lookup (a 500 before)."""
    assert sign_in(client, name).status_code == 302
    routes = [(endpoint, method, rule) for endpoint, method, rule in console_routes(app)
              if ID_ARGUMENT.search(rule) and role in app.view_functions[endpoint].roles]
    assert routes
    for endpoint, method, rule in routes:
        for path in with_huge_ids(rule):
            answer = client.get(path) if method == "GET" else \
                post_form(client, path, "/reports/period", confirm_status="Actual", reason="a reason long enough")
            assert answer.status_code == 404, (endpoint, path, answer.status_code)


def test_huge_and_negative_ids_answer_404_on_every_api_route(app, client, weather):
    routes = [(endpoint, method, rule) for endpoint, method, rule in api_routes(app) if ID_ARGUMENT.search(rule)]
    assert {endpoint for endpoint, _, _ in routes} >= {"api.get_alert", "api.get_alert_cap", "api.get_public_alert_cap"}
    for endpoint, method, rule in routes:
        for path in with_huge_ids(rule):
            answer = call(client, method, path, 0, weather[1])
            assert answer.status_code == 404, (endpoint, path, answer.status_code)
            assert answer.mimetype == "application/problem+json"
