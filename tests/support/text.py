"""Hypothesis strategies for the text the service renders: Tibetan (syllables, noise, discouraged signs,
Tibetan digits), Chinese, and a mix with Latin, emoji and control characters; shared by the Tibetan,
budget and fit tests."""
from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

from warning_service.rendering.tibetan import DISCOURAGED, to_tibetan_digits

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)

# --- text strategies -------------------------------------------------------------

_chars = st.integers  # code point ranges below, mapped to characters
BASE = _chars(0x0F40, 0x0F6C).map(chr)
SUBJOINED = _chars(0x0F90, 0x0FBC).map(chr)
VOWEL = st.sampled_from([chr(c) for c in range(0x0F71, 0x0F7E)] + ["\u0f80"])
SYLLABLE_END = st.sampled_from(["\u0f0b"] * 6 + ["\u0f0d", "\u0f0d ", "\u0f0d \u0f0d", "\u0f0e", "\u0f0c", " ", "\u0f14"])
syllable = st.builds(
    lambda base, subjoined, vowels, suffix, end: base + "".join(subjoined) + "".join(vowels) + "".join(suffix) + end,
    BASE, st.lists(SUBJOINED, max_size=2), st.lists(VOWEL, max_size=2), st.lists(BASE, max_size=2), SYLLABLE_END,
)
tibetan_noise = st.text(st.characters(min_codepoint=0x0F00, max_codepoint=0x0FFF), max_size=6)
discouraged = st.sampled_from(sorted(DISCOURAGED))
tibetan_number = st.builds(lambda a, b: to_tibetan_digits(f"{a}.{b}"), st.integers(0, 99), st.integers(0, 9))
tibetan_text = st.lists(
    st.one_of(syllable, syllable, syllable, tibetan_noise, discouraged, tibetan_number), max_size=40,
).map("".join)

HAN = _chars(0x4E00, 0x9FFF).map(chr)
CHINESE_PUNCT = st.sampled_from(list("，。、：；！？") + ["（", "）", "“", "”", "《", "》", "……"])
chinese_text = st.lists(
    st.one_of(HAN, HAN, HAN, HAN, CHINESE_PUNCT, st.sampled_from(["4.5", "12", "级", "６.８", "\n"])), max_size=120,
).map("".join)

latin_word = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=1, max_size=9)
other_chunk = st.sampled_from([" ", ". ", ", ", "!", "€", "{x}", "😀", "👩\u200d🚒", "🇨🇳", "e\u0301", "\r\n", "\u200b"])
mixed_text = st.lists(st.one_of(tibetan_text, chinese_text, latin_word, other_chunk), max_size=6).map("".join)

any_text = st.one_of(tibetan_text, chinese_text, mixed_text)

# One short warning in each language, as the adapters and peers carry it.
TIBETAN = "ས་ཡོམ། ཉེན་བརྡ་དམར་པོ། དར་མདོ་གྲོང་ཁྱེར།"
CHINESE = "康定市地震红色预警：请立即到空旷地带避险。"
