"""Every console and administration route, with every role and without signing in: allowed or denied as it declares.

A console route that declares no roles fails this test, so no route can go unguarded.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.support.console import console_routes, make_user, post_form, sign_in, waiting_alert
from warning_service.extensions import db
from warning_service.models import (
    Agency,
    AgencyKind,
    BeidouTerminal,
    BroadcastEndpoint,
    CbcOperator,
    NamedArea,
    Role,
    User,
)
from warning_service.services.translations import entry_by_key

ROLES = (None, Role.ADMIN, Role.DUTY_OFFICER, Role.AUDITOR, Role.TRANSLATOR)
# Reached before signing in fully (between the password and the second factor): they check that state
# themselves, and are walked by tests/abuse/test_sessions.py instead.
SIGN_IN_STEPS = {"auth.logout", "auth.second_factor", "auth.enrol"}


def test_every_console_route_declares_its_roles(app):
    routes = console_routes(app)
    assert {endpoint for endpoint, _, _ in routes} >= {"console.inbox", "console.alert_page", "console.publish_alert",
                                                       "console.cancel_alert", "auth.logout", "reports.alert_report",
                                                       "reports.alert_report_pdf", "reports.period", "desk.queue",
                                                       "desk.entry", "desk.propose", "desk.approve"}
    for endpoint, _, _ in routes:
        if endpoint not in SIGN_IN_STEPS:  # any signed-in user may sign out
            assert getattr(app.view_functions[endpoint], "roles", None), f"{endpoint} declares no roles"


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value if role else "anonymous")
def test_each_role_gets_what_the_route_allows(app, client, people, role):
    alert_id = waiting_alert()
    agency = Agency(name="walk agency", kind=AgencyKind.WEATHER, hazards=["rainstorm"], cap_senders=["walk@test"])
    endpoint = BroadcastEndpoint(county_code="513301", name="walk platform", url="https://ebm.test/x", secret="s")
    terminal = BeidouTerminal(card_address="0400001", county_code="513301", name="walk terminal")
    triangle = '{"type":"Polygon","coordinates":[[[101.9,30.0],[102.0,30.0],[102.0,30.1],[101.9,30.0]]]}'
    area = NamedArea(code="walk", name_zh="步行区", name_en="walk area", geometry_geojson=triangle,
                     county_codes=["513301"], source="test", accuracy="approximate")
    operator = CbcOperator(code="walk", name="walk operator", url="https://cbc.test/cap", token="t",
                           callback_secret="s")
    db.session.add_all([agency, endpoint, terminal, area, operator])
    db.session.commit()
    ids = {"alert_id": alert_id, "user_id": db.session.scalar(select(User.id).where(User.username == "officer2")),
           "agency_id": agency.id, "endpoint_id": endpoint.id, "terminal_id": terminal.id,
           "area_id": area.id, "operator_id": operator.id, "key_id": 999999, "delivery_id": 999999,
           "entry_id": entry_by_key(db.session, "action:rainstorm:yellow").id}
    db.session.commit()
    if role is not None:
        if role == Role.TRANSLATOR:
            make_user("translator", role)
        name = {Role.ADMIN: "admin", Role.DUTY_OFFICER: "officer", Role.AUDITOR: "auditor",
                Role.TRANSLATOR: "translator"}[role]
        assert sign_in(client, name).status_code == 302
    # A registrable target kind is one route for every kind (/admin/<kind>/<id>): walk each kind with its row.
    target_of_kind = {"broadcast": endpoint.id, "beidou": terminal.id}
    for endpoint_name, method, rule in console_routes(app):
        if endpoint_name in SIGN_IN_STEPS:
            continue
        _check(app, client, role, alert_id, endpoint_name, method, _path(rule, ids, target_of_kind))


def _path(rule: str, ids: dict[str, int], target_of_kind: dict[str, int]) -> str:
    path = rule
    for name, value in ids.items():
        path = re.sub(rf"<\w+:{name}>", str(value), path)
    kind = re.match(r"/admin/(\w+)/<int:target_id>", path)
    if kind is not None:
        assert kind.group(1) in target_of_kind, f"give the walk a row of the kind in {rule}"
        path = path.replace("<int:target_id>", str(target_of_kind[kind.group(1)]))
    assert "<" not in path, f"give the walk a value for {path}"
    return path


def _check(app, client, role, alert_id: int, endpoint: str, method: str, path: str) -> None:
    allowed = getattr(app.view_functions[endpoint], "roles", frozenset())
    if method == "GET":
        status = client.get(path).status_code
    else:
        # a page that carries a CSRF token
        form_page = "/login" if role is None else "/translations/" if role == Role.TRANSLATOR else f"/alerts/{alert_id}"
        status = post_form(client, path, form_page, confirm_status="Other").status_code
    if role is None:
        assert status == 302, (endpoint, method, status)  # to the login page
    elif role in allowed:  # let in: it answers, or says what is wrong with the junk form
        assert status in (200, 201, 303, 400, 404, 409, 422), (endpoint, method, role, status)
    else:
        assert status == 403, (endpoint, method, role, status)
