"""Rendering alerts from the templates (warning_service.rendering.render)."""
from __future__ import annotations

import csv
import re
import shutil
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from warning_service.channels.catalog import budget_for, texts
from warning_service.hazards import LEVELS, catalogue
from warning_service.rendering.budgets import BDS3_GLOBAL_BITS, BeidouBudget, BroadcastBudget, SmsBudget
from warning_service.rendering.render import (
    TEMPLATES_ROOT,
    AlertView,
    CharacterBudget,
    RenderError,
    TemplateSet,
    clean_text,
    default_templates,
    fit_rendered,
    free_text,
    messages_for_recipient,
    render,
    render_fitted,
)

LANGUAGES = ("zh", "bo")
CHANNELS = texts()  # every text: each channel's, then the CAP fields'
BANNERS = {("Exercise", "zh"): "【演练】", ("Test", "zh"): "【测试】",
           ("Exercise", "bo"): "【སྦྱོང་བརྡར】", ("Test", "bo"): "【ཚོད་ལྟ】"}
TIBETAN_RUN = re.compile(r"[\u0f00-\u0fff]+")
# A word is attested when it occurs whole: not inside a longer run of Tibetan letters and vowel signs.
NOT_LETTER_BEFORE, NOT_LETTER_AFTER = r"(?<![\u0f40-\u0fbc])", r"(?![\u0f40-\u0fbc])"


def view(**changes) -> AlertView:
    base = AlertView(
        hazard_code="rainstorm", level="yellow", status="Actual", msg_type="Alert",
        county_codes=("513221", "513222"),
        onset=datetime(2026, 7, 14, 10, 0, tzinfo=UTC),
        expires=datetime(2026, 7, 15, 0, 0, tzinfo=UTC),
        sent=datetime(2026, 7, 14, 9, 50, tzinfo=UTC),
        parameters={"rain_mm": "80", "magnitude": "6.8", "depth_km": "16", "latitude": "29.59",
                    "longitude": "102.08", "phone": "12379"},
        description={"zh": "预计未来24小时累计雨量可达80毫米。", "bo": "དྲག་ཆར།"},
        sender_name="阿坝州气象台",
    )
    return replace(base, **changes)


# --- every hazard, level, channel and language ------------------------------------

@pytest.mark.parametrize("hazard", [hazard.code for hazard in catalogue()])
def test_every_hazard_level_channel_and_language_renders(hazard: str) -> None:
    for level in (*LEVELS, None):
        for channel in CHANNELS:
            for language in LANGUAGES:
                rendered = render(view(hazard_code=hazard, level=level), channel, language)
                assert rendered.sections and rendered.channel == channel and rendered.language == language
                assert all(section.text.strip() for section in rendered.sections)
                assert not rendered.sections[0].optional
                assert rendered.template.endswith(f"{channel}.{language}.j2")


def test_hazard_names_and_levels_appear() -> None:
    zh = render(view(level="orange"), "sms", "zh").text
    assert zh.startswith("汶川县、理县暴雨橙色预警（II级）：")
    bo = render(view(level="orange"), "sms", "bo").text
    assert bo.startswith("དྲག་ཆར། ཉེན་བརྡ་ལི་ཁྲི (རིམ་པ་II)། ཝུན་ཁྲོན་རྫོང་དང་ལིས་རྫོང་།")
    assert render(view(level=None), "headline", "zh").text == "汶川县、理县暴雨预警"


def test_a_hazard_without_a_sourced_tibetan_name_shows_the_chinese_and_says_so() -> None:
    rendered = render(view(hazard_code="landslide"), "sms", "bo")
    assert rendered.text.startswith("滑坡 ཉེན་བརྡ་སེར་པོ (རིམ་པ་III)།")
    assert "滑坡" in rendered.missing_terms and not rendered.reviewed


def test_lookup_goes_hazard_then_family_then_default() -> None:
    templates = default_templates()
    assert templates.template_for("earthquake_early_warning", "sms", "zh") == "hazards/earthquake_early_warning/sms.zh.j2"
    assert templates.template_for("earthquake_early_warning", "beidou", "zh") == "families/seismic/beidou.zh.j2"
    assert templates.template_for("earthquake", "instruction", "bo") == "default/instruction.bo.j2"
    assert templates.template_for("gale", "sms", "bo") == "default/sms.bo.j2"


