"""Language choice: Swedish by default, English selectable; the choice is kept in the session."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, session
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
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


def _translations():
    """The current translations, looked up once per request and language rather than once per string.

    flask_babel resolves the locale, domain and catalogue on every call (about 40 µs; a review page
    translates some 600 strings). The result is kept on flask_babel's own per-request namespace, with the
    locale and domain it was found for, so `force_locale` and `refresh` (which replace them) still apply.
    """
    app_ctx = _cv_app.get(None)  # what flask_babel's own context look-up reads, without the proxies
    ctx = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    if ctx is None:
        return get_translations()
    kept = getattr(ctx, "_ebo_translations", None)
    if kept is not None and kept[0] is getattr(ctx, "babel_locale", None) \
            and kept[1] is getattr(ctx, "babel_domain", None):
        return kept[2]
    found = get_translations()  # sets ctx.babel_locale
    ctx._ebo_translations = (getattr(ctx, "babel_locale", None), getattr(ctx, "babel_domain", None), found)
    return found


def gettext(string: str, **variables) -> str:
    """flask_babel's `gettext` (the text formatted with `variables`, unformatted without), with the
    translations looked up once per request (`_translations`): for services that translate many strings."""
    text = _translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """flask_babel's `ngettext` (``%(num)d`` is `num`), with the translations looked up once per request."""
    variables.setdefault("num", num)
    return _translations().ungettext(singular, plural, num) % variables


def init_app(app: Flask) -> None:
    """Expose the current language to templates; templates translate through `_translations`."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )

    @app.context_processor
    def _inject_locale():
        return {"current_locale": str(get_locale()), "language_names": LANGUAGE_NAMES,
                "languages": app.config["LANGUAGES"]}
