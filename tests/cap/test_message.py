"""The CAP message's shared helpers (warning_service.cap.message)."""
from decimal import Decimal

from warning_service.cap.message import parse_number


def test_parse_number_accepts_numbers_only() -> None:
    assert parse_number(" 6.8 ") == Decimal("6.8")
    assert parse_number("about 6") is None
    assert parse_number("NaN") is None
    assert parse_number("Infinity") is None
