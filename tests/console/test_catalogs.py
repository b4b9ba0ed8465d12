"""The interface catalogs against the code: every word the console marks for translation has a Chinese and
a Tibetan entry (the Tibetan a sourced one or a marked Chinese stand-in, never empty), and messages.pot, the
translators' template, is what the code marks today (babel.cfg's extraction), not an older state."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "warning_service" / "translations"
STAND_IN = "awaiting review: no sourced Tibetan; Chinese stand-in"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    """The template as `pybabel extract` makes it now, with babel.cfg's command line."""
    command = (ROOT / "babel.cfg").read_text(encoding="utf-8").splitlines()[0].removeprefix("# ").split()
    assert command[:2] == ["pybabel", "extract"], command
    output = tmp_path_factory.mktemp("pot") / "messages.pot"
    arguments = command[2:]
    arguments[arguments.index("-o") + 1] = str(output)
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", *arguments[:-1], "."],
                   cwd=ROOT, check=True, capture_output=True)
    return _read(output)


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _ids(catalog: Catalog) -> set:
    return {message.id for message in catalog if message.id}


def test_messages_pot_is_what_the_code_marks_today(extracted):
    committed = _ids(_read(CATALOGS / "messages.pot"))
    marked = _ids(extracted)
    assert marked - committed == set(), "run babel.cfg's first line: messages.pot lacks these"
    assert committed - marked == set(), "run babel.cfg's first line: messages.pot still has these"


@pytest.mark.parametrize("language", ["zh", "bo"])
def test_every_marked_word_has_an_entry_in_each_interface_language(extracted, language):
    catalog = _read(CATALOGS / language / "LC_MESSAGES" / "messages.po")
    empty = [message.id for message in extracted if message.id and not _translated(catalog.get(message.id))]
    assert empty == []
    if language == "bo":  # a Chinese stand-in says so, for the desk and for the reader of the file
        unmarked = [message.id for message in catalog if message.id and message.string
                    and _chinese(message.string) and not any(STAND_IN in comment for comment in message.auto_comments)]
        assert unmarked == []


def _translated(message) -> bool:
    if message is None:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


def _chinese(text) -> bool:
    strings = text if isinstance(text, tuple) else (text,)
    return any("\u4e00" <= char <= "\u9fff" for string in strings for char in string)
