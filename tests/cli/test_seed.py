"""`flask seed regions` and `flask seed demo`: idempotent, and a demo set worth demonstrating with."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from warning_service import demo_data
from warning_service.extensions import db
from warning_service.hazards import catalogue
from warning_service.models import (
    LANGUAGE_CHOICES,
    Agency,
    AgencyKind,
    AuditEvent,
    BeidouTerminal,
    BroadcastEndpoint,
    CbcOperator,
    County,
    NamedArea,
    Prefecture,
    Recipient,
    Role,
    User,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_regions_is_idempotent(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed", "regions"])
        assert result.exit_code == 0, result.output
        assert "2 prefectures, 31 counties" in result.output
    assert count(Prefecture) == 2
    assert count(County) == 31


def test_seed_demo_twice_gives_one_demo_set(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed", "demo", "--recipients", "500"])
        assert result.exit_code == 0, result.output
    assert "recipients: 500 (0 new)" in result.output
    assert "demo-admin / demo-admin-pass" in result.output

    assert count(Recipient) == 500
    counties = set(db.session.scalars(select(County.code)))
    assert set(db.session.scalars(select(Recipient.county_code).distinct())) == counties
    assert set(db.session.scalars(select(Recipient.languages).distinct())) == set(LANGUAGE_CHOICES)
    phones = list(db.session.scalars(select(Recipient.phone)))
    assert len(set(phones)) == 500
    assert all(re.fullmatch(r"\+861\d{10}", phone) for phone in phones)
    assert 0 < db.session.scalar(select(func.count()).where(Recipient.exercise)) < 100

    beidou = db.session.scalars(select(Recipient).where(Recipient.beidou_terminal_id.is_not(None))).all()
    assert beidou and all(r.channels == ["sms", "beidou"] and r.beidou_terminal.county_code == r.county_code
                          for r in beidou)
    assert all(r.beidou_terminal.exercise == r.exercise for r in beidou)

    endpoints = db.session.scalars(select(BroadcastEndpoint)).all()
    regular = [e for e in endpoints if not e.exercise]
    assert sorted(e.county_code for e in regular) == sorted(counties)
    assert len([e for e in endpoints if e.exercise]) == 2
    assert len({e.secret for e in endpoints}) == len(endpoints)
    assert all(e.url == f"http://127.0.0.1:8701/ebm/{e.county_code}" for e in regular)

    terminals = db.session.scalars(select(BeidouTerminal)).all()
    assert len(terminals) == 31 * demo_data.TERMINALS_PER_COUNTY
    assert all(re.fullmatch(r"\d{7}", t.card_address) for t in terminals)
    assert any(t.exercise for t in terminals)

    agencies = db.session.scalars(select(Agency)).all()
    assert sorted(a.kind for a in agencies) == sorted(AgencyKind)
    assert all("(demo)" in a.name for a in agencies)
    for agency in agencies:
        assert agency.hazards == ["all"] or all(catalogue().get(code) for code in agency.hazards)
    seismic = next(a for a in agencies if a.kind is AgencyKind.SEISMIC)
    assert seismic.auto_publish and seismic.default_sender == "seismic.demo@ews.example"

    users = {u.username: u for u in db.session.scalars(select(User))}
    assert {u.role for u in users.values()} == set(Role)
    assert users["demo-officer2"].role is Role.DUTY_OFFICER
    assert users["demo-admin"].check_password("demo-admin-pass")

    areas = db.session.scalars(select(NamedArea)).all()
    assert sorted(a.code for a in areas) == sorted(spec["code"] for spec in demo_data.scenic_areas())
    assert all(a.active and a.county_codes and a.accuracy.startswith(("approximate", "rough")) for a in areas)
    assert "named_areas: 8 (0 new)" in result.output

    operators = db.session.scalars(select(CbcOperator).order_by(CbcOperator.code)).all()
    assert [(o.code, o.exercise, o.active) for o in operators] == [(code, False, True) for code in ("cmcc", "ctcc", "cucc")]
    assert all(o.failover_url and o.token and o.callback_secret for o in operators)
    assert "cbc_operators: 3 (0 new)" in result.output

    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    # the areas and the operators once, through their registries
    assert actions == ["named_area.add"] * 8 + ["cbc_operator.add"] * 3 + ["seed.demo"] * 2


def test_seed_demo_after_the_endpoints_were_aimed_at_the_peers_adds_none(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo", "--recipients", "10"]).exit_code == 0
    secrets = demo_data.point_demo_endpoints(db.session, "http://127.0.0.1:18701/ebm")
    db.session.commit()
    result = runner.invoke(args=["seed", "demo", "--recipients", "10"])
    assert result.exit_code == 0, result.output
    endpoints = db.session.scalars(select(BroadcastEndpoint)).all()
    assert len(endpoints) == 31 + 2
    assert {e.url.removeprefix("http://127.0.0.1:18701/ebm/"): e.secret for e in endpoints} == secrets


def test_seed_demo_tops_up_recipients(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo", "--recipients", "40"]).exit_code == 0
    first = set(db.session.scalars(select(Recipient.phone)))
    result = runner.invoke(args=["seed", "demo", "--recipients", "120"])
    assert result.exit_code == 0, result.output
    assert "recipients: 120 (80 new)" in result.output
    assert first < set(db.session.scalars(select(Recipient.phone)))
    assert count(Recipient) == 120


def test_recipient_rows_are_deterministic_for_a_seed():
    terminals = {code: demo_data.CountyTerminals((1, 2), 3) for code in demo_data.DEMO_COUNTIES}
    now = demo_data.utcnow()

    def rows(seed: int) -> list[dict]:
        chunks = demo_data.recipient_chunks(0, 300, seed, terminals, chunk_size=64)
        return [{**row, "created_at": now} for chunk in chunks for row in chunk]

    assert [r["phone"] for r in rows(1)] == [demo_data.demo_phone(i) for i in range(300)]
    assert rows(7) == rows(7)
    assert rows(7) != rows(8)
    assert len({demo_data.demo_phone(i) for i in range(100_000)}) == 100_000


def test_demo_counties_match_the_reference_data(app):
    assert set(db.session.scalars(select(County.code))) == set(demo_data.DEMO_COUNTIES)
