"""The abuse suite reuses the API's agencies, the console's people and the fan-out's targets."""
from tests.api.conftest import make_agency, seismic, weather  # noqa: F401  (fixtures)
from tests.api.test_twilio_webhook import twilio_app  # noqa: F401  (fixture)
from tests.console.conftest import people  # noqa: F401  (fixture)
from tests.dispatch.conftest import demo_targets  # noqa: F401  (fixture)
