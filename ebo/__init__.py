"""EBO host matching: the Flask application."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

import ebo.models  # noqa: F401  (register every table on db.metadata)
from ebo import cli, i18n, security, ui
from ebo.config import ConfigError, load_config
from ebo.extensions import babel, csrf, db, limiter, login_manager, migrate

__all__ = ["create_app", "ConfigError"]

PACKAGE_DIR = Path(__file__).resolve().parent

# (module with a Blueprint `bp`, URL prefix): one blueprint per feature.
BLUEPRINTS: list[tuple[str, str | None]] = [
    ("ebo.main.views", None),
    ("ebo.auth.views", None),
    ("ebo.admin.views", "/admin"),
    ("ebo.hosts.views", "/host"),
    ("ebo.vetting.views", "/vetting"),
    ("ebo.families.views", "/families"),
    ("ebo.schools.views", "/schools"),
    ("ebo.units.views", "/units"),
    ("ebo.runs.views", "/runs"),
    ("ebo.placements.views", "/placements"),
    ("ebo.preparedness.views", "/preparedness"),
    ("ebo.cards.views", "/cards"),
]


def _template_folder() -> str:
    """Templates ship inside the wheel as ebo/templates; in the source tree they live at the top level."""
    inside = PACKAGE_DIR / "templates"
    if inside.is_dir():
        return str(inside)
    return str(PACKAGE_DIR.parent / "templates")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints and commands."""
    instance_path = os.environ.get("EBO_INSTANCE_PATH") or (test_config or {}).get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=instance_path or None,
        instance_relative_config=True,
        template_folder=_template_folder(),
        static_folder="static",
    )
    load_config(app, test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)


    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PACKAGE_DIR / "translations")
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    ui.init_app(app)
    security.init_app(app)

    with app.app_context():
        _configure_sqlite(app)

    for module_name, prefix in BLUEPRINTS:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp, url_prefix=prefix)

    cli.init_app(app)
    return app


def _configure_sqlite(app: Flask) -> None:
    """SQLite runs with foreign keys on, WAL and a busy timeout (docs/security.md S25), and real savepoints.

    pysqlite opens a transaction only before a write, so a SAVEPOINT issued with no transaction open would
    start one of its own and commit at its release: `begin_nested()` would not nest. A transaction is
    therefore begun just before a savepoint when none is open; everything else keeps pysqlite's timing.
    """
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    timeout = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    memory = ":memory:" in app.config["SQLALCHEMY_DATABASE_URI"]

    @sa.event.listens_for(db.engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised through every test
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={timeout}")
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @sa.event.listens_for(db.engine, "savepoint")
    def _on_savepoint(conn, _name):  # pragma: no cover - exercised through every conflict path
        dbapi_conn = conn.connection.dbapi_connection
        if not dbapi_conn.in_transaction:
            dbapi_conn.execute("BEGIN")
