"""Retention: with a moved clock, only families whose placement ended long enough ago are pseudonymised."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from ebo.services import retention
from tests.conftest import count
from tests.web import placement_factories as pf

TODAY = dt.date(2027, 1, 15)


@pytest.fixture
def families(db):
    sch = pf.school()
    h, u = pf.host(beds=10), pf.unit()
    old = pf.family(name="Old Family", children=[(2012, sch)], dossier="D-1", health="diabetes")
    recent = pf.family(name="Recent Family", dossier="D-2")
    active = pf.family(name="Active Family", dossier="D-3")
    waiting = pf.family(name="Waiting Again", dossier="D-4")
    p_old = pf.placement(old, h, dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), reason="moved_on",
                         proposal_km=[1.0])
    pf.visit(p_old, dt.date(2024, 1, 8), dt.date(2024, 1, 9)).notes = "visited"
    pf.placement(recent, u, dt.date(2025, 1, 1), end=dt.date(2026, 3, 1), reason="ended_by_family")
    pf.placement(active, h, dt.date(2023, 1, 1))
    pf.placement(waiting, u, dt.date(2023, 1, 1), end=dt.date(2023, 6, 1), reason="ended_by_host")
    waiting.status = "waiting"  # still needs housing: the case is open
    db.session.commit()
    return old, recent, active, waiting


def _names(db):
    from ebo.models import Family

    db.session.expire_all()
    return {f.dossier_number: f for f in db.session.scalars(sa.select(Family))}


def test_purge_pseudonymises_only_families_past_retention(db, families):
    from ebo.models import FamilyMember, FollowUpVisit, HealthNote, Placement

    members_before = count(FamilyMember)
    assert retention.purge(TODAY, 24) == 1
    db.session.commit()
    db.session.expire_all()
    old = families[0]
    assert (old.contact_name, old.contact_phone, old.contact_email, old.dossier_number, old.notes) == (
        "", None, None, None, None)
    assert old.pseudonymised_at is not None
    assert all(m.first_name is None and m.school_id is None for m in old.members)
    assert count(HealthNote) == 0
    # statistics stay: members, birth years, placement dates and sizes
    assert count(FamilyMember) == members_before
    assert sorted(m.birth_year for m in old.members) == [1985, 1985, 2012]
    p = db.session.scalar(sa.select(Placement).where(Placement.family_id == old.id))
    assert (p.start_date, p.end_date, p.persons, p.end_reason) == (
        dt.date(2024, 1, 1), dt.date(2024, 12, 31), 3, "moved_on")
    assert db.session.scalar(sa.select(FollowUpVisit.notes)) is None
    others = _names(db)
    assert set(others) == {None, "D-2", "D-3", "D-4"}
    assert all(f.pseudonymised_at is None for k, f in others.items() if k)
    events = pf.audit_rows("purge")
    assert len(events) == 1 and events[0].details["count"] == 1
    assert "Old Family" not in str(events[0].details)


def test_purge_is_idempotent_and_follows_the_clock(db, families):
    assert retention.purge(TODAY, 24) == 1
    db.session.commit()
    stamp = families[0].pseudonymised_at
    assert retention.purge(TODAY, 24) == 0
    db.session.commit()
    db.session.refresh(families[0])
    assert families[0].pseudonymised_at == stamp
    # a year later the recent family's placement is past retention too; the active and waiting never are
    assert retention.purge(dt.date(2028, 3, 2), 24) == 1
    db.session.commit()
    remaining = _names(db)
    assert set(remaining) == {None, "D-3", "D-4"}
    assert [e.details["count"] for e in pf.audit_rows("purge")] == [1, 0, 1]


def test_shorter_retention_setting(db, families):
    assert retention.purge(TODAY, 6) == 2


def test_purge_command(app, db, families):
    from ebo.models import MunicipalitySettings

    MunicipalitySettings.get().retention_months = 24
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge", "--today", "2027-01-15"])
    assert result.exit_code == 0, result.output
    assert "Pseudonymised 1 families" in result.output
    assert set(_names(db)) == {None, "D-2", "D-3", "D-4"}
    bad = app.test_cli_runner().invoke(args=["purge", "--today", "15/01/2027"])
    assert bad.exit_code != 0
