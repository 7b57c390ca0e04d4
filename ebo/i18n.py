"""Language choice: Swedish by default, English selectable; the choice is kept in the session."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, session
from flask_babel import get_locale
from flask_login import current_user


def select_locale() -> str:
    """The session's choice, else the user's saved preference, else the default (Swedish)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line and background jobs: the default, unless forced
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}


def init_app(app: Flask) -> None:
    """Expose the current language to templates."""

    @app.context_processor
    def _inject_locale():
        return {"current_locale": str(get_locale()), "language_names": LANGUAGE_NAMES,
                "languages": app.config["LANGUAGES"]}
