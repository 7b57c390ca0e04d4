"""Degraded, not down: Redis unreachable, database lost, and no search text in the cookie."""

from __future__ import annotations

import logging
import socket
import uuid

import pytest
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db as _db
from ebo.extensions import limiter
from tests.conftest import PASSWORD, base_config, new_client


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def app_without_redis(tmp_path_factory, scratch_db_url):
    """An app whose Redis (throttle storage) is a closed port, throttling on (3 failed logins a minute)."""
    app = create_app(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=scratch_db_url(),
                                 REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/8",
                                 RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute"))
    with app.app_context():
        _db.create_all()
        from ebo.services import accounts

        accounts.create_user("h@example.org", PASSWORD, "host", "H", check_policy=False)
        _db.session.commit()
    yield app
    limiter.enabled = False
    limiter._storage_dead = False  # the limiter is global: later apps start with their storage alive
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_redis_unreachable_login_still_works_and_is_throttled_in_process(app_without_redis, caplog):
    from limits.storage import RedisStorage

    assert isinstance(limiter.storage, RedisStorage)
    client = new_client(app_without_redis)
    with caplog.at_level(logging.WARNING):
        ok = client.post("/login", data={"email": "h@example.org", "password": PASSWORD})
    assert ok.status_code == 302  # the person can log in
    assert any("unreachable" in r.getMessage() and "in-memory" in r.getMessage() for r in caplog.records)
    other = new_client(app_without_redis)
    codes = [other.post("/login", data={"email": "h@example.org", "password": "wrong"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]  # the in-process limit still throttles guessing


def _lose_database(app, url: str) -> None:
    """Take the database away under a running app: delete the SQLite file, or drop the PostgreSQL one."""
    import os

    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    u = sa.engine.make_url(url)
    if u.drivername.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(u.database + suffix):
                os.unlink(u.database + suffix)
        os.chmod(os.path.dirname(u.database), 0o500)  # and it cannot be made again (an empty one would answer)
        return
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{u.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def lost_db_app(tmp_path, tmp_path_factory, scratch_db_url):
    url = scratch_db_url()
    if url.startswith("sqlite"):
        (tmp_path / "lost").mkdir()
        url = f"sqlite:///{tmp_path / 'lost' / 'db.sqlite3'}"
    app = create_app(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        _db.create_all()
        from ebo.services import accounts

        accounts.create_user("c@example.org", PASSWORD, "coordinator", "C", check_policy=False)
        _db.session.commit()
    yield app, url
    if url.startswith("sqlite"):
        (tmp_path / "lost").chmod(0o700)
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.mark.skipif(hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0
                    and not __import__("os").environ.get("EBO_TEST_DATABASE_URL"),
                    reason="as root a read-only directory does not stop SQLite from making a new file; "
                           "the lost database is tested on PostgreSQL")
def test_database_lost_error_page_has_security_headers(lost_db_app, caplog):
    app, url = lost_db_app
    client = new_client(app)
    assert client.post("/login", data={"email": "c@example.org", "password": PASSWORD}).status_code == 302
    assert client.get("/home").status_code == 200
    _lose_database(app, url)
    for path in ("/home", "/placements/", "/account"):
        resp = client.get(path)
        assert resp.status_code == 500, path
        assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Cache-Control"] == "no-store"
        body = resp.get_data(as_text=True)
        assert "Försök igen senare" in body and "Traceback" not in body
    resp = new_client(app).post("/login", data={"email": "c@example.org", "password": PASSWORD})
    assert resp.status_code == 500 and "Content-Security-Policy" in resp.headers


def test_error_page_when_a_view_raises_a_database_error(app, client, login_as, monkeypatch):
    """The same, on any database: the logged-in user's page fails with OperationalError mid-request."""
    login_as("coordinator")

    def broken(*_a, **_k):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    # The user is loaded from the database on each request: make that the part that fails.
    monkeypatch.setattr("ebo.security.db.session.get", broken)
    resp = client.get("/home")
    assert resp.status_code == 500
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "Försök igen senare" in resp.get_data(as_text=True)


def test_family_search_text_is_not_in_the_cookie(client, login_as, db):
    import datetime as dt
    import json

    from ebo.models import SavedSearch, User
    from ebo.services import searches
    from tests.factories import make_family

    make_family(dossier_number="7777-1234").contact_name = "Olena Kovalenko"
    db.session.commit()
    me = login_as("caseworker")
    for text in ("Kovalenko", "7777-1234"):
        resp = client.post("/families/", data={"q": text})
        assert resp.status_code == 302 and text not in resp.headers["Location"]
        assert "Olena Kovalenko" in client.get("/families/").get_data(as_text=True)
        with client.session_transaction() as s:
            assert text.lower() not in json.dumps(dict(s), default=str).lower()
        cookie = client.get_cookie("ebo_session").value
        payload = client.application.session_interface.get_signing_serializer(client.application).loads(cookie)
        assert text.lower() not in json.dumps(payload, default=str).lower()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedSearch)) == 1  # the old one dropped
    key = db.session.scalar(sa.select(SavedSearch.id))
    other = User(id=uuid.uuid4())
    assert searches.recall(me, key) == "7777-1234"
    assert searches.recall(other, key) == ""  # the key alone is useless to anyone else
    db.session.get(SavedSearch, key).expires_at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    db.session.commit()
    assert searches.recall(me, key) == ""  # and expires
    client.post("/families/", data={"clear": "1"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedSearch)) == 0
