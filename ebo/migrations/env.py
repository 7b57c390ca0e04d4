"""Alembic environment for Flask-Migrate: the app's engine and ``db.metadata`` (all models)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config

# Command-line runs log through alembic.ini; under tests, leave pytest's log handlers alone.
if config.config_file_name is not None and not current_app.testing:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    """Return the Flask-SQLAlchemy engine of the current app."""
    return current_app.extensions["migrate"].db.engine


def get_engine_url() -> str:
    """Return the engine URL, escaped for the ini parser."""
    return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")


config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db


def get_metadata():
    """Return the metadata holding every model (importing ebo.models registers them)."""
    import ebo.models  # noqa: F401

    return target_db.metadata


def run_migrations_offline():
    """Emit SQL to stdout without a database connection (``flask db upgrade --sql``)."""
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=get_metadata(),
        literal_binds=True,
        compare_type=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations against the app's database."""

    def process_revision_directives(context, revision, directives):
        # Do not write an empty revision when autogenerate finds nothing.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()
    with connectable.connect() as connection:
        # Batch mode (copy-and-move tables) only where ALTER is limited: SQLite.
        sqlite = connection.dialect.name == "sqlite"
        conf_args["render_as_batch"] = sqlite
        conf_args["compare_type"] = True
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # batch mode rebuilds tables: other tables' rows refer to them meanwhile (foreign keys)
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        try:
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
