"""Fixtures: app, client, db and factories. SQLite by default; PostgreSQL when EBO_TEST_DATABASE_URL is set."""

from __future__ import annotations

import contextvars
import os
import uuid

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient

from ebo import create_app
from ebo.extensions import db as _db

PASSWORD = "correct horse battery"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("EBO_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def base_config(tmp_path_factory, **extra) -> dict:
    """Test configuration: cheap argon2, CSRF and rate limits off unless a test turns them on."""
    inst = tmp_path_factory.mktemp("instance")
    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "INSTANCE_PATH": str(inst),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        "SERVER_NAME": None,
        "RUNS_MODE": "sync",  # runs execute at once; tests of the thread and RQ modes set their own
        "MATCH_IN_PROCESS": True,
        "REDIS_URL": None,  # tests that need Redis read EBO_REDIS_URL themselves
        "FIGURES_CACHE_SECONDS": 0,  # every page counts afresh; the cache's own tests turn it on
    }
    cfg.update(extra)
    return cfg


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without this, a test's long-lived app context would be reused by each request, and `g` (where
    Flask-Login caches the user and Flask-Babel the locale) would leak from one request to the next.
    The test's own session is committed before the request (the request sees what the test made)
    and expired after it (the test then sees what the request changed).
    """

    def open(self, *args, **kwargs):
        outer = has_app_context()
        if outer:
            _db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if outer:
            _db.session.expire_all()
        return response


def new_client(app) -> IsolatedClient:
    """An isolated test client for any app (also apps a test builds itself)."""
    return IsolatedClient(app, app.response_class, use_cookies=True)


@pytest.fixture(autouse=True)
def _rate_limit_off():
    """Flask-Limiter's `enabled` flag is global: the last create_app() decides it for every app.

    Tests that are not about throttling must not inherit it; throttling tests switch it on themselves.
    """
    from ebo.extensions import limiter

    limiter.enabled = False
    yield
    limiter.enabled = False


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The application with a fresh schema (built from the models; migrations are tested apart)."""
    app = create_app(base_config(tmp_path_factory))
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


def _wipe(app) -> None:
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            from ebo.models.audit import allow_audit_removal

            allow_audit_removal(conn)  # the test wipe, like the retention purge
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def db(app):
    """The database inside an app context, emptied after the test."""
    ctx = app.app_context()
    ctx.push()
    yield _db
    _db.session.rollback()
    ctx.pop()
    _wipe(app)


@pytest.fixture
def client(app, db):
    """A test client on an empty database."""
    return app.test_client()


@pytest.fixture
def make_user(db):
    """Factory: make_user(role, email=None, password=PASSWORD, active=True) -> User (committed)."""
    from ebo.services import accounts

    def factory(role: str = "host", email: str | None = None, password: str = PASSWORD, name: str = "",
                active: bool = True):
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.org"
        user = accounts.create_user(email, password, role, name or role.title(), check_policy=False)
        user.active = active
        _db.session.commit()
        return user

    return factory


def login(client, user_or_email, password: str = PASSWORD, follow: bool = False):
    """Log in through the real form."""
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    return client.post("/login", data={"email": email, "password": password}, follow_redirects=follow)


@pytest.fixture
def login_as(client, make_user):
    """Factory: login_as(role) -> User, with the client logged in as a new user of that role."""

    def factory(role: str, **kw):
        user = make_user(role, **kw)
        resp = login(client, user)
        assert resp.status_code == 302, resp.data[:500]
        return user

    return factory


def count(model) -> int:
    """Rows in a model's table."""
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def scratch_db_url(tmp_path):
    """Factory of empty databases of the suite's kind: SQLite files, or fresh PostgreSQL databases (dropped after)."""
    base = os.environ.get("EBO_TEST_DATABASE_URL")
    created: list[str] = []
    admin = None
    if base:
        url = sa.engine.make_url(base).set(drivername="postgresql+psycopg")
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def factory() -> str:
        name = f"ebo_scratch_{uuid.uuid4().hex[:12]}"
        if admin is None:
            return f"sqlite:///{tmp_path / (name + '.sqlite3')}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return admin.url.set(database=name).render_as_string(hide_password=False)

    yield factory
    if admin is not None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
