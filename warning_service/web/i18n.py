"""The console's languages: Chinese (the default), Tibetan and English, with Flask-Babel.

Message catalogs live in warning_service/translations/<lang>/LC_MESSAGES/messages.po
(msgids in English) and are compiled to .mo by `make install`. A signed-in user's
choice is kept on the user; before signing in, the one made on the sign-in page (kept in
the session), else the browser's preference decides.
Warnings' own texts are not translated here: they come from templates_bo_zh/.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from ..hazards import catalogue

CONSOLE_LANGUAGES: tuple[tuple[str, str], ...] = (("zh", "中文"), ("bo", "བོད་ཡིག"), ("en", "English"))
CODES = tuple(code for code, _ in CONSOLE_LANGUAGES)
SESSION_LANGUAGE = "language"  # the language chosen on the sign-in page, before there is a user to keep it on
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

babel = Babel()


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


def county_name_attribute() -> str:
    return f"name_{console_locale()}"


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", CODES[0])
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(lambda: {
        "console_languages": CONSOLE_LANGUAGES, "console_locale": console_locale,
        "hazard_name": hazard_name, "county_name_attribute": county_name_attribute,
    })
