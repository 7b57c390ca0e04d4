"""The demo refuses a database with real data, naming why; it runs on an empty or demo-made one."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db
from tests.conftest import PASSWORD


def _app(url, tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                       "TESTING": True, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                       "ARGON2_PARALLELISM": 1})


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
                for t in db.metadata.sorted_tables}


def _dispose(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_demo_refuses_a_database_with_real_data(tmp_path, scratch_db_url):
    from ebo.services import accounts

    app = _app(scratch_db_url(), tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
        accounts.create_user("real.admin@kommun.se", PASSWORD, "admin", "Real Admin", check_policy=False)
        db.session.commit()
    before = _counts(app)
    for extra in ([], ["--reset"]):
        result = app.test_cli_runner().invoke(args=["demo", "--no-serve", *extra])
        assert result.exit_code != 0
        assert "refuses to run" in result.output and "users" in result.output
        assert "demo.sjovik.se" not in result.output  # no demo logins printed
        assert _counts(app) == before
    _dispose(app)


def test_demo_runs_on_an_empty_database_and_again_on_its_own(tmp_path, scratch_db_url):
    app = _app(scratch_db_url(), tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.sjovik.se" in first.output
    second = runner.invoke(args=["demo", "--no-serve"])  # the demo's own database: fine
    assert second.exit_code == 0, second.output
    _dispose(app)
