"""A hazard's own parameters (hazards.toml `parameters`) must be numbers in range; others pass as CAP allows."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.cap_builder import minimal, parse
from warning_service.hazards import PARAMETER_RULES, catalogue
from warning_service.intake.errors import IntakeError
from warning_service.intake.interpret import interpret

EXPIRES = (datetime.now(UTC) + timedelta(hours=6)).isoformat()


def interpreted(hazard: str, parameters: dict, level: str | None = None):
    body = minimal(hazard=hazard, expires=EXPIRES, parameters=parameters, **({"level": level} if level else {}))
    return interpret(parse(body), catalogue())


def test_the_catalogue_gives_earthquakes_their_seismic_parameters_and_rain_to_rainstorms():
    assert catalogue().get("earthquake").parameters == ("magnitude", "depth_km", "latitude", "longitude")
    assert catalogue().get("rainstorm").parameters == ("rain_mm",)
    assert catalogue().get("fog").parameters == ()
    assert {name for hazard in catalogue() for name in hazard.parameters} == set(PARAMETER_RULES)


@pytest.mark.parametrize(("parameters", "problem"), [
    ({"magnitude": "11"}, "outside 0 to 10"),
    ({"magnitude": "M6.8"}, "must be a number"),
    ({"depth_km": "-3"}, "outside 0 to 700"),
    ({"latitude": "NaN"}, "must be a number"),
])
def test_an_earthquakes_bad_parameter_is_422_at_its_name(parameters, problem):
    with pytest.raises(IntakeError) as caught:
        interpreted("earthquake", parameters)
    [error] = caught.value.errors
    assert error.location == f"parameters.{next(iter(parameters))}" and problem in error.message


def test_good_parameters_and_those_a_hazard_does_not_define_pass():
    draft = interpreted("earthquake", {"magnitude": 6.8, "depth_km": 16, "felt": "strongly"})
    assert draft.parameters["magnitude"] == "6.8"
    rain = interpreted("rainstorm", {"rain_mm": 80, "magnitude": "not a rainstorm's"}, level="yellow")
    assert rain.parameters["magnitude"] == "not a rainstorm's"  # free CAP parameter, not checked
    with pytest.raises(IntakeError):
        interpreted("rainstorm", {"rain_mm": 5000}, level="yellow")
