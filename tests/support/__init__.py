"""What the tests share: helpers by area (console, dispatch, api, reports, ...) and the fixtures used in more
than one test directory (fixtures.py, loaded as a pytest plugin by tests/conftest.py). A test imports
helpers from here, never from another test module or a conftest."""