# --- banners, updates, cancels --------------------------------------------------------

@pytest.mark.parametrize("status", ["Exercise", "Test"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_exercise_and_test_messages_start_with_the_banner_on_every_channel(status: str, language: str) -> None:
    banner = BANNERS[status, language]
    for hazard in ("earthquake", "earthquake_early_warning", "rainstorm", "landslide", "forest_fire", "road_closure"):
        for msg_type, all_clear in (("Alert", False), ("Update", False), ("Cancel", False), ("Update", True)):
            alert = view(hazard_code=hazard, status=status, msg_type=msg_type, all_clear=all_clear)
            for channel in CHANNELS:
                assert render(alert, channel, language).text.startswith(banner), (hazard, msg_type, channel)
                assert render_fitted(alert, channel, language, budget_for(channel)).text.startswith(banner)


def test_the_banner_survives_the_tightest_budget() -> None:
    tight = BeidouBudget(BDS3_GLOBAL_BITS)
    fitted = render_fitted(view(status="Exercise", description={"zh": "很长的说明。" * 50}), "beidou", "zh", tight)
    assert fitted.text.startswith("【演练】") and fitted.fit.measure.fits


def test_actual_alerts_have_no_banner() -> None:
    for language in LANGUAGES:
        text = render(view(), "sms", language).text
        assert not any(text.startswith(banner) for banner in BANNERS.values())


def test_update_says_it_updates() -> None:
    assert render(view(msg_type="Update"), "sms", "zh").text.startswith("【更新】汶川县、理县暴雨黄色预警")
    assert render(view(msg_type="Update"), "sms", "bo").text.startswith("【གསར་སྒྱུར】 དྲག་ཆར།")


def test_cancel_says_the_earlier_warning_is_cancelled_and_gives_no_action() -> None:
    zh = render(view(msg_type="Cancel"), "sms", "zh").text
    assert zh.startswith("【取消】此前发布的汶川县、理县暴雨黄色预警（III级）已取消，该预警不再有效。")
    assert "减少外出" not in zh and "7月14日" not in zh
    bo = render(view(msg_type="Cancel"), "sms", "bo")
    assert bo.text.startswith("【取消】 དྲག་ཆར།") and "取消" in bo.missing_terms


@pytest.mark.parametrize("status", ["Actual", "Exercise"])
def test_a_cancellation_is_unmistakable_in_both_languages_and_carries_no_protective_action(status: str) -> None:
    """In zh it says the earlier warning is withdrawn; in bo, with no sourced word for 取消, the Chinese
    word stands in (flagged as unreviewed) at both ends; in neither is there a time or an action."""
    banner = {"Actual": "", "Exercise": "【演练】"}[status]
    instruction = {"zh": "立即转移到高处。", "bo": "གནས་སྤོ།"}
    for hazard in catalogue():
        warning = view(hazard_code=hazard.code, level=(hazard.levels or (None,))[0], status=status,
                       instruction=instruction, description={})
        cancellation = replace(warning, msg_type="Cancel")
        actions = {text for by_language in hazard.actions.values() for text in by_language.values() if text}
        for channel in ("sms", "broadcast", "beidou", "headline", "description"):
            zh, bo = (render_fitted(cancellation, channel, language, budget_for(channel)) for language in LANGUAGES)
            assert zh.text.startswith(f"{banner}【取消】此前发布的") and "已取消，该预警不再有效" in zh.text, (hazard.code, channel)
            bo_banner = BANNERS.get((status, "bo"), "")
            assert bo.text.startswith(f"{bo_banner} 【取消】 ".lstrip()) and bo.text.count("【取消】") == 2, bo.text
            assert "取消" in bo.rendered[0].missing_terms and "unreviewed Tibetan" in bo.warnings
            for fitted, language in ((zh, "zh"), (bo, "bo")):
                assert fitted.text != render_fitted(warning, channel, language, budget_for(channel)).text
                assert not any(action in fitted.text for action in actions | set(instruction.values())), (hazard.code, channel)
                assert "7月14日" not in fitted.text and "ཟླ་༧པའི" not in fitted.text
        for language in LANGUAGES:  # the CAP instruction of a Cancel: no action, the contact alone
            text = render(cancellation, "instruction", language).text
            assert not any(action in text for action in actions | set(instruction.values())) and "12379" in text


def test_all_clear_says_the_warning_is_lifted() -> None:
    zh = render(view(msg_type="Update", all_clear=True), "broadcast", "zh").text
    assert zh.startswith("【解除】此前发布的汶川县、理县暴雨黄色预警（III级）已解除。")
    assert render(view(msg_type="Cancel", all_clear=True), "sms", "bo").text.startswith("【解除】 ")


# --- free texts and parameters ------------------------------------------------------------

def test_agency_instruction_replaces_the_default_action() -> None:
    alert = view(instruction={"zh-CN": "请沿河群众立即转移"})
    assert "请沿河群众立即转移。" in render(alert, "sms", "zh").text
    assert "减少外出" not in render(alert, "sms", "zh").text


def test_tibetan_messages_fall_back_to_the_chinese_action_and_say_so() -> None:
    rendered = render(view(), "sms", "bo")
    assert "减少外出，注意山洪和地质灾害。" in rendered.text
    assert "防御指引" in rendered.missing_terms
    own = render(view(instruction={"bo": "ཆུ་ལོག"}), "sms", "bo").text
    assert "ཆུ་ལོག །" in own and "减少外出" not in own


def test_free_texts_never_open_a_section_or_break_the_template() -> None:
    sneaky = "第一行\n§required\n\x1erequired\n{{ 7*7 }} {% if %}"
    rendered = render(view(description={"zh": sneaky}, sender_name="§optional"), "sms", "zh")
    description = [section for section in rendered.sections if "第一行" in section.text]
    assert len(description) == 1 and description[0].optional
    assert description[0].text == "第一行 §required required {{ 7*7 }} {% if %}。"
    assert "49" not in rendered.text


def test_free_text_picks_the_language_from_cap_tags() -> None:
    assert free_text({"zh-CN": " 雨 \n 大 "}, "zh") == "雨 大"
    assert free_text({"bo_CN": "ཆུ་ལོག"}, "bo") == "ཆུ་ལོག"
    assert free_text({"en": "rain"}, "zh") == ""
    assert clean_text("a\x00b\x1e c\t\nd") == "ab c d"


INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d",
             "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff")


def test_invisible_formatting_never_reaches_a_channel() -> None:
    """Bidi overrides and zero-width characters in every free text, in both languages, on every channel."""
    hidden = "".join(INVISIBLE)
    sneaky = view(headline={"zh": f"暴雨{hidden}预警", "bo": f"ཆར་{hidden}པ།"},
                  description={"zh": f"\u202e警预雨暴\u202c{hidden}", "bo": "\u2067དྲག་ཆར།\u2069\u200d"},
                  instruction={"zh": f"请\u200b转移{hidden}"}, sender_name=f"\ufeff阿坝州气象台{hidden}",
                  parameters={**view().parameters, "rain_mm": f"\u200e80{hidden}"})
    for channel in CHANNELS:
        for language in LANGUAGES:
            text = render_fitted(sneaky, channel, language, budget_for(channel)).text
            assert not set(text) & set(INVISIBLE), (channel, language, text)
    assert "请转移" in render(sneaky, "sms", "zh").text and "80" in render(sneaky, "sms", "zh").text


def test_clean_text_drops_invisible_formatting_and_keeps_tibetan() -> None:
    assert clean_text("a\u202eb\u2066c\u200dd\ufeff e") == "abcd e"
    tibetan = "བོད་ཀྱི་སྐད་ཡིག། ༄༅། ཀ་ཁ་ག་ང་༎ ཨོཾ་"
    assert clean_text("\u200c".join(tibetan)) == unicodedata.normalize("NFC", tibetan)


def test_no_template_or_glossary_text_carries_what_rendering_drops() -> None:
    """Tibetan in templates_bo_zh/ must not rely on ZWJ, ZWNJ or any character clean_text removes."""
    files = [path for path in TEMPLATES_ROOT.rglob("*") if path.is_file()]
    assert TEMPLATES_ROOT / "glossary.csv" in files and sum(path.suffix == ".j2" for path in files) > 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not set(text) & set(INVISIBLE), path


def test_unparsable_numbers_are_left_out() -> None:
    alert = view(hazard_code="earthquake", parameters={"magnitude": "strong", "depth_km": "16"})
    text = render(alert, "sms", "zh").text
    assert "发生地震。" in text and "震源深度16公里。" in text


def test_earthquake_details_in_both_languages() -> None:
    alert = view(hazard_code="earthquake", level=None, county_codes=("513301", "513322"))
    zh = render(alert, "sms", "zh").text
    assert zh.startswith("康定市、泸定县地震信息：7月14日 18:00发生6.8级地震。")
    assert "震源深度16公里。震中北纬29.59度、东经102.08度。" in zh
    bo = render(alert, "sms", "bo").text
    assert bo.startswith("ས་ཡོམ། དར་མདོ་གྲོང་ཁྱེར་དང་ལྕགས་ཟམ་རྫོང་། ཟླ་༧པའི་ཚེས་༡༤ཉིན ༡༨:༠༠ ས་ཡོམ་རིམ་པ་༦.༨བརྒྱབ།")
    assert "ཡོམ་ཁུངས་ཀྱི་གཏིང་ཚད་ལ་སྤྱི་ལེ་༡༦ཡོད།" in bo


# --- Tibetan text -----------------------------------------------------------------------------

def test_tibetan_output_is_nfc_without_discouraged_vowel_signs() -> None:
    # U+0F73 (ཱི) and U+0F81 in an agency text, and a non-NFC vowel order
    description = {"bo": "ཀ\u0f73 ཀ\u0f81 ཀ\u0f74\u0f71"}
    for channel in CHANNELS:
        for section in render(view(description=description), channel, "bo").sections:
            assert unicodedata.is_normalized("NFC", section.text)
            assert not set(section.text) & {"\u0f73", "\u0f75", "\u0f81"}
    text = render(view(description=description), "sms", "bo").text
    assert "ཀ\u0f71\u0f72" in text


def test_tibetan_words_in_templates_are_attested_in_the_glossary() -> None:
    """Every Tibetan word written in a template occurs in glossary.csv (bo or note column)."""
    with open(TEMPLATES_ROOT / "glossary.csv", encoding="utf-8", newline="") as handle:
        attested = "\n".join(f"{row['bo']}\n{row['note']}" for row in csv.DictReader(handle))
    unattested = {}
    for path in sorted((TEMPLATES_ROOT / "messages").rglob("*.bo.j2")):
        source = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)  # comments cite, not say
        for run in TIBETAN_RUN.findall(source):
            for piece in re.split("[\u0f0d\u0f0e]+", run):
                word = piece.strip("\u0f0b")
                if word and not re.search(f"{NOT_LETTER_BEFORE}{re.escape(word)}{NOT_LETTER_AFTER}", attested):
                    unattested.setdefault(str(path.relative_to(TEMPLATES_ROOT)), []).append(word)
    assert not unattested


