"""Agencies with keys, for the API tests."""
from __future__ import annotations

import pytest

from warning_service.extensions import db
from warning_service.models import Agency, AgencyKind
from warning_service.security.api_keys import add_key


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
