"""Render every hazard, level, status, message type, channel and language, and list what is wrong.

Behind `flask templates check`: run it after editing templates_bo_zh/, before a
reviewer reads the golden texts. A problem is a render error, a text that
fitting cannot bring within its channel's budget, text that is not NFC or holds
a discouraged Tibetan vowel sign, a Tibetan message without a Tibetan letter,
or an Exercise or Test message that does not open with its banner.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..hazards import DISCOURAGED_TIBETAN, CatalogueError, HazardCatalogue, catalogue, load_catalogue
from .budgets import Budget
from .render import LANGUAGES, MSG_TYPES, AlertView, RenderError, TemplateSet, fit_rendered
from .tibetan import is_tibetan

# In the shipped templates Test differs from Exercise only in its banner word, so these two cover them.
STATUSES: tuple[str, ...] = ("Actual", "Exercise")
# What every message of an Exercise or Test alert opens with (templates_bo_zh/messages/partials/banner.*).
BANNERS: Mapping[tuple[str, str], str] = {
    ("Exercise", "zh"): "【演练】", ("Test", "zh"): "【测试】",
    ("Exercise", "bo"): "【སྦྱོང་བརྡར】", ("Test", "bo"): "【ཚོད་ལྟ】",
}
# Sample data: two counties (康定市, 泸定县), fixed times, every numeric parameter the templates read.
SAMPLE_COUNTIES = ("513301", "513322")
SAMPLE_PARAMETERS: Mapping[str, str] = {"magnitude": "6.8", "depth_km": "16", "latitude": "29.59",
                                        "longitude": "102.08", "rain_mm": "80", "phone": "12379"}


@dataclass
class CheckReport:
    rendered: int = 0
    problems: list[str] = field(default_factory=list)
    awaiting_review: int = 0
    # hazard -> the Tibetan sections (of Actual messages, every level, message type and text) that carry Chinese
    chinese: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (f"rendered {self.rendered}, problems {len(self.problems)}, "
                f"templates awaiting review {self.awaiting_review}")

    def chinese_summary(self) -> list[str]:
        """Per hazard, then in all: the figure the translation desk drives to zero."""
        lines = [f"{code}: {count} Tibetan sections carry Chinese" for code, count in self.chinese.items() if count]
        return [*lines, f"Tibetan sections carrying Chinese: {sum(self.chinese.values())}"]


def check_templates(root: Path, budgets: Mapping[str, Budget]) -> CheckReport:
    """Check the template set under root (templates_bo_zh/ or a copy): every text `budgets` names, fitted
    to its budget (each channel's and CAP field's: channels/catalog.py budget_for)."""
    report = CheckReport()
    try:
        templates = TemplateSet(root, load_catalogue(root / "hazards.toml"))
    except (RenderError, CatalogueError) as exc:
        report.problems.append(f"the template set does not load: {exc}")
        return report
    report.awaiting_review = sum(not review.reviewed for review in templates.reviews.values())
    for view in sample_views(templates.hazards):
        for channel in budgets:
            for language in LANGUAGES:
                where = f"{view.hazard_code} {view.level or '-'} {view.status} {view.msg_type} {channel}.{language}"
                try:
                    rendered = templates.render(view, channel, language)
                except RenderError as exc:
                    report.problems.append(f"{where}: {exc}")
                    continue
                report.rendered += 1
                if view.status == "Actual":
                    count = report.chinese.get(view.hazard_code, 0) + len(rendered.chinese_sections)
                    report.chinese[view.hazard_code] = count
                fitted = fit_rendered(rendered, budgets[channel])
                report.problems.extend(f"{where} ({rendered.template}): {problem}"
                                       for problem in text_problems(fitted.text, fitted.fit.measure.fits,
                                                                   view.status, language))
    return report


def sample_views(hazards: HazardCatalogue | None = None) -> Iterator[AlertView]:
    """Every hazard at each of its levels (or none), as each status and message type, with sample data."""
    for hazard in hazards or catalogue():
        for level in hazard.levels or (None,):
            for status in STATUSES:
                for msg_type in MSG_TYPES:
                    yield AlertView(
                        hazard_code=hazard.code, level=level, status=status, msg_type=msg_type,
                        county_codes=SAMPLE_COUNTIES,
                        onset=datetime(2026, 7, 14, 10, 0, tzinfo=UTC),
                        expires=datetime(2026, 7, 15, 0, 0, tzinfo=UTC),
                        sent=datetime(2026, 7, 14, 9, 50, tzinfo=UTC),
                        parameters=SAMPLE_PARAMETERS,
                        description={"zh": "预计未来24小时累计雨量可达80毫米。"},
                        sender_name="甘孜州应急管理局",
                    )


def text_problems(text: str, fits: bool, status: str, language: str) -> list[str]:
    """What is wrong with one fitted message, in words a template author can act on."""
    problems = []
    if not fits:
        problems.append("over budget even after fitting")
    if not unicodedata.is_normalized("NFC", text):
        problems.append("text is not NFC")
    if discouraged := sorted(set(text) & DISCOURAGED_TIBETAN):
        problems.append("discouraged Tibetan vowel signs " + ", ".join(f"U+{ord(ch):04X}" for ch in discouraged))
    if language == "bo" and not any(is_tibetan(ch) and unicodedata.category(ch) == "Lo" for ch in text):
        problems.append("a Tibetan message without any Tibetan letter")
    banner = BANNERS.get((status, language))
    if banner and not text.startswith(banner):
        problems.append(f"an {status} message that does not start with {banner}")
    return problems
