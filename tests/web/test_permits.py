"""Residence permits: recording a decision, and candidates to stay on with a host open to renting."""

from __future__ import annotations

import datetime as dt

import pytest

from ebo.services import permits
from tests.web import placement_factories as pf

GRANTED = {"decision": "granted", "decided_on": "2025-04-01"}


@pytest.fixture
def three(db):
    """Placements with an open host, a host not open to renting, and a unit."""
    open_host, closed_host = pf.host(open_to_rental=True), pf.host(open_to_rental=False, name="Closed Host")
    p_open = pf.placement(pf.family(name="Family Open"), open_host, dt.date(2025, 1, 1))
    p_closed = pf.placement(pf.family(name="Family Closed"), closed_host, dt.date(2025, 1, 1))
    p_unit = pf.placement(pf.family(name="Family Unit"), pf.unit(), dt.date(2025, 1, 1))
    db.session.commit()
    return p_open, p_closed, p_unit


def test_record_a_decision_and_list_candidates(client, login_as, three, db):
    p_open, p_closed, p_unit = three
    login_as("caseworker")
    for p in three:
        resp = client.post(f"/placements/{p.id}/permit", data=GRANTED)
        assert resp.status_code == 302
    db.session.refresh(p_open.family)
    fam = p_open.family
    assert (fam.permit_decision, fam.permit_decided_on) == ("granted", dt.date(2025, 4, 1))
    assert [p.id for p in permits.stay_on_candidates()] == [p_open.id]
    html = client.get("/placements/permits").get_data(as_text=True)
    assert "Family Open" in html and "Family Closed" not in html and "Family Unit" not in html
    events = pf.audit_rows("permit_decision")
    assert len(events) == 3 and events[0].object_id == str(p_open.family_id)
    assert "granted" not in str(events[0].details)  # the decision itself is personal


def test_refused_or_ended_placements_are_no_candidates(db, three):
    from ebo.services import placements as svc

    p_open, _c, _u = three
    permits.record_decision(p_open.family, "refused", dt.date(2025, 4, 1))
    assert permits.stay_on_candidates() == []
    permits.record_decision(p_open.family, "granted", dt.date(2025, 5, 1))
    assert permits.stay_on_candidates() == [p_open]
    svc.end_placement(p_open, dt.date(2025, 6, 1), "permit_stayed", False)
    assert permits.stay_on_candidates() == []
    assert p_open.family.status == "moved_on"


def test_invalid_decision_is_refused(client, login_as, three, db):
    p_open = three[0]
    login_as("caseworker")
    client.post(f"/placements/{p_open.id}/permit", data={"decision": "maybe", "decided_on": "2025-04-01"})
    client.post(f"/placements/{p_open.id}/permit", data={"decision": "granted", "decided_on": "x"})
    db.session.refresh(p_open.family)
    assert p_open.family.permit_decision is None
    with pytest.raises(permits.PermitError):
        permits.record_decision(p_open.family, "maybe", dt.date(2025, 4, 1))


@pytest.mark.parametrize("role", ["coordinator", "host", "admin"])
def test_only_caseworkers_handle_permits(client, login_as, three, db, role):
    p_open = three[0]
    login_as(role)
    assert client.get("/placements/permits").status_code == 403
    resp = client.post(f"/placements/{p_open.id}/permit", data=GRANTED)
    assert resp.status_code == 403
    db.session.refresh(p_open.family)
    assert p_open.family.permit_decision is None
