"""Approved Tibetan from the translation desk, laid over the templates_bo_zh/ data when rendering.

The renderer stays pure: it is handed an Overlay (entry key -> approved Tibetan) by whatever the
application installed with `use_overlay` (services/translations.py reads the database, cached by a
version key). Installed once rather than passed by every caller, so each path that renders (preview,
fan-out, CAP out, cell broadcast) uses an approved entry at once. Without a source, nothing is laid over.
The program never composes Tibetan: every value here was typed by a translator and approved by another.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType


def hazard_key(code: str) -> str:
    return f"hazard:{code}"


def action_key(code: str, level: str) -> str:
    """A protective action of a hazard at a level (or "default"), as hazards.toml keys them."""
    return f"action:{code}:{level}"


def chosen_action_key(code: str) -> str:
    """A protective action an officer ticks or an agency names by its code (hazards.toml [protective_actions])."""
    return f"action:{code}"


def place_key(code: str) -> str:
    """A county, city or prefecture by its GB/T 2260 code: its bare Tibetan toponym (counties.csv name_bo)."""
    return f"place:{code}"


def area_key(code: str) -> str:
    """A registered named area (a scenic area) by its code: its Tibetan name (named_areas.name_bo)."""
    return f"place:area:{code}"


def term_key(zh: str) -> str:
    """A term a template stands in for with untranslated("<zh>")."""
    return f"term:{zh}"


@dataclass(frozen=True)
class Overlay:
    version: object = None
    texts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, key: str) -> str:
        return self.texts.get(key, "")


EMPTY = Overlay()
_source: Callable[[], Overlay] | None = None
# The overlay of the rendering under way, for the template filters (formatting.place_name) that have no
# argument for it: a county's approved Tibetan name is laid over counties.csv only in the texts rendered.
_rendering: ContextVar[Overlay] = ContextVar("rendering_overlay", default=EMPTY)


def use_overlay(source: Callable[[], Overlay] | None) -> None:
    """Install where the approved entries come from (the app factory does); None removes it."""
    global _source
    _source = source


def current_overlay() -> Overlay:
    return _source() if _source is not None else EMPTY


@contextmanager
def rendering_with(overlay: Overlay) -> Iterator[None]:
    """While a text renders: `in_rendering()` is its overlay."""
    token = _rendering.set(overlay)
    try:
        yield
    finally:
        _rendering.reset(token)


def in_rendering() -> Overlay:
    return _rendering.get()
