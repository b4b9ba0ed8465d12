"""The console's languages: Chinese (the default), Tibetan and English, with Flask-Babel.

Message catalogs live in warning_service/translations/<lang>/LC_MESSAGES/messages.po
(msgids in English) and are compiled to .mo by `make install`. A signed-in user's
choice is kept on the user; before signing in, the one made on the sign-in page (kept in
the session), else the browser's preference decides.
Warnings' own texts are not translated here: they come from templates_bo_zh/.
"""
from __future__ import annotations

import copy
from datetime import datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..hazards import ProtectiveAction, catalogue
from ..models import NamedArea
from ..reference_data import county_rows
from ..rendering.formatting import LANGUAGES, beijing_time, place_name, places
from ..rendering.overlay import EMPTY, chosen_action_key, current_overlay
from ..services.translations import catalog_overlay
from .labels import register_labels

CONSOLE_LANGUAGES: tuple[tuple[str, str], ...] = (("zh", "中文"), ("bo", "བོད་ཡིག"), ("en", "English"))
CODES = tuple(code for code, _ in CONSOLE_LANGUAGES)
SESSION_LANGUAGE = "language"  # the language chosen on the sign-in page, before there is a user to keep it on
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"



class DeskDomain(Domain):
    """The console's messages, with the translation desk's approved catalog entries laid over the bo .mo
    (issue 18, item 5): an approval changes the Tibetan console at the next page, in every process, without a
    rebuild. Consulted once per request (the desk's version key), merged once per version."""

    def __init__(self, domain: str) -> None:
        super().__init__(domain=domain)
        self._laid: tuple[object, Any, Any] | None = None   # (version, the .mo's translations, merged)

    def get_translations(self) -> Any:
        translations = super().get_translations()
        if not has_request_context() or str(get_locale()) != "bo":
            return translations
        if "desk_catalog" not in g:
            try:
                g.desk_catalog = catalog_overlay(db.session)
            except SQLAlchemyError:   # the database down: the page (often the error page) in the .mo's words
                g.desk_catalog = EMPTY
        approved = g.desk_catalog
        if not approved.texts:
            return translations
        laid = self._laid
        if laid is None or laid[0] != approved.version or laid[1] is not translations:
            merged = copy.copy(translations)
            merged._catalog = {**translations._catalog, **approved.texts}
            self._laid = laid = (approved.version, translations, merged)
        return laid[2]


class DeskBabel(Babel):
    """Flask-Babel whose one domain is the DeskDomain."""

    @cached_property
    def domain_instance(self) -> Domain:
        return DeskDomain(self.domain)


babel = DeskBabel()


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in CODES:
        return current_user.locale
    if session.get(SESSION_LANGUAGE) in CODES:
        return session[SESSION_LANGUAGE]
    return request.accept_languages.best_match(CODES) or CODES[0]


def console_locale() -> str:
    return str(get_locale() or CODES[0]).split("_")[0]


def hazard_name(code: str | None) -> str:
    """The hazard's name in the console's language; Chinese where no sourced Tibetan exists."""
    hazard = catalogue().get(code) if code else None
    if hazard is None:
        return code or "—"
    return hazard.names.get(console_locale()) or hazard.names["zh"]


def action_name(action: ProtectiveAction) -> str:
    """A protective action in the console's language; in Tibetan only where sourced or approved on the desk,
    else Chinese."""
    bo = action.bo or current_overlay().get(chosen_action_key(action.code))
    text = {"zh": action.zh, "en": action.en, "bo": bo}.get(console_locale()) or action.zh
    return text


@lru_cache(maxsize=1)
def _english_names() -> dict[str, str]:
    return {row["code"]: row["name_en"] for row in county_rows()}


def county_name(code: str) -> str:
    """A county as people of the console's language name it: zh, bo (with its ་རྫོང/་གྲོང་ཁྱེར), or
    the English (pinyin) name; an unknown code stays as it is."""
    language = console_locale()
    try:
        return place_name(code, language) if language in LANGUAGES else _english_names()[code]
    except (KeyError, ValueError):
        return code


def counties_named(codes: list[str]) -> str:
    """Counties as one phrase in the console's language ("康定市、泸定县"; English names with commas)."""
    language = console_locale()
    return places(codes, language) if language in LANGUAGES else ", ".join(county_name(code) for code in codes)


def area_name(area: NamedArea) -> str:
    """A named area's name in the console's language; Chinese where no sourced Tibetan exists."""
    return {"bo": area.name_bo or area.name_zh, "en": area.name_en}.get(console_locale(), area.name_zh)


def beijing(value: datetime | None, seconds: bool = False) -> str:
    """The template filter for every instant a person reads: Beijing time, labelled in the console's
    language ("北京时间 2026-12-04 05:04")."""
    return "—" if value is None else _("%(time)s Beijing time", time=beijing_time(value, seconds=seconds))


def county_name_attribute() -> str:
    return f"name_{console_locale()}"


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", CODES[0])
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(lambda: {
        "console_languages": CONSOLE_LANGUAGES, "console_locale": console_locale,
        "hazard_name": hazard_name, "county_name_attribute": county_name_attribute, "county_name": county_name,
        "area_name": area_name,
    })
    app.add_template_filter(beijing)
    register_labels(app)
