"""The abuse suite reuses the API's agencies and the console's people rather than defining its own."""
from tests.api.conftest import make_agency, seismic, weather  # noqa: F401  (fixtures)
from tests.console.conftest import people  # noqa: F401  (fixture)
