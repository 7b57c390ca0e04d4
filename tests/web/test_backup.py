"""Backup and restore: a dump restored into an empty database serves the same data."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db
from tests.conftest import PASSWORD


def _app(url: str, tmp_path, name: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True,
                      "INSTANCE_PATH": str(tmp_path / name), "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                      "ARGON2_PARALLELISM": 1})
    with app.app_context():
        flask_migrate.upgrade()
    return app


def _dispose(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_backup_restores_into_empty_database_and_serves(tmp_path, scratch_db_url):
    from ebo.models import AuditEvent, MunicipalitySettings, User
    from ebo.services import accounts

    source = _app(scratch_db_url(), tmp_path, "a")
    with source.app_context():
        accounts.create_user("admin@example.org", PASSWORD, "admin", "Admin", check_policy=False)
        s = MunicipalitySettings.get()
        s.name, s.population = "Testkommun", 14000
        db.session.commit()
    dump = tmp_path / "dump.jsonl.gz"
    result = source.test_cli_runner().invoke(args=["backup", str(dump)])
    assert result.exit_code == 0, result.output
    _dispose(source)

    target = _app(scratch_db_url(), tmp_path, "b")
    result = target.test_cli_runner().invoke(args=["restore", str(dump)])
    assert result.exit_code == 0, result.output
    with target.app_context():
        assert db.session.scalar(sa.select(User.email)) == "admin@example.org"
        assert MunicipalitySettings.get().population == 14000
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) >= 1
    client = target.test_client()
    assert client.post("/login", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 302
    assert client.get("/home").status_code == 200
    with target.app_context():  # new audit rows get fresh ids after the restored ones
        db.session.commit()

    # A second restore over data is refused and changes nothing.
    result = target.test_cli_runner().invoke(args=["restore", str(dump)])
    assert result.exit_code != 0 and "not empty" in result.output
    with target.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    _dispose(target)


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, scratch_db_url):
    app = _app(scratch_db_url(), tmp_path, "c")
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"not gzip at all")
    result = app.test_cli_runner().invoke(args=["restore", str(bad)])
    assert result.exit_code != 0 and "not an EBO backup" in result.output
    assert "Traceback" not in result.output
    _dispose(app)
