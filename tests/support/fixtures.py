"""The fixtures more than one test directory uses, loaded as a pytest plugin by tests/conftest.py:
console users of each role (`people`), agencies with API keys (`make_agency`, `weather`, `seismic`),
the demo's targets (`demo_targets`), the app set up for Twilio's callbacks (`twilio_app`), the three
operators' CBCs on loopback (`cbcs`), the named area Hailuogou as the demo has it (`hailuogou`) and every
channel through the counting gateway (`counting`)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from peers.cbc_peer import CbcPeer
from tests.support import cbc
from tests.support.console import make_user
from tests.support.gateways import register
from tests.support.twilio_callbacks import PUBLIC_BASE_URL, TOKEN
from warning_service.demo_data import scenic_areas
from warning_service.extensions import db, redis_client
from warning_service.intake.limits import DEFAULT_LIMITS
from warning_service.models import Agency, AgencyKind, NamedArea, Recipient, Role
from warning_service.security.api_keys import add_key
from warning_service.services.named_areas import add_named_area

CBC_OPERATORS = ("cmcc", "cucc", "ctcc")


@pytest.fixture
def people(app):
    for name, role in (("officer", Role.DUTY_OFFICER), ("officer2", Role.DUTY_OFFICER), ("auditor", Role.AUDITOR),
                       ("admin", Role.ADMIN)):
        make_user(name, role)
    db.session.add_all([Recipient(phone=f"+86199000000{i:02d}", languages="bo,zh", county_code=county,
                                  exercise=i % 2 == 0)
                        for i, county in enumerate(["513301", "513322"] * 3)])
    db.session.commit()


@pytest.fixture
def make_agency(app):
    def make(name: str, kind: str = "weather", hazards: list[str] | None = None, auto_publish: bool = False,
             sender: str | None = None) -> tuple[Agency, dict[str, str]]:
        agency = Agency(name=name, kind=AgencyKind(kind), hazards=hazards or ["all"], auto_publish=auto_publish,
                        cap_senders=[sender or f"{kind}.demo@ews.example"])
        db.session.add(agency)
        key = add_key(db.session, agency)
        db.session.commit()
        return agency, {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture
def weather(make_agency):
    """A weather service whose alerts wait for a duty officer."""
    return make_agency("四川省气象台", "weather", ["rainstorm", "snowstorm", "gale", "geohazard_risk"])


@pytest.fixture
def seismic(make_agency):
    """The earthquake agency: its alerts publish at once."""
    return make_agency("四川省地震局", "seismic", ["earthquake", "earthquake_early_warning", "aftershock"],
                       auto_publish=True, sender="seismic.demo@ews.example")


@pytest.fixture
def demo_targets(app):
    result = app.test_cli_runner().invoke(args=["seed", "demo", "--recipients", "1200"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def twilio_app(app, monkeypatch):
    """The app behind a proxy at PUBLIC_BASE_URL, with Twilio's auth token."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC_BASE_URL)
    return app


@pytest.fixture
def counting(app, monkeypatch):
    """Every channel through the counting gateway; yields the app's Redis, where the gateway counts."""
    register()
    for setting in ("SMS_GATEWAY", "BROADCAST_GATEWAY", "BEIDOU_GATEWAY", "CELL_BROADCAST_GATEWAY"):
        monkeypatch.setitem(app.config, setting, "counting")
    app.extensions.pop("sender", None)
    yield redis_client()
    app.extensions.pop("sender", None)


@pytest.fixture
def cbcs(app, served_app, monkeypatch) -> Iterator[dict[str, CbcPeer]]:
    """Three operators' CBCs on loopback calling back the served app, and the CAP gateway aimed at them."""
    monkeypatch.setitem(app.config, "CELL_BROADCAST_GATEWAY", "cap")
    monkeypatch.setitem(app.config, "CELL_BROADCAST_TIMEOUT_SECONDS", 1.0)
    app.extensions.pop("sender", None)
    peers = {code: CbcPeer(code, cbc.TOKEN, cbc.SECRET, callback_url=f"{served_app}/webhooks/cbc/{code}/status",
                           callback_delay=0.05, max_vertices=cbc.MAX_VERTICES, hold_seconds=3)
             for code in CBC_OPERATORS}
    for peer in peers.values():
        peer.__enter__()
    try:
        for code, peer in peers.items():
            cbc.register_cbc(code, peer)
        yield peers
    finally:
        for peer in peers.values():
            peer.__exit__(None, None, None)
        app.extensions.pop("sender", None)


@pytest.fixture
def hailuogou(app) -> NamedArea:
    """Hailuogou registered as the demo registers it (data/scenic_areas.toml): a circle of 11 km."""
    [spec] = [spec for spec in scenic_areas() if spec["code"] == "hailuogou"]
    area = add_named_area(db.session, None, "test", code=spec["code"], name_zh=spec["name_zh"], name_en=spec["name_en"],
                          name_bo=spec.get("name_bo"), source=spec["source"], accuracy=spec["accuracy"],
                          limits=DEFAULT_LIMITS, centre=(spec["lat"], spec["lon"]), radius_km=spec["radius_km"])
    db.session.commit()
    return area
