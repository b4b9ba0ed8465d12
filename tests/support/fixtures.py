"""The fixtures more than one test directory uses, loaded as a pytest plugin by tests/conftest.py:
console users of each role (`people`), agencies with API keys (`make_agency`, `weather`, `seismic`),
the demo's targets (`demo_targets`), the app set up for Twilio's callbacks (`twilio_app`) and every channel
through the counting gateway (`counting`)."""
from __future__ import annotations

import pytest

from tests.support.console import make_user
from tests.support.gateways import register
from tests.support.twilio_callbacks import PUBLIC_BASE_URL, TOKEN
from warning_service.extensions import db, redis_client
from warning_service.models import Agency, AgencyKind, Recipient, Role
from warning_service.security.api_keys import add_key


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