def test_unreviewed_tibetan_is_flagged() -> None:
    fitted = render_fitted(view(), "sms", "bo", budget_for("sms"))
    assert not fitted.rendered[0].reviewed
    assert "unreviewed Tibetan" in fitted.warnings
    assert "unreviewed Tibetan" not in render_fitted(view(), "sms", "zh", budget_for("sms")).warnings


def test_every_shipped_template_awaits_review() -> None:
    templates = default_templates()
    assert templates.reviews and all(not review.reviewed for review in templates.reviews.values())
    assert templates.reviews["partials/msgtype.bo.j2"].missing_terms == ("解除", "取消")


# --- fitting ----------------------------------------------------------------------------------

def test_a_long_description_is_dropped_before_anything_required() -> None:
    long = view(description={"zh": "预计累计雨量可达80毫米，局地可能出现山洪和泥石流。" * 20})
    assert not render_fitted(long, "sms", "zh", SmsBudget(max_segments=100)).fit.shortened
    fitted = render_fitted(long, "sms", "zh", SmsBudget(max_segments=3))
    rendered = fitted.rendered[0]
    description = next(i for i, section in enumerate(rendered.sections) if "局地" in section.text)
    assert description in fitted.fit.dropped and not fitted.fit.cut
    assert "shortened" in fitted.warnings and "over budget" not in fitted.warnings
    assert all(i not in fitted.fit.dropped for i, section in enumerate(rendered.sections) if not section.optional)
    assert "减少外出" in fitted.text and fitted.text.startswith("汶川县、理县暴雨黄色预警")


