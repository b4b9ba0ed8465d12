"""Golden texts: the exact messages of a few alerts per hazard family, pinned in golden/*.txt.

A change to a template, the formatting or the fitting changes these texts and fails
here. When the change is intended, regenerate the files, read the diff by eye
(Tibetan too), and commit them with the change:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/rendering/test_golden.py
"""
from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from warning_service.channels.catalog import budget_for
from warning_service.rendering.render import AlertView, render_fitted

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
# What each case pins: (channel, language), with the default budget of the channel.
OUTPUTS = (("sms", "zh"), ("sms", "bo"), ("broadcast", "zh"), ("broadcast", "bo"), ("beidou", "zh"))


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def alert(hazard: str, level: str | None, counties: tuple[str, ...], **fields) -> AlertView:
    values = dict(hazard_code=hazard, level=level, status="Actual", msg_type="Alert", county_codes=counties,
                  onset=utc(7, 14, 10), expires=utc(7, 15, 0), sent=utc(7, 14, 9, 50))
    return AlertView(**(values | fields))


CASES: dict[str, AlertView] = {
    # seismic
    "earthquake_red": alert(
        "earthquake", "red", ("513301", "513322"), onset=utc(9, 5, 4, 52), expires=None, sent=utc(9, 5, 4, 53),
        parameters={"magnitude": "6.8", "depth_km": "16", "latitude": "29.59", "longitude": "102.08"},
        sender_name="中国地震台网"),
    "earthquake_early_warning": alert(
        "earthquake_early_warning", None, ("513301",), onset=utc(9, 5, 4, 52), expires=None,
        parameters={"magnitude": "6.8"}, sender_name="四川省地震局"),
    # water
    "rainstorm_yellow": alert(
        "rainstorm", "yellow", ("513221", "513222"), parameters={"rain_mm": "80", "phone": "12379"},
        description={"zh": "预计未来24小时汶川、理县累计雨量可达80毫米。"}, sender_name="阿坝州气象台"),
    # geological
    "debris_flow_orange": alert("debris_flow", "orange", ("513323",), sender_name="丹巴县自然资源局"),
    # weather
    "gale_blue": alert("gale", "blue", ("513332", "513328", "513330"), sender_name="甘孜州气象台"),
    # fire
    "forest_fire_orange": alert("forest_fire", "orange", ("513334", "513337", "513336"),
                                instruction={"bo": "ནགས་ཚལ་དང་རྩྭ་ཐང་གི་མེ་འགོག"}),
    # public
    "road_closure_red": alert("road_closure", "red", ("513322",), onset=utc(7, 14, 12), expires=None,
                              description={"zh": "G318线泸定段因塌方中断。"}, sender_name="泸定县交通运输局"),
    # status and message types
    "exercise_flood": alert("flood", "orange", ("513201",), status="Exercise", sender_name="阿坝州水文局"),
    "update_hail": alert("hail", "yellow", ("513231",), msg_type="Update", expires=utc(7, 14, 14)),
    "cancel_landslide": alert("landslide", "red", ("513226",), msg_type="Cancel",
                              description={"zh": "滑坡险情已排除。"}),
    "all_clear_snowstorm": alert("snowstorm", "orange", ("513332",), msg_type="Update", all_clear=True),
}


def rendered_file(view: AlertView) -> str:
    blocks = []
    for channel, language in OUTPUTS:
        fitted = render_fitted(view, channel, language, budget_for(channel))
        header = f"=== {channel} {language} ({fitted.rendered[0].template}; {', '.join(fitted.warnings)}) ==="
        blocks.append(f"{header}\n{fitted.text}\n")
    return "\n".join(blocks)


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_text(case: str) -> None:
    path = GOLDEN / f"{case}.txt"
    actual = rendered_file(CASES[case])
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1 and check it by eye"
    assert actual == path.read_text(encoding="utf-8")


def test_no_stale_golden_files() -> None:
    assert {path.stem for path in GOLDEN.glob("*.txt")} == set(CASES)
