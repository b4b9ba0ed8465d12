"""Fit a warning into a channel budget: drop optional sections, then cut at the best break.

A cut never falls inside a grapheme cluster (a Tibetan stack) and, unless no
other cut fits, never inside a Tibetan syllable or a Latin word. The result is a
prefix of the normalised text followed by a cut mark that the budget counts.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache

from . import tibetan
from .budgets import Budget, Measure
from .tibetan import Break, BreakKind

# Chinese writes the ellipsis as two (GB/T 15834); "…" is in GB2312, so it keeps
# BeiDou in Chinese mode. Otherwise ASCII dots keep SMS in GSM-7, spaced so a
# cut after a full stop does not read as "....".
CUT_MARK: dict[str | None, str] = {"bo": "…", "zh": "……", None: " ..."}
# A better kind of break is taken if it keeps at least this share of what the
# longest fitting cut keeps: a sentence end 10 characters earlier beats a
# character break, one that halves the text does not. A policy, to be tuned.
KEEP_RATIO = Fraction(2, 3)


@dataclass(frozen=True)
class Section:
    text: str
    optional: bool = False  # dropped first (from the last optional backwards) when over budget


@dataclass(frozen=True)
class FitResult:
    text: str
    measure: Measure
    shortened: bool            # any optional section dropped or text cut
    dropped: tuple[int, ...]   # indices of dropped optional sections, ascending
    cut: bool                  # text was cut inside a section


def cut_mark(language: str | None) -> str:
    """The mark for a language tag ("bo", "zh-Hans", "bo_CN"); unknown languages get the default."""
    base = language.replace("_", "-").split("-")[0].lower() if language else None
    return CUT_MARK.get(base, CUT_MARK[None])


def fit(sections: Sequence[Section], budget: Budget, separator: str = "", language: str | None = None) -> FitResult:
    """The sections joined by separator, shortened until the budget's measure fits.

    If no cut fits (even a single cluster and the mark are too big), the text is
    empty and measure.fits is False.
    """
    kept = list(range(len(sections)))
    optional = [i for i, section in enumerate(sections) if section.optional]
    text = _join(sections, kept, separator)
    measure = budget.measure(text)
    while not measure.fits and optional:
        kept.remove(optional.pop())
        text = _join(sections, kept, separator)
        measure = budget.measure(text)
    dropped = tuple(i for i in range(len(sections)) if i not in kept)
    if measure.fits:
        return FitResult(text, measure, bool(dropped), dropped, cut=False)
    cut_text = _cut(text, budget, cut_mark(language))
    if cut_text is None:
        return FitResult("", replace(budget.measure(""), fits=False), True, dropped, cut=True)
    return FitResult(cut_text, budget.measure(cut_text), True, dropped, cut=True)


def split_parts(text: str, budget_per_part: Budget, language: str | None = None) -> list[str]:
    """The normalised text in consecutive parts that each fit budget_per_part, cut at the best breaks.

    "".join(parts) is the normalised text; no part starts with a shad, and a part
    ends inside a syllable or word only where nothing better fits. Numbering the
    parts is the sender's job: budget_per_part should leave room for it. The
    language is accepted for symmetry with `fit`; break rules go by script, so it
    does not change the split. Raises ValueError if a single cluster does not fit.
    """
    text = tibetan.normalise(text)
    # The end of the text is the best break of all: the rest goes whole when it fits.
    at_least = _indices_by_kind([*tibetan.break_opportunities(text), Break(len(text), BreakKind.SENTENCE)])
    parts: list[str] = []
    start = 0
    while start < len(text):
        end = _best_cut(at_least, _part_fits(text, start, budget_per_part), start)
        if end is None:
            raise ValueError(f"no break after index {start} gives a part that fits {budget_per_part.name}")
        parts.append(text[start:end])
        start = end
    return parts


def _join(sections: Sequence[Section], kept: Sequence[int], separator: str) -> str:
    """Normalise after joining: a section starting with a vowel sign reorders across the join."""
    return tibetan.normalise(separator.join(sections[i].text for i in kept))


def _cut(text: str, budget: Budget, mark: str) -> str | None:
    """The longest good prefix of text (trailing spaces dropped) that fits with the mark, or None."""
    starts = set(tibetan.cluster_boundaries(text))

    def kept_part(i: int) -> str:
        while i > 0 and text[i - 1].isspace() and i - 1 in starts:
            i -= 1
        return text[:i]

    @cache
    def fits(i: int) -> bool:
        return budget.measure(kept_part(i) + mark).fits

    # Breaks within leading spaces would keep nothing but the mark.
    leading_spaces = len(text) - len(text.lstrip())
    end = _best_cut(_indices_by_kind(tibetan.break_opportunities(text)), fits, leading_spaces)
    return None if end is None else kept_part(end) + mark


def _part_fits(text: str, start: int, budget: Budget) -> Callable[[int], bool]:
    return cache(lambda end: budget.measure(text[start:end]).fits)


def _indices_by_kind(breaks: Sequence[Break]) -> dict[BreakKind, list[int]]:
    """For each kind, the indices of the breaks of that kind or a better one, in order."""
    return {kind: [b.index for b in breaks if b.kind >= kind] for kind in BreakKind}


def _best_cut(at_least: dict[BreakKind, list[int]], fits: Callable[[int], bool], start: int) -> int | None:
    """The cut to take among the breaks after start.

    The longest fitting break that is not mid-syllable or mid-word sets the
    reference length (the longest fitting cluster break only if there is none);
    the best kind of break keeping KEEP_RATIO of it wins.
    """
    longest = {kind: _longest_fitting(indices, bisect_right(indices, start), fits) for kind, indices in at_least.items()}
    reference = longest[BreakKind.CHARACTER]
    if reference is None:
        return longest[BreakKind.CLUSTER]
    return next(cut for kind in sorted(BreakKind, reverse=True)
                if (cut := longest[kind]) is not None and cut - start >= KEEP_RATIO * (reference - start))


def _longest_fitting(indices: Sequence[int], low: int, fits: Callable[[int], bool]) -> int | None:
    """The last fitting index of indices[low:], assuming fitting ones come first.

    Gallops from low, then bisects, so the cost follows the length kept rather
    than the length of the text. The budgets here are monotonic in prefix
    length; if one is not, the result may not be the longest, but it always
    fits: only a checked index is returned.
    """
    best, high, step = None, len(indices), 1
    while low < high:
        probe = min(low + step, high) - 1
        if not fits(indices[probe]):
            high = probe
            break
        best, low, step = indices[probe], probe + 1, step * 2
    while low < high:
        middle = (low + high) // 2
        if fits(indices[middle]):
            best, low = indices[middle], middle + 1
        else:
            high = middle
    return best
