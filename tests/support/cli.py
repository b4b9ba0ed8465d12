"""The `flask` commands in tests: what a refusal must look like."""
from __future__ import annotations


def assert_refused(result, *phrases: str) -> None:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output
