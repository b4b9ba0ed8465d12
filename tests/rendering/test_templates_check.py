"""`flask templates check` and rendering.check: every combination renders cleanly, and breakage is listed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask

from tests.support.text import TIBETAN
from warning_service.app import create_app
from warning_service.channels.catalog import budget_for, texts
from warning_service.hazards import catalogue
from warning_service.rendering.check import check_templates, sample_views, text_problems
from warning_service.rendering.export import Approved, export_hazards
from warning_service.rendering.render import LANGUAGES, TEMPLATES_ROOT


@pytest.fixture(scope="module")
def cli_app() -> Flask:
    """The command needs no database: an app on an in-memory SQLite it never opens, checked once, not per backend."""
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "test-secret"})


@pytest.fixture
def broken_copy(tmp_path: Path):
    """A copy of the shipped template set, with a function that replaces text in one of its templates."""
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES_ROOT, root)

    def replace(name: str, old: str, new: str) -> Path:
        path = root / "messages" / name
        source = path.read_text(encoding="utf-8")
        assert old in source, name
        path.write_text(source.replace(old, new), encoding="utf-8")
        return root

    return replace


def combinations() -> int:
    return len(list(sample_views())) * len(texts()) * len(LANGUAGES)


def test_sample_views_cover_every_hazard_level_status_and_msg_type() -> None:
    views = list(sample_views())
    expected = sum(len(hazard.levels or (None,)) for hazard in catalogue()) * 2 * 3
    assert len(views) == expected
    assert {(v.hazard_code, v.level) for v in views if v.hazard_code == "earthquake"} == {("earthquake", None)}
    assert {v.status for v in views} == {"Actual", "Exercise"} and {v.msg_type for v in views} == {"Alert", "Update", "Cancel"}


def test_the_cli_passes_on_the_shipped_templates(cli_app) -> None:
    result = cli_app.test_cli_runner().invoke(args=["templates", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"rendered {combinations()}, problems 0, templates awaiting review "
        f"{len(list((TEMPLATES_ROOT / 'messages').rglob('*.j2')))}")


def test_the_cli_lists_each_problem_of_a_broken_set(cli_app, broken_copy) -> None:
    # a Tibetan SMS (the default one, used by most hazards) that says only "warning" in English …
    source = (TEMPLATES_ROOT / "messages" / "default" / "sms.bo.j2").read_text(encoding="utf-8")
    broken_copy("default/sms.bo.j2", source[source.index("§required hazard"):], "§required hazard\nwarning\n")
    # … and a BeiDou template with an undefined variable
    root = broken_copy("default/beidou.zh.j2", "{{ s.banner() }}", "{{ s.banner() }}{{ no_such_variable }}")

    result = cli_app.test_cli_runner().invoke(args=["templates", "check", "--root", str(root)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert "rainstorm red Actual Alert sms.bo (default/sms.bo.j2): a Tibetan message without any Tibetan letter" in lines
    # an Exercise SMS opens with the Tibetan banner, so it has Tibetan letters
    assert not [line for line in lines if line.startswith("rainstorm red Exercise Alert sms.bo ")]
    undefined = [line for line in lines if "no_such_variable" in line]
    assert undefined and all(" beidou.zh: " in line for line in undefined)
    assert "gale blue Actual Update beidou.zh: template default/beidou.zh.j2" in "\n".join(undefined)
    summary = lines[-1]
    assert summary.startswith("rendered ") and ", problems 0," not in summary
    problems = int(summary.split("problems ")[1].split(",")[0])
    assert problems == len(lines) - 1


def test_a_set_that_does_not_load_is_one_problem(broken_copy) -> None:
    root = broken_copy("default/sms.zh.j2", "§required", "§maybe")
    report = check_templates(root, {text: budget_for(text) for text in texts()})
    assert not report.ok and report.rendered == 0
    assert len(report.problems) == 1 and "does not load" in report.problems[0] and "§maybe" in report.problems[0]


def test_text_problems_name_each_rule() -> None:
    assert text_problems("【演练】暴雨", True, "Exercise", "zh") == []
    assert text_problems("暴雨", True, "Exercise", "zh") == ["an Exercise message that does not start with 【演练】"]
    assert text_problems("【ཚོད་ལྟ】 དྲག་ཆར", True, "Test", "bo") == []
    assert text_problems("暴雨", False, "Actual", "bo") == ["over budget even after fitting",
                                                          "a Tibetan message without any Tibetan letter"]
    # U+0F73 decomposes and NFC does not put it back, so text holding it is not NFC either
    assert text_problems("ཀ\u0f73", True, "Actual", "bo") == ["text is not NFC", "discouraged Tibetan vowel signs U+0F73"]
    assert text_problems("ཀ\u0f74\u0f71", True, "Actual", "bo") == ["text is not NFC"]


def test_strict_counts_tibetan_sections_carrying_chinese_per_hazard(cli_app, tmp_path) -> None:
    result = cli_app.test_cli_runner().invoke(args=["templates", "check", "--strict"])
    assert result.exit_code == 1, result.output   # Chinese still stands in: the figure is not zero yet
    lines = result.output.strip().splitlines()
    per_hazard = {line.split(":")[0]: int(line.split()[1]) for line in lines if "Tibetan sections carry Chinese" in line}
    assert set(per_hazard) == {hazard.code for hazard in catalogue()}
    assert lines[-1] == f"Tibetan sections carrying Chinese: {sum(per_hazard.values())}"
    # a translator's Tibetan for the red flash-flood action (a fixture, tests/support/text.py) lowers its count only
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES_ROOT, root)
    path = root / "hazards.toml"
    path.write_text(export_hazards(path.read_text(encoding="utf-8"), {},
                                   {("flash_flood", "red"): Approved(TIBETAN, "test fixture")}), encoding="utf-8")
    report = check_templates(root, {text: budget_for(text) for text in texts()})
    assert report.ok, report.problems
    assert report.chinese["flash_flood"] < per_hazard["flash_flood"]
    assert {code: count for code, count in report.chinese.items() if code != "flash_flood"} == {
        code: count for code, count in per_hazard.items() if code != "flash_flood"}
