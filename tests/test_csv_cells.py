"""CSV cells a spreadsheet would run as a formula are quoted, and every CSV the service writes says so."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from warning_service.csv_cells import SafeCsvWriter, neutralise

PACKAGE = Path(__file__).resolve().parent.parent / "warning_service"


@pytest.mark.parametrize("cell", ["=1+1", "+86138", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                                  '=HYPERLINK("http://evil.example","x")'])
def test_a_cell_that_starts_a_formula_is_quoted(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["not a valid phone number", "138****5678", "a=b", " =1", "", 42, -1, None])
def test_other_cells_are_left_alone(cell):
    assert neutralise(cell) == cell


def test_the_writer_quotes_every_cell_and_csv_reads_them_back():
    buffer = io.StringIO()
    SafeCsvWriter(buffer).writerow(["=cmd|' /C calc'!A0", "ok", 7, "-1", "@x"])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=cmd|' /C calc'!A0", "ok", "7", "'-1", "'@x"]


def test_no_module_writes_csv_but_through_the_safe_writer():
    writers = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
               if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))]
    # The one other writer puts the desk's approved names back into the reference data (counties.csv) cell
    # for cell, a file the program reads, not one handed to a spreadsheet.
    assert sorted(writers) == ["csv_cells.py", "services/translations.py"]
