"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from ebo import create_app
from ebo.extensions import db

HEAD = "0008_hostside"


def _make_app(url: str, tmp_path):
    """Build the app on ``url`` with its own instance folder."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )


def _differences(app) -> list:
    """Return Alembic's autogenerate differences between the live schema and ``db.metadata``."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _table_names(app) -> set[str]:
    """Return the application tables present in the database (Alembic's own table excluded)."""
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def _current_revision(app) -> str | None:
    """Return the revision stamped in the database."""
    with app.app_context(), db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _check_guards(app) -> None:
    """The constraints autogenerate cannot compare (CHECKs, partial unique index) exist after upgrade."""
    with app.app_context(), db.engine.connect() as conn:
        user_id, host_id, family_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        users = db.metadata.tables["users"]
        hosts = db.metadata.tables["host_households"]
        families = db.metadata.tables["families"]
        placements = db.metadata.tables["placements"]
        now = sa.func.current_timestamp()
        conn.execute(
            users.insert().values(
                id=user_id,
                email="h@example.org",
                password_hash="x",
                role="host",
                name="H",
                active=True,
                session_token="t",
                created_at=now,
            )
        )
        conn.execute(
            hosts.insert().values(
                id=host_id,
                user_id=user_id,
                contact_name="H",
                email="h@example.org",
                phone="",
                street="Storgatan 1",
                postal_code="123 45",
                town="Ort",
                geocode_status="pending",
                adults_living=1,
                children_living=0,
                beds=2,
                rooms=1,
                beds_used=0,
                families_placed=0,
                max_families=1,
                accepts_children=True,
                step_free=False,
                has_pets=False,
                smoking=False,
                languages=[],
                open_to_long_term_rental=False,
                vetting_status="registered",
                state="active",
                created_at=now,
                updated_at=now,
            )
        )
        conn.execute(
            families.insert().values(
                id=family_id,
                contact_name="F",
                languages=[],
                route="anvisning",
                needed_from=date.today(),
                needs_step_free=False,
                pet_allergy=False,
                needs_non_smoking=False,
                status="waiting",
                created_at=now,
                updated_at=now,
            )
        )
        conn.commit()

        guarded = (
            hosts.update().where(hosts.c.id == host_id).values(beds_used=3),  # more than beds
            users.update().where(users.c.id == user_id).values(role="root"),  # not a role
        )
        for statement in guarded:
            with pytest.raises(sa.exc.IntegrityError):
                conn.execute(statement)
            conn.rollback()

        placement = {
            "family_id": family_id,
            "host_id": host_id,
            "persons": 2,
            "start_date": date.today(),
            "created_at": now,
        }
        conn.execute(placements.insert().values(id=uuid.uuid4(), **placement))
        conn.commit()
        with pytest.raises(sa.exc.IntegrityError):  # a second active placement for the family
            conn.execute(placements.insert().values(id=uuid.uuid4(), **placement))
        conn.rollback()
        # An ended placement does not count against the partial unique index.
        ended = dict(placement, end_date=date.today(), end_reason="moved_on")
        conn.execute(placements.insert().values(id=uuid.uuid4(), **ended))
        conn.commit()


def _round_trip(url: str, tmp_path) -> None:
    """Upgrade an empty database to head, compare with the models, check guards, downgrade to base."""
    app = _make_app(url, tmp_path)
    try:
        with app.app_context():
            upgrade(revision="head")
        assert _current_revision(app) == HEAD
        assert _table_names(app) == set(db.metadata.tables)
        assert _differences(app) == []
        _check_guards(app)
        with app.app_context():
            downgrade(revision="base")
        assert _current_revision(app) is None
        assert _table_names(app) == set()
        with app.app_context():  # and back up again: the downgrade left nothing behind
            upgrade(revision="head")
        assert _differences(app) == []
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path):
    """On an empty SQLite file: upgrade, no autogenerate difference, downgrade to base."""
    _round_trip(f"sqlite:///{tmp_path / 'mig.sqlite3'}", tmp_path)


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database of this test's own, dropped afterwards."""
    base = os.environ.get("EBO_TEST_DATABASE_URL")
    if not base:
        pytest.skip("EBO_TEST_DATABASE_URL is not set; the PostgreSQL migration test runs in CI")
    url = sa.engine.make_url(base)
    if url.get_backend_name() != "postgresql":
        pytest.skip(f"EBO_TEST_DATABASE_URL is not PostgreSQL ({url.get_backend_name()})")
    url = url.set(drivername="postgresql+psycopg")
    name = f"ebo_mig_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgresql_upgrade_matches_models_and_downgrades(postgres_url, tmp_path):
    """On an empty PostgreSQL database: upgrade, no autogenerate difference, downgrade to base."""
    _round_trip(postgres_url, tmp_path)
