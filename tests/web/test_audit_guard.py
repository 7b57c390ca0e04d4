"""The audit log cannot be rewritten in the database; only the retention purge removes old events."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db as _db
from ebo.extensions import limiter
from ebo.services import audit, retention
from tests.conftest import PASSWORD, base_config, count, new_client

ON_SQLITE = "the audit trigger is PostgreSQL's; SQLite relies on the ORM guard (CI runs this on PostgreSQL)"


def _postgresql(db) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(ON_SQLITE)


def _one_event(db):
    from ebo.models import AuditEvent

    audit.record("login", "user", "x")
    db.session.commit()
    event_id = db.session.scalar(sa.select(AuditEvent.id))
    db.session.commit()  # hold no lock: TRUNCATE would wait for it
    return event_id


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'rewritten'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
])
def test_database_refuses_changes_through_a_raw_connection(db, statement):
    """As psql would: a plain connection of the app's role cannot change or remove audit rows."""
    _postgresql(db)
    _one_event(db)
    with db.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.exec_driver_sql(statement)
    assert count(__import__("ebo.models", fromlist=["AuditEvent"]).AuditEvent) == 1


def test_database_refuses_core_delete_through_the_session(db):
    """`sa.delete(AuditEvent.__table__)` slips past the ORM guard; the trigger stops it."""
    from ebo.models import AuditEvent

    _postgresql(db)
    _one_event(db)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.delete(AuditEvent.__table__))
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.update(AuditEvent.__table__).values(action="x"))
    db.session.rollback()
    assert count(AuditEvent) == 1


def test_migration_creates_the_trigger(tmp_path, scratch_db_url):
    import flask_migrate

    url = scratch_db_url()
    if not url.startswith("postgresql"):
        pytest.skip(ON_SQLITE)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True,
                      "INSTANCE_PATH": str(tmp_path / "i")})
    with app.app_context():
        flask_migrate.upgrade()
        names = set(_db.session.scalars(sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal")))
        assert names == {"audit_events_append_only", "audit_events_no_truncate"}
        audit.record("login")
        _db.session.commit()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            _db.session.execute(sa.text("DELETE FROM audit_events"))
        _db.session.rollback()
        flask_migrate.downgrade(revision="0001_initial")
        assert not _db.session.scalar(sa.text(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"))
        _db.session.remove()
        _db.engine.dispose()


def test_purge_removes_only_old_events_and_says_so(db):
    from ebo.models import AuditEvent

    today = dt.date(2027, 1, 15)
    old = AuditEvent(action="login", at=dt.datetime(2024, 12, 1, tzinfo=dt.UTC))
    new = AuditEvent(action="login", at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
    db.session.add_all([old, new])
    db.session.commit()
    retention.purge(today, 24)
    db.session.commit()
    rows = db.session.execute(sa.select(AuditEvent.action, AuditEvent.at, AuditEvent.details)
                              .order_by(AuditEvent.id)).all()
    assert [r.action for r in rows] == ["login", "purge"]
    assert rows[0].at == new.at
    assert rows[1].details["audit_events_removed"] == 1


def test_purge_lifts_the_guard_for_its_own_delete_only(db):
    from ebo.models import AuditEvent

    _postgresql(db)
    _one_event(db)
    retention.purge_audit_events(dt.date(2027, 1, 15), 24)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):  # same transaction, after the purge
        db.session.execute(sa.delete(AuditEvent.__table__))
    db.session.rollback()
    assert count(AuditEvent) == 1


def test_throttled_login_is_audited(tmp_path_factory, scratch_db_url):
    from ebo.models import AuditEvent
    from ebo.services import accounts

    app = create_app(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=scratch_db_url(),
                                 RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute"))
    try:
        with app.app_context():
            _db.create_all()
            accounts.create_user("h@example.org", PASSWORD, "host", "H", check_policy=False)
            _db.session.commit()
        client = new_client(app)
        codes = [client.post("/login", data={"email": "h@example.org", "password": "wrong"}).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 429]
        with app.app_context():
            events = _db.session.execute(sa.select(AuditEvent.action, AuditEvent.object_id, AuditEvent.ip)
                                         .where(AuditEvent.action == "throttled")).all()
            assert [(e.action, e.object_id) for e in events] == [("throttled", "auth.login")]
            assert events[0].ip
    finally:
        limiter.enabled = False
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
