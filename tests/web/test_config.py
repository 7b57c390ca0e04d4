"""EBO_<NAME> environment variables, read with Flask's from_prefixed_env."""

import pytest
from flask import Flask

from ebo.config import ConfigError, load_config


@pytest.fixture
def bare_app(tmp_path, monkeypatch):
    for name in ("EBO_DATABASE_URL", "EBO_SECRET_KEY", "EBO_REDIS_URL", "EBO_ENV_NAME"):
        monkeypatch.delenv(name, raising=False)
    return Flask("ebo_config_test", instance_path=str(tmp_path), instance_relative_config=True)


def test_typed_values_as_flask_parses_them(bare_app, monkeypatch):
    monkeypatch.setenv("EBO_SESSION_IDLE_MINUTES", "45")
    monkeypatch.setenv("EBO_LANGUAGES", '["sv"]')
    monkeypatch.setenv("EBO_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("EBO_LOGIN_RATE_LIMIT", "5 per minute")
    load_config(bare_app, None)
    assert bare_app.config["SESSION_IDLE_MINUTES"] == 45
    assert bare_app.config["LANGUAGES"] == ["sv"]
    assert bare_app.config["RATELIMIT_ENABLED"] is False
    assert bare_app.config["LOGIN_RATE_LIMIT"] == "5 per minute"


def test_text_settings_stay_text(bare_app, monkeypatch):
    monkeypatch.setenv("EBO_MAIL_PASSWORD", "123456")
    monkeypatch.setenv("EBO_SECRET_KEY", "1e10")
    load_config(bare_app, None)
    assert bare_app.config["MAIL_PASSWORD"] == "123456"
    assert bare_app.config["SECRET_KEY"] == "1e10"


def test_database_url_names_the_sqlalchemy_uri(bare_app, monkeypatch):
    monkeypatch.setenv("EBO_DATABASE_URL", "postgresql://ebo@db.internal/ebo")
    load_config(bare_app, None)
    assert bare_app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://ebo@db.internal/ebo"
    assert "DATABASE_URL" not in bare_app.config


def test_an_on_off_setting_refuses_words(bare_app, monkeypatch):
    monkeypatch.setenv("EBO_SESSION_COOKIE_SECURE", "maybe")
    with pytest.raises(ConfigError, match="EBO_SESSION_COOKIE_SECURE"):
        load_config(bare_app, None)


def test_test_config_wins_over_the_environment(bare_app, monkeypatch):
    monkeypatch.setenv("EBO_SESSION_IDLE_MINUTES", "45")
    load_config(bare_app, {"SESSION_IDLE_MINUTES": 5})
    assert bare_app.config["SESSION_IDLE_MINUTES"] == 5
