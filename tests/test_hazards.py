"""The hazard catalogue (templates_bo_zh/hazards.toml) and warning_service.hazards."""
from __future__ import annotations

import ast
import csv
import re
import sys
import tomllib
import unicodedata
from pathlib import Path

import pytest

from warning_service import hazards
from warning_service.hazards import CatalogueError, catalogue, level_from_severity, level_from_text, load_catalogue

TEMPLATES = Path(__file__).resolve().parent.parent / "templates_bo_zh"
GLOSSARY = TEMPLATES / "glossary.csv"
TIBETAN = re.compile(r"[\u0f00-\u0fff]")

ALL_CODES = {
    "earthquake", "earthquake_early_warning", "aftershock", "landslide", "debris_flow", "rockfall",
    "geohazard_risk", "rainstorm", "flash_flood", "flood", "glacial_lake_outburst", "reservoir_discharge",
    "snowstorm", "cold_wave", "gale", "hail", "lightning", "frost", "fog", "road_icing", "heat", "drought",
    "forest_fire", "grassland_fire", "scenic_crowding", "road_closure",
}


def glossary_rows() -> list[dict[str, str]]:
    with open(GLOSSARY, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def strings_in(value: object) -> list[str]:
    """Every string anywhere in a parsed TOML document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


# --- the shipped catalogue ------------------------------------------------------

def test_catalogue_loads_with_all_26_codes_in_file_order() -> None:
    loaded = catalogue()
    codes = [hazard.code for hazard in loaded]
    assert len(loaded) == 26 and set(codes) == ALL_CODES
    assert [hazard.code for hazard in loaded.all()] == codes
    assert codes[:2] == ["earthquake", "earthquake_early_warning"]
    assert loaded.get("rainstorm").names["zh"] == "暴雨" and loaded.get("tsunami") is None
    assert catalogue() is loaded


def test_sourced_tibetan_names_are_verbatim_glossary_terms() -> None:
    glossary_bo = {row["bo"] for row in glossary_rows() if row["bo"]}
    sourced = [hazard for hazard in catalogue() if hazard.bo_status == "sourced"]
    assert sourced, "at least the glossary's attested hazards (地震, 暴雨, 洪水 …) are sourced"
    for hazard in sourced:
        assert hazard.names["bo"] in glossary_bo, hazard.code
        assert "glossary.csv row" in hazard.bo_source, hazard.code


def test_awaiting_review_names_are_empty_and_candidates_are_attested_in_glossary_notes() -> None:
    notes = " ".join(row["note"] for row in glossary_rows())
    for hazard in catalogue():
        if hazard.bo_status == "awaiting_review":
            assert hazard.names["bo"] == "", hazard.code
        else:
            assert hazard.bo_candidates == (), hazard.code
        for candidate in hazard.bo_candidates:
            assert candidate in notes, (hazard.code, candidate)


def test_every_tibetan_string_is_nfc_without_discouraged_vowel_signs() -> None:
    with open(TEMPLATES / "hazards.toml", "rb") as handle:
        document = tomllib.load(handle)
    tibetan = [text for text in strings_in(document) if TIBETAN.search(text)]
    tibetan += [row["bo"] for row in glossary_rows() if row["bo"]]
    assert tibetan
    for text in tibetan:
        assert unicodedata.is_normalized("NFC", text), text
        assert not {"\u0f73", "\u0f75", "\u0f81"} & set(text), text


def test_every_alias_leads_back_to_its_own_hazard() -> None:
    loaded = catalogue()
    for hazard in loaded:
        for alias in (hazard.names["zh"], hazard.names["en"], *hazard.zh_aliases, *hazard.cap_events):
            matched = loaded.match_event_name(alias)
            assert matched and matched[0] is hazard, (hazard.code, alias, matched and matched[0].code)


def test_levels_queues_and_actions_agree() -> None:
    for hazard in catalogue():
        assert set(hazard.priority) == set(hazard.levels)
        assert set(hazard.actions) == {*hazard.levels, "default"}
        assert all(action["zh"] and action["en"] for action in hazard.actions.values())
        if "red" in hazard.levels:
            assert hazard.queue_for("red") == "critical", hazard.code


# --- event names and codes ----------------------------------------------------------

@pytest.mark.parametrize("text, code, level", [
    ("暴雨橙色预警", "rainstorm", "orange"),
    ("暴雪红色预警信号", "snowstorm", "red"),
    ("地质灾害气象风险黄色预警", "geohazard_risk", "yellow"),
    ("森林火险橙色预警", "forest_fire", "orange"),
    ("大风蓝色预警", "gale", "blue"),
    ("地震预警", "earthquake_early_warning", None),
    ("地震", "earthquake", None),
    ("泥石流橙色预警", "debris_flow", "orange"),
    ("山洪灾害红色预警", "flash_flood", "red"),
    ("河南省气象局发布大风蓝色预警[IV级/一般]", "gale", "blue"),
    ("暴雨蓝色预警升级为橙色预警", "rainstorm", "orange"),
    ("  暴 雨  橙色 预警 ", "rainstorm", "orange"),
    ("森林（草原）火险黄色预警", "forest_fire", "yellow"),
    ("强降雨引发泥石流", "debris_flow", None),
    ("甘孜州暴雨诱发地质灾害气象风险预警", "geohazard_risk", None),
    ("地震红色预警", "earthquake", None),  # an earthquake has no colour levels
    ("Rainstorm", "rainstorm", None),
    ("Heavy Rain Warning", "rainstorm", None),
    ("  heavy   RAIN  ", "rainstorm", None),
    ("Earthquake", "earthquake", None),
    ("Earthquake Early Warning", "earthquake_early_warning", None),
    ("Landslide", "landslide", None),
    ("Landslides", "landslide", None),
    ("Red Rainstorm Warning", "rainstorm", "red"),
    ("Amber wind warning", "gale", "orange"),
    ("Flash Flood Warning", "flash_flood", None),
    ("Wind Chill Warning", "cold_wave", None),
    ("Freezing Rain", "road_icing", None),
])
def test_match_event_name(text: str, code: str, level: str | None) -> None:
    matched = catalogue().match_event_name(text)
    assert matched is not None, text
    assert (matched[0].code, matched[1]) == (code, level)


@pytest.mark.parametrize("text", ["", "   ", "Tsunami Warning", "Child Abduction", "石流", "Rainfallx", "火"])
def test_match_event_name_unknown(text: str) -> None:
    assert catalogue().match_event_name(text) is None


def test_event_names_are_remembered_within_bounds_and_a_long_one_is_matched_all_the_same() -> None:
    """Matches are remembered (intake meets the same names again and again), but only so many, and never
    a name longer than a real one: a hostile sender cannot grow the memory of a process."""
    loaded = load_catalogue(hazards.CATALOGUE_PATH)
    for serial in range(hazards.MATCHED_NAMES_KEPT + 50):
        assert loaded.match_event_name(f"暴雨橙色预警 {serial}")[0].code == "rainstorm"
    long_name = "说明" * hazards.MATCHED_NAME_MAX_CHARS + "暴雨红色预警"
    matched = loaded.match_event_name(long_name)
    assert matched is not None and (matched[0].code, matched[1]) == ("rainstorm", "red")
    remembered = loaded._matched_names.cache_info()
    assert remembered.currsize == hazards.MATCHED_NAMES_KEPT
    assert remembered.misses == hazards.MATCHED_NAMES_KEPT + 50, "the long name was not remembered"
    assert loaded.match_event_name("暴雨橙色预警 0") == loaded.match_event_name("暴雨橙色预警 0")


@pytest.mark.parametrize("value_name, value, code", [
    ("EWS-HAZARD", "rainstorm", "rainstorm"),
    (" ews-hazard ", " Debris_Flow ", "debris_flow"),
    ("EWS-HAZARD", "earthquake_early_warning", "earthquake_early_warning"),
    ("OET:v1.2", "OET-068", "earthquake"),
    ("OET", "oet-119", "landslide"),
    ("OET:v1.2", "OET-056", "debris_flow"),
    ("OET:v1.2", "OET-081", "flood"),
    ("OET:v1.2", "OET-079", "flash_flood"),
    ("eventType", "11B03", "rainstorm"),
    ("", "11B06", "gale"),
    ("GB/T 35965", "11b17", "fog"),
])
def test_match_event_code(value_name: str, value: str, code: str) -> None:
    hazard = catalogue().match_event_code(value_name, value)
    assert hazard is not None and hazard.code == code


@pytest.mark.parametrize("value_name, value", [
    ("EWS-HAZARD", "tsunami"),
    ("OET:v1.2", "OET-203"),       # tsunami: not a hazard of this region
    ("OET:v1.2", "11B03"),         # a national code under the OASIS name
    ("EWS-HAZARD", "OET-068"),
    ("SAME", "FFW"),
    ("eventType", "11B01"),        # typhoon
])
def test_match_event_code_unknown(value_name: str, value: str) -> None:
    assert catalogue().match_event_code(value_name, value) is None


# --- levels and queues ------------------------------------------------------------

@pytest.mark.parametrize("text, level", [
    ("红色", "red"), ("橙色", "orange"), ("黄色", "yellow"), ("蓝色", "blue"),
    ("Ⅰ级", "red"), ("Ⅱ级", "orange"), ("Ⅲ级", "yellow"), ("Ⅳ级", "blue"),
    ("I级", "red"), ("II 级", "orange"), ("III级", "yellow"), ("IV 级", "blue"),
    ("一级", "red"), ("二级", "orange"), ("三级", "yellow"), ("四级", "blue"),
    ("red", "red"), ("ORANGE", "orange"), ("Yellow", "yellow"), ("blue", "blue"), ("amber", "orange"),
    ("暴雨橙色预警[Ⅱ级/严重]", "orange"),
    ("将暴雨黄色预警升级为红色预警", "red"),
    ("大风橙色预警降级为蓝色预警", "blue"),
    ("Orange warning upgraded to red", "red"),
    ("阵风十一级", None),          # wind force, not a warning level
    ("风力四级以上", None),
    ("发生4.5级地震", None),       # magnitude
    ("reduced visibility", None),  # "red" only as a word
    ("bluetooth", None),
    ("", None),
    ("暴雨预警", None),
])
def test_level_from_text(text: str, level: str | None) -> None:
    assert level_from_text(text) == level


@pytest.mark.parametrize("severity, level", [
    ("Extreme", "red"), ("Severe", "orange"), ("Moderate", "yellow"), ("Minor", "blue"),
    (" severe ", "orange"), ("Unknown", None), ("", None), (None, None), ("Bogus", None),
    ("Blue", "blue"),  # China's national platform writes the colour into <severity>
])
def test_level_from_severity(severity: str | None, level: str | None) -> None:
    assert level_from_severity(severity) == level


def test_queue_for() -> None:
    loaded = catalogue()
    eew = loaded.get("earthquake_early_warning")
    assert {eew.queue_for(level) for level in (*hazards.LEVELS, None)} == {"critical"}
    rainstorm = loaded.get("rainstorm")
    assert [rainstorm.queue_for(level) for level in hazards.LEVELS] == ["critical", "high", "default", "low"]
    assert rainstorm.queue_for(None) == rainstorm.priority_default == "default"
    assert all(hazard.queue_for("red") == "critical" for hazard in loaded if hazard.levels)
    assert loaded.get("earthquake").queue_for(None) == "high"
    assert loaded.get("debris_flow").queue_for("orange") == "critical"
    assert loaded.get("drought").queue_for("orange") == "default"
    with pytest.raises(ValueError, match="purple"):
        rainstorm.queue_for("purple")


# --- the module stays pure and in step with the models ----------------------------

def test_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(hazards.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert not any(isinstance(node, ast.ImportFrom) and node.level for node in ast.walk(tree)), "no relative imports"
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_constants_mirror_the_models() -> None:
    from warning_service.extensions import QUEUE_NAMES
    from warning_service.models import AgencyKind
    from warning_service.models.alert import Level

    assert hazards.LEVELS == tuple(level.value for level in Level)
    assert hazards.QUEUES == QUEUE_NAMES
    assert hazards.AGENCY_KINDS == tuple(kind.value for kind in AgencyKind)


# --- broken files -------------------------------------------------------------------

VALID = """
[[hazard]]
code = "rainstorm"
bo_status = "sourced"
bo_source = "glossary.csv row 暴雨"
cap_category = "Met"
cap_events = ["Rainstorm"]
zh_aliases = ["强降雨"]
agency_kinds = ["weather"]
levels = ["red", "orange"]
priority_default = "default"

[hazard.names]
zh = "暴雨"
en = "Rainstorm"
bo = "དྲག་ཆར"

[hazard.priority]
red = "critical"
orange = "high"

[hazard.actions.red]
zh = "转移"
en = "Move"

[hazard.actions.orange]
zh = "准备"
en = "Prepare"

[hazard.actions.default]
zh = "注意"
en = "Take care"

[[hazard]]
code = "earthquake_early_warning"
bo_status = "awaiting_review"
cap_category = "Geo"
cap_events = ["Earthquake Early Warning"]
zh_aliases = ["地震预警信息"]
agency_kinds = ["seismic"]
levels = []
priority_default = "critical"

[hazard.names]
zh = "地震预警"
en = "Earthquake early warning"
bo = ""

[hazard.actions.default]
zh = "躲避"
en = "Take cover"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hazards.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_valid_file_loads(tmp_path: Path) -> None:
    loaded = load_catalogue(write(tmp_path, VALID))
    assert [hazard.code for hazard in loaded] == ["rainstorm", "earthquake_early_warning"]
    assert [hazard.validity_hours for hazard in loaded] == [hazards.DEFAULT_VALIDITY_HOURS] * 2
    with_validity = VALID.replace("levels = []", "levels = []\nvalidity_hours = 2")
    assert load_catalogue(write(tmp_path, with_validity)).get("earthquake_early_warning").validity_hours == 2


@pytest.mark.parametrize("old, new, expected", [
    ('zh = "暴雨"\n', "", ["'rainstorm'", "names.zh", "missing"]),
    ('cap_category = "Met"', 'cap_category = "Weather"', ["'rainstorm'", "cap_category", "'Weather'"]),
    ('orange = "high"', 'orange = "urgent"', ["'rainstorm'", "priority.orange", "unknown queue 'urgent'"]),
    ('zh_aliases = ["地震预警信息"]', 'zh_aliases = ["暴雨"]',
     ["'earthquake_early_warning'", "zh_aliases", "duplicate alias '暴雨'", "'rainstorm'"]),
    ('cap_events = ["Earthquake Early Warning"]', 'cap_events = ["RAINSTORM"]',
     ["'earthquake_early_warning'", "cap_events", "duplicate alias 'rainstorm'"]),
    ('zh_aliases = ["强降雨"]', 'zh_aliases = ["强降雨", "强 降雨"]', ["'rainstorm'", "zh_aliases", "duplicate entry"]),
    ('code = "earthquake_early_warning"', 'code = "rainstorm"', ["'rainstorm'", "duplicate code"]),
    ('red = "critical"', 'red = "high"', ["'rainstorm'", "priority.red", "critical"]),
    ('priority_default = "critical"', 'priority_default = "high"',
     ["'earthquake_early_warning'", "priority_default", "critical"]),
    ('levels = ["red", "orange"]', 'levels = ["red", "purple"]', ["'rainstorm'", "levels", "'purple'"]),
    ('agency_kinds = ["weather"]', 'agency_kinds = ["police"]', ["'rainstorm'", "agency_kinds", "'police'"]),
    ('bo = "དྲག་ཆར"', 'bo = ""', ["'rainstorm'", "names.bo", "sourced"]),
    ('bo = ""', 'bo = "ས་ཡོམ"', ["'earthquake_early_warning'", "names.bo", "awaiting review"]),
    ('bo = "དྲག་ཆར"', 'bo = "\u0f40\u0f73"', ["'rainstorm'", "names.bo", "NFC"]),
    ('bo = "དྲག་ཆར"', 'bo = "drag char"', ["'rainstorm'", "names.bo", "not Tibetan"]),
    ('bo_status = "sourced"', 'bo_status = "sourced"\nprioirty_default = "low"', ["'rainstorm'", "prioirty_default"]),
    ('[hazard.actions.orange]\nzh = "准备"\nen = "Prepare"\n', "", ["'rainstorm'", "actions", "orange"]),
    ('zh = "准备"\n', "", ["'rainstorm'", "actions.orange.zh", "missing"]),
    ('bo = "དྲག་ཆར"', 'bo = "དྲག་ཆར"\nbo_status = "sourced"', ["'rainstorm'", "names.bo_status"]),
    ('zh_aliases = ["地震预警信息"]', 'zh_aliases = ["地震预警信息"]\nbo_candidates = ["ས་ཡོམ"]',
     ["'earthquake_early_warning'", "bo_source"]),
    ('levels = []', 'levels = []\nvalidity_hours = 0', ["'earthquake_early_warning'", "validity_hours", "1 to 720"]),
    ('levels = []', 'levels = []\nvalidity_hours = "2h"', ["'earthquake_early_warning'", "validity_hours"]),
])
def test_broken_catalogue_names_the_hazard_and_field(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    assert old in VALID
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(write(tmp_path, VALID.replace(old, new, 1)))
    for part in expected:
        assert part in str(caught.value), (part, str(caught.value))


def test_unreadable_catalogue(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(write(tmp_path, VALID + "\n[[hazard]\n"))
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.toml")
    with pytest.raises(CatalogueError, match=r"no \[\[hazard\]\]"):
        load_catalogue(write(tmp_path, "title = 'empty'\n"))
