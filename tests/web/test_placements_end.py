"""Ending a placement: the beds come back, the family waits again or has moved on, audited, never twice."""

from __future__ import annotations

import datetime as dt

import pytest

from ebo.services import placements as svc
from tests.web import placement_factories as pf

START = dt.date(2025, 1, 10)
TODAY = dt.date(2025, 6, 1)


@pytest.fixture
def setup(db, monkeypatch):
    pf.freeze(monkeypatch, TODAY)
    h, u = pf.host(beds=6), pf.unit(beds=10)
    ph = pf.placement(pf.family(adults=2, children=[(2015, None)]), h, START)
    pu = pf.placement(pf.family(adults=1), u, START)
    db.session.commit()
    return h, u, ph, pu


def _end(client, p, **data):
    form = {"end_date": "2025-05-31", "reason": "ended_by_host", **data}
    return client.post(f"/placements/{p.id}/end", data=form)


def test_ending_gives_the_beds_back_and_the_family_waits_again(client, login_as, setup, db):
    h, _u, ph, _pu = setup
    assert (h.beds_used, h.families_placed) == (3, 1)
    user = login_as("caseworker")
    assert client.get(f"/placements/{ph.id}/end").status_code == 200
    resp = _end(client, ph, still_needs_housing="y", note="Host moving abroad.")
    assert resp.status_code == 302
    db.session.refresh(h)
    db.session.refresh(ph)
    assert (h.beds_used, h.families_placed) == (0, 0)
    assert (ph.end_date, ph.end_reason, ph.ended_by) == (dt.date(2025, 5, 31), "ended_by_host", user.id)
    assert ph.family.status == "waiting"
    events = pf.audit_rows("placement_end")
    assert len(events) == 1 and events[0].object_id == str(ph.id)
    assert events[0].details == {"family_id": str(ph.family_id), "persons": 3, "place": "host"}


def test_ending_a_unit_placement_family_moved_on(client, login_as, setup, db):
    _h, u, _ph, pu = setup
    assert u.beds_used == 1
    login_as("caseworker")
    assert _end(client, pu, reason="moved_on").status_code == 302
    db.session.refresh(u)
    db.session.refresh(pu)
    assert u.beds_used == 0 and pu.family.status == "moved_on" and not pu.is_active


def test_cannot_end_twice(client, login_as, setup, db):
    h, _u, ph, _pu = setup
    login_as("caseworker")
    _end(client, ph)
    resp = _end(client, ph, end_date="2025-05-30")
    assert resp.status_code == 302
    db.session.refresh(h)
    db.session.refresh(ph)
    assert (h.beds_used, ph.end_date) == (0, dt.date(2025, 5, 31))
    assert len(pf.audit_rows("placement_end")) == 1
    with pytest.raises(svc.PlacementError):
        svc.end_placement(ph, TODAY, "other", False)


def test_a_stale_copy_cannot_end_it_again(db, setup):
    """Two requests racing: the guarded update lets only the first end it and release the beds."""
    h, _u, ph, _pu = setup
    svc.end_placement(ph, TODAY, "other", False)
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(ph, "end_date", None)  # what a second request loaded before the first committed
    assert ph.is_active
    with pytest.raises(svc.PlacementError):
        svc.end_placement(ph, TODAY, "other", False)
    db.session.refresh(h)
    assert h.beds_used == 0


@pytest.mark.parametrize("data", [
    {"end_date": "2025-01-09"},  # before the start
    {"end_date": "2025-06-02"},  # in the future
    {"end_date": "not a date"},
    {"reason": "evicted"},
    {"reason": ""},
])
def test_invalid_end_is_refused(client, login_as, setup, db, data):
    h, _u, ph, _pu = setup
    login_as("caseworker")
    resp = _end(client, ph, **data)
    assert resp.status_code == 200
    db.session.refresh(ph)
    db.session.refresh(h)
    assert ph.is_active and h.beds_used == 3
    assert pf.audit_rows("placement_end") == []


@pytest.mark.parametrize("role", ["coordinator", "host", "admin"])
def test_only_caseworkers_end_placements(client, login_as, setup, db, role):
    h, _u, ph, _pu = setup
    login_as(role)
    assert client.get(f"/placements/{ph.id}/end").status_code == 403
    assert _end(client, ph).status_code == 403
    db.session.refresh(ph)
    assert ph.is_active
