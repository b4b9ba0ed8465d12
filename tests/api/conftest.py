"""The API tests' own fixture: the CAP 1.2 schema the service's CAP out must pass."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "warning_service" / "data" / "cap" / "CAP-v1.2.xsd"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