def test_too_long_required_text_is_cut_and_says_so() -> None:
    fitted = render_fitted(view(instruction={"zh": "立即转移。" * 200}), "sms", "zh", SmsBudget(max_segments=2))
    assert fitted.fit.cut and {"shortened", "cut"} <= set(fitted.warnings)


def test_one_message_per_language_in_preference_order() -> None:
    assert [m.languages for m in messages_for_recipient(view(), "sms", ["bo"], budget_for("sms"))] == [("bo",)]
    assert [m.languages for m in messages_for_recipient(view(), "sms", ["zh"], budget_for("sms"))] == [("zh",)]


def test_both_languages_in_one_message_when_they_fit_unshortened() -> None:
    short = view(parameters={}, description={}, sender_name=None)
    combined = messages_for_recipient(short, "sms", ["zh", "bo"], budget_for("sms"))
    assert len(combined) == 1 and combined[0].languages == ("zh", "bo")
    assert combined[0].text == render(short, "sms", "zh").text + "\n" + render(short, "sms", "bo").text
    assert "unreviewed Tibetan" in combined[0].warnings and "shortened" not in combined[0].warnings
    # the same texts are two messages when together they would need shortening
    zh_alone = render_fitted(short, "sms", "zh", budget_for("sms")).fit.measure.parts
    bo_alone = render_fitted(short, "sms", "bo", budget_for("sms")).fit.measure.parts
    budget = SmsBudget(max_segments=max(zh_alone, bo_alone))
    two = messages_for_recipient(short, "sms", ["bo", "zh"], budget)
    assert [m.languages for m in two] == [("bo",), ("zh",)] and not any(m.fit.shortened for m in two)
    assert [m.text for m in two] == [render_fitted(short, "sms", lang, budget).text for lang in ("bo", "zh")]


