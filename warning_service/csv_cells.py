"""CSV written for people to open in a spreadsheet. A cell a spreadsheet would read as a formula
(OWASP "CSV injection": =, +, -, @, or a tab or carriage return before one) gets a leading single
quote, so text a gateway or an agency wrote (a gateway's error text, say) is shown, never run.
Every CSV the service writes goes through SafeCsvWriter; the encoding is the caller's.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> Any:
    """The cell as a spreadsheet should show it: text that would start a formula is quoted."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class SafeCsvWriter:
    """A csv.writer whose every cell is neutralised first."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])
