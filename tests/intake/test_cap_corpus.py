"""parse_cap_xml on 42 real messages from real alerting authorities (tests/data/cap-real).

Every file gives either an AlertMessage that keeps every <info>, or a clear 400/422;
never another exception. Sources and licences: tests/data/cap-real/INDEX.csv and README.md.
"""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from lxml import etree

from warning_service.cap.message import AlertMessage
from warning_service.intake.cap_xml import parse_cap_xml
from warning_service.intake.errors import IntakeError

CORPUS = Path(__file__).resolve().parent.parent / "data" / "cap-real"
FILES = sorted(CORPUS.glob("*.xml"))
INDEX = {row["file"]: row for row in csv.DictReader((CORPUS / "INDEX.csv").open(encoding="utf-8"))}

# The two files that break CAP 1.2 itself (README.md); the six CAP 1.1 files pass their own schema.
EXPECTED_FAILURES = {
    "krisinformation-se_news.xml": "senderName",  # <senderName> after <description>
    "smhi-se_alerts-wrapper-17.xml": "<alerts>",  # 17 alerts in a non-standard wrapper
}


def info_count(data: bytes) -> int:
    """Counted apart from the parser under test, whatever the namespace or wrapper."""
    return int(etree.fromstring(data).xpath("count(//*[local-name()='info'])"))


def parse_or_refuse(data: bytes) -> AlertMessage | IntakeError:
    try:
        return parse_cap_xml(data)
    except IntakeError as error:
        return error


def test_the_corpus_is_complete_and_unchanged():
    assert [path.name for path in FILES] == sorted(INDEX)
    for path in FILES:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == INDEX[path.name]["sha256"], path.name


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_real_message_parses_or_is_refused_cleanly(path):
    data = path.read_bytes()

    result = parse_or_refuse(data)
    if path.name in EXPECTED_FAILURES:
        assert isinstance(result, IntakeError)
        assert result.status == 422
        assert EXPECTED_FAILURES[path.name] in result.detail + " ".join(item.message for item in result.errors)
        return
    assert isinstance(result, AlertMessage), f"{path.name}: {result}"
    assert len(result.infos) == info_count(data)
    assert result.format == {"1.2": "cap1.2", "1.1": "cap1.1"}[INDEX[path.name]["cap_version"]]
    assert result.sent.tzinfo is not None
    assert result.identifier and result.sender


def test_exactly_the_expected_files_fail():
    failing = {path.name for path in FILES if isinstance(parse_or_refuse(path.read_bytes()), IntakeError)}

    assert failing == set(EXPECTED_FAILURES)


def test_all_six_cap11_files_are_read_as_cap11():
    cap11 = [path for path in FILES if INDEX[path.name]["cap_version"] == "1.1"]

    formats = [parse_cap_xml(path.read_bytes()).format for path in cap11]

    assert len(cap11) == 6
    assert formats == ["cap1.1"] * 6


def test_the_largest_polygon_keeps_all_its_points():
    data = (CORPUS / "wmo-composer-bf_thunderstorm-fr-signed.xml").read_bytes()
    polygon_text = etree.fromstring(data).xpath("string(//*[local-name()='polygon'])")

    message = parse_cap_xml(data)

    [polygon] = message.infos[0].areas[0].polygons
    assert len(polygon) == len(polygon_text.split()) == 41_009
    assert polygon[0] == tuple(float(number) for number in polygon_text.split()[0].split(","))


def test_dwd_keeps_its_eight_languages_in_order():
    message = parse_cap_xml((CORPUS / "dwd_thunderstorm-8lang-alert.xml").read_bytes())

    assert [info.language for info in message.infos] == ["de-DE", "en", "fr", "es", "ar", "ru", "tr", "pl"]


def test_iso_8859_1_file_decodes_its_accents():
    message = parse_cap_xml((CORPUS / "usgs_earthquake-iso8859-1-signed.xml").read_bytes())

    assert "Usulután" in message.infos[0].description


def test_a_cancel_without_info_keeps_its_reference():
    message = parse_cap_xml((CORPUS / "athoc_cancel-no-info-signed.xml").read_bytes())

    assert message.msg_type == "Cancel"
    assert message.infos == []
    assert [reference.sender for reference in message.references] == ["AtHoc"]