def test_budgets_per_channel_and_settings() -> None:
    assert budget_for("sms") == SmsBudget(8)
    assert budget_for("sms", {"SMS_MAX_SEGMENTS": "3"}) == SmsBudget(3)
    assert budget_for("beidou") == BeidouBudget.bds3_regional()
    assert budget_for("beidou", {"BEIDOU_CAPACITY_BITS": 560}) == BeidouBudget.bds3_global()
    assert budget_for("broadcast") == BroadcastBudget(60)
    assert budget_for("headline") == CharacterBudget(160)
    assert budget_for("description").measure("x" * 100_000).fits
    assert not budget_for("headline").measure("x" * 161).fits
    with pytest.raises(RenderError):
        budget_for("fax")


# --- errors ----------------------------------------------------------------------------------

def test_unknown_hazard_and_bad_fields_raise_render_error() -> None:
    with pytest.raises(RenderError, match="unknown hazard 'tsunami'"):
        render(view(hazard_code="tsunami"), "sms", "zh")
    with pytest.raises(RenderError, match="status 'System'"):
        render(view(status="System"), "sms", "zh")
    with pytest.raises(RenderError, match="language 'en'"):
        render(view(), "sms", "en")
    with pytest.raises(RenderError, match="level 'purple'"):
        render(view(level="purple"), "sms", "zh")
    with pytest.raises(RenderError, match="unknown county"):
        render(view(county_codes=("999999",)), "sms", "zh")


def make_root(tmp_path: Path, templates: dict[str, str], reviewed: bool = False) -> Path:
    """A template root with plain defaults for every channel and language, plus `templates`."""
    shutil.copy(TEMPLATES_ROOT / "families.toml", tmp_path / "families.toml")
    files = {f"default/{channel}.{language}.j2": "§required\n{{ hazard.name_zh }}\n"
             for channel in CHANNELS for language in LANGUAGES}
    files.update(templates)
    for name, source in files.items():
        path = tmp_path / "messages" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    status = 'status = "reviewed"\nreviewer = "test"' if reviewed else 'status = "awaiting_review"\nreviewer = ""'
    (tmp_path / "review.toml").write_text(
        "".join(f'["{name}"]\n{status}\nmissing_terms = []\n\n' for name in files), encoding="utf-8")
    return tmp_path


