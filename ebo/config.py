"""Configuration: defaults, then `instance/config.py`, then `EBO_*` environment variables."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from flask import Flask


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


DEFAULTS: dict = {
    "ENV_NAME": "development",  # development | production
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,  # set from instance path when empty
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    "REDIS_URL": None,
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,  # token valid for the session; the session itself times out
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "ebo_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=8),  # absolute timeout
    "SESSION_IDLE_MINUTES": 30,  # idle timeout
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
    "LANGUAGES": ["sv", "en"],
    "LOGIN_RATE_LIMIT": "10 per minute",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": False,
    # Redis unreachable: throttle with in-process counters (Flask-Limiter logs the switch) instead of 500s.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    "PROXY_FIX_X_FOR": 0,  # number of trusted proxies in front (gunicorn behind nginx: 1)
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_FROM": "ebo@localhost",
    "MAIL_OUTBOX_DIR": None,  # development: messages written under instance/outbox
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_TIMEOUT_S": 10,
    "BASE_URL": None,  # for links in emails sent from the command line, e.g. https://ebo.kommun.se
    "GEOCODER_URL": None,  # optional Nominatim-compatible service; the address table is tried first
    "GEOCODER_TIMEOUT_S": 5,
    "REGISTER_RATE_LIMIT": "10 per hour",  # successful registrations per address; failed forms do not count
    "PROPOSAL_ANSWER_DAYS": 3,  # days a host is asked to answer a proposal within, from the day it was sent
    # Accounts (docs/security-accounts.md)
    "REQUIRE_STAFF_2FA": None,  # None: required in production only; EBO_REQUIRE_STAFF_2FA=1/0 decides
    "PASSWORD_RESET_MINUTES": 60,  # a forgotten-password link works this long
    "INVITATION_HOURS": 72,  # a staff invitation works this long
    "EMAIL_CONFIRM_HOURS": 48,  # an email confirmation link works this long
    "FRESH_2FA_MINUTES": 10,  # fresh-login actions ask for the second factor again after this long
    "LOGIN_ACCOUNT_LIMIT": "10 per 15 minutes",  # failed logins (and password confirmations) per account
    "FORGOT_RATE_LIMIT": "5 per 15 minutes",  # forgotten-password requests per client address
    "FORGOT_ACCOUNT_LIMIT": "3 per hour",  # forgotten-password emails per account
    "TOTP_RATE_LIMIT": "5 per 5 minutes",  # wrong second-factor codes per account
    "MATCH_WORKERS": 2,
    "MATCH_TIME_LIMIT_S": 60,
    "MATCH_CHILD_GRACE_S": 180,  # on top of the time limit: candidate generation and model building
    "RUN_HEARTBEAT_SECONDS": 5,  # how often a run's worker renews its heartbeat
    "RUN_STALE_SECONDS": 120,  # a running run whose heartbeat is older is marked failed ("interrupted")
    "RUN_QUEUED_STALE_SECONDS": 900,  # a run no worker took for this long (longer than any run) too
    # Whole-municipality figures (preparedness dashboard, a run's preview) are kept this long per process;
    # a commit that changes what they count drops them at once in its own process. 0: always count afresh.
    "FIGURES_CACHE_SECONDS": 30,
    "TESTING": False,
}

# Flask's from_prefixed_env reads EBO_<NAME> as JSON when it parses (30 -> int, true -> bool, [..] -> list) and
# as text otherwise. Settings that are text by nature stay text even when they look like JSON (a password
# of digits stays a string); on/off settings accept only JSON true/false (or 1/0).
_TEXT = {k for k, v in DEFAULTS.items() if v is None or isinstance(v, str)} | {"DATABASE_URL"}
_FLAGS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}


def load_config(app: Flask, test_config: dict | None) -> None:
    """Apply defaults, instance/config.py, EBO_* variables, then `test_config`; check production safety."""
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("EBO")
    for key in _TEXT:
        if f"EBO_{key}" in os.environ:
            app.config[key] = os.environ[f"EBO_{key}"]
    for key in _FLAGS:
        if not isinstance(app.config[key], bool | int):
            raise ConfigError(f"EBO_{key} must be true or false")
        app.config[key] = bool(app.config[key])
    if "DATABASE_URL" in app.config:
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config.pop("DATABASE_URL")
    if test_config:
        app.config.update(test_config)

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_path = Path(app.instance_path) / "ebo.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):  # Heroku-style URLs
        uri = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri

    if app.config["REDIS_URL"]:
        app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
        # A Redis that does not answer must not hold a login for long before the fallback takes over.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    else:
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")

    production = app.config["ENV_NAME"] == "production"
    if production:
        if not os.environ.get("EBO_SECRET_KEY") and not (test_config or {}).get("SECRET_KEY"):
            raise ConfigError("EBO_SECRET_KEY must be set in the environment in production")
        if app.debug:
            raise ConfigError("debug must be off in production")
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    elif not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _dev_secret(app)


def _dev_secret(app: Flask) -> str:
    """A per-installation random key for development, kept in the instance folder."""
    path = Path(app.instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except OSError:
        key = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
        path.chmod(0o600)
        return key
