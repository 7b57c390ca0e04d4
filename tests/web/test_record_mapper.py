"""One mapper from database rows to matching records, and a refused confirm that undoes only its own work."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from ebo.extensions import db as _db
from ebo.models import AuditEvent, FamilyStatus, MatchingRun, Proposal, ProposalState
from ebo.services import audit, placements
from ebo.services.match_instance import family_record, host_record, school_record, unit_record
from matching import rules
from tests.factories import make_family, make_host, make_school, make_unit


def test_host_record_copies_the_household_and_may_narrow_its_room(db):
    h = make_host(beds=5, max_families=2, languages=("sv", "ar"), has_pets=True, step_free=True,
                  accepts_children=False, available_from=dt.date(2026, 12, 5))
    rec = host_record(h)
    assert (rec.id, rec.lat, rec.lon, rec.beds, rec.max_families) == (str(h.id), h.lat, h.lon, 5, 2)
    assert rec.languages == ("sv", "ar") and rec.has_pets and rec.step_free and not rec.accepts_children
    assert rec.available_from == dt.date(2026, 12, 5) and rec.available_until is None
    narrowed = host_record(h, beds=3, max_families=1)
    assert (narrowed.beds, narrowed.max_families) == (3, 1)


def test_unit_and_school_records(db):
    u = make_unit(beds=12, step_free=False)
    rec = unit_record(u)
    assert (rec.id, rec.beds, rec.step_free, rec.lat, rec.lon) == (str(u.id), 12, False, u.lat, u.lon)
    u.lat = u.lon = None
    assert (unit_record(u).lat, unit_record(u).lon) == (0.0, 0.0)
    s = make_school(lat=59.31, lon=18.02)
    assert school_record(s) == school_record(s) and school_record(s).id == str(s.id)


def test_family_record_counts_everyone_and_only_located_schools(db):
    near, far = make_school(name="A"), make_school(name="B")
    f = make_family(adults=2, schools=(near, far, None), languages=("uk",), pet_allergy=True)
    arrival = dt.date(2026, 12, 3)
    rec = family_record(f, f.members, arrival)
    assert (rec.id, rec.size, rec.arrival, rec.languages, rec.pet_allergy) == (str(f.id), 5, arrival, ("uk",), True)
    assert [c.school_id for c in rec.children] == [str(near.id), str(far.id), None]
    only_near = family_record(f, f.members, arrival, located_schools={near.id})
    assert [c.school_id for c in only_near.children] == [str(near.id), None, None]
    assert family_record(f, [], arrival).size == 1  # never an empty family


def test_records_feed_the_matchers_rules(db):
    school = make_school(lat=59.30, lon=18.00)
    h = make_host(lat=59.30, lon=18.00, beds=2, accepts_children=False)
    f = make_family(adults=1, schools=(school,))
    fam = family_record(f, f.members, dt.date(2026, 12, 1))
    assert not rules.children_ok(host_record(h), fam)
    assert rules.child_km(host_record(h), fam, {str(school.id): school_record(school)}) == (0.0,)
    assert rules.capacity_ok(host_record(h), [fam], 1) and not rules.capacity_ok(host_record(h), [fam, 2], 2)


@pytest.fixture
def accepted(db):
    host = make_host(beds=1)
    run = MatchingRun(kind="match", state="done", params={})
    _db.session.add(run)
    _db.session.flush()
    family = make_family(adults=2, status="proposed")
    p = Proposal(run_id=run.id, family_id=family.id, host_id=host.id, state=ProposalState.ACCEPTED, child_km=[])
    _db.session.add(p)
    _db.session.flush()
    return p


def test_a_refused_confirm_keeps_the_requests_earlier_work(db, accepted):
    audit.record("earlier_work", "matching_run", accepted.run_id)
    with pytest.raises(placements.PlacementError):
        placements.confirm(accepted.id, None)  # two persons, one bed
    _db.session.commit()
    assert _db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "earlier_work")) == 1
    _db.session.refresh(accepted)
    assert accepted.state == ProposalState.ACCEPTED and accepted.family.status == FamilyStatus.PROPOSED
    assert _db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "placement_confirm")) == 0