def test_strict_undefined_raises_render_error(tmp_path: Path) -> None:
    templates = TemplateSet(make_root(tmp_path, {"default/sms.zh.j2": "§required\n{{ no_such_variable }}\n"}))
    with pytest.raises(RenderError, match="no_such_variable") as caught:
        templates.render(view(), "sms", "zh")
    assert isinstance(caught.value.__cause__, UndefinedError)


@pytest.mark.parametrize("trick", [
    "{{ ''.__class__.__mro__ }}",
    "{{ hazard.__class__.__init__.__globals__ }}",
    "{{ untranslated.__globals__ }}",
    "{{ sent.__class__.__subclasses__() }}",
    "{{ parameters.update({'phone': '110'}) }}",
])
def test_the_sandbox_refuses_attribute_tricks(tmp_path: Path, trick: str) -> None:
    templates = TemplateSet(make_root(tmp_path, {"default/sms.zh.j2": f"§required\n{trick}\n"}))
    with pytest.raises(RenderError) as caught:
        templates.render(view(), "sms", "zh")
    assert isinstance(caught.value.__cause__, (SecurityError, UndefinedError))


def test_lookup_order_in_a_template_set(tmp_path: Path) -> None:
    templates = TemplateSet(make_root(tmp_path, {
        "hazards/rainstorm/sms.zh.j2": "§required\nhazard\n",
        "families/water/sms.zh.j2": "§required\nfamily\n",
    }))
    assert templates.render(view(hazard_code="rainstorm"), "sms", "zh").text == "hazard"
    assert templates.render(view(hazard_code="flood"), "sms", "zh").text == "family"
    assert templates.render(view(hazard_code="gale"), "sms", "zh").text == "大风"


def test_sections_and_review_flags_from_a_template_set(tmp_path: Path) -> None:
    source = ("{% import 'partials/x.bo.j2' as x %}\n§required banner\n{{ x.word() }}\n\n"
              "§optional details, two lines\nཀ\nཁ\n§optional empty\n{% if false %}x{% endif %}\n")
    root = make_root(tmp_path, {"default/sms.bo.j2": source,
                                "partials/x.bo.j2": "{% macro word() %}ཉེན་བརྡ{% endmacro %}\n"}, reviewed=True)
    rendered = TemplateSet(root).render(view(), "sms", "bo")
    assert [(s.text, s.optional) for s in rendered.sections] == [("ཉེན་བརྡ", False), ("ཀ ཁ", True)]
    assert rendered.reviewed and fit_rendered(rendered, SmsBudget()).warnings == ()
    # an unreviewed partial makes the message unreviewed
    review = (root / "review.toml").read_text()
    (root / "review.toml").write_text(review.replace(
        '["partials/x.bo.j2"]\nstatus = "reviewed"\nreviewer = "test"',
        '["partials/x.bo.j2"]\nstatus = "awaiting_review"\nreviewer = ""'))
    assert not TemplateSet(root).render(view(), "sms", "bo").reviewed


def test_a_template_set_refuses_broken_set_ups(tmp_path: Path) -> None:
    root = make_root(tmp_path, {})
    (root / "messages" / "default" / "extra.zh.j2").write_text("§required\nx\n")
    with pytest.raises(RenderError, match="without a review entry: default/extra.zh.j2"):
        TemplateSet(root)
    (root / "messages" / "default" / "extra.zh.j2").unlink()
    (root / "messages" / "default" / "sms.bo.j2").unlink()
    with pytest.raises(RenderError, match="review entries for missing templates"):
        TemplateSet(root)


def test_marker_typos_and_text_outside_sections_are_errors(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="§required or §optional, not '§optinal'"):  # caught when loading
        TemplateSet(make_root(tmp_path, {"default/sms.zh.j2": "§required\nx\n§optinal\ny\n"}))
    templates = TemplateSet(make_root(tmp_path, {"default/sms.zh.j2": "stray\n§required\nx\n"}))
    with pytest.raises(RenderError, match="before the first section marker"):
        templates.render(view(), "sms", "zh")


def test_every_hazard_needs_a_family(tmp_path: Path) -> None:
    root = make_root(tmp_path, {})
    families = (root / "families.toml").read_text()
    (root / "families.toml").write_text(families.replace('"road_closure"', ""))
    with pytest.raises(RenderError, match="hazards without a family: road_closure"):
        TemplateSet(root)
