"""Capacity is kept when a placed or proposed family changes size (SQLite and PostgreSQL alike).

The rule (docs/domain.md, "When a family changes"): the edit is saved, because it is the truth about
the family; the placement takes the new size and its home's counters move with it, so they always
equal the sum of the placements; if the home is then over its beds, the caseworker is told which
placement no longer fits and asked to move the family or end the placement, and no further family
can be confirmed there until then.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from ebo.extensions import db as _db
from ebo.models import HostHousehold, MatchingRun, Placement, Proposal
from ebo.services import families as fam_svc
from ebo.services import placements as pl_svc
from tests.factories import make_family, make_host


def _data(family, adults: int, children: int = 0) -> fam_svc.FamilyData:
    members = [fam_svc.MemberData("adult", f"A{i}", 1980) for i in range(adults)]
    members += [fam_svc.MemberData("child", f"C{i}", 2016) for i in range(children)]
    return fam_svc.FamilyData(contact_name=family.contact_name, needed_from=family.needed_from, members=members)


def _proposal(host, adults: int):
    """A new family of `adults` with an accepted proposal to `host` (flushed)."""
    fam = make_family(adults=adults, status="proposed")
    run = MatchingRun(kind="match", state="done", params={})
    _db.session.add(run)
    _db.session.flush()
    prop = Proposal(run_id=run.id, family_id=fam.id, host_id=host.id, state="accepted", child_km=[])
    _db.session.add(prop)
    _db.session.flush()
    return fam, prop


def _placed(host, adults: int):
    """A new family of `adults` placed with `host` (committed)."""
    fam, prop = _proposal(host, adults)
    pl_svc.confirm(prop.id, None, start=dt.date(2026, 11, 1))
    _db.session.commit()
    return fam


def _accepted(host, adults: int):
    """A new family of `adults` with an accepted proposal to `host`, not yet confirmed (committed)."""
    fam, prop = _proposal(host, adults)
    _db.session.commit()
    return fam, prop


def _assert_counters_are_the_sum(host):
    _db.session.expire_all()
    host = _db.session.get(HostHousehold, host.id)
    rows = _db.session.execute(sa.select(Placement.persons).where(Placement.host_id == host.id,
                                                                  Placement.end_date.is_(None))).scalars().all()
    assert host.beds_used == sum(rows) and host.families_placed == len(rows)
    return host


def test_the_issue_case_a_grown_family_blocks_the_next_confirm(db):
    """4 beds, room for 2 families; a placed family of 2 grows to 4; another family of 2 is not confirmed."""
    host = make_host(beds=4, max_families=2)
    a = _placed(host, 2)
    warnings = fam_svc.update_family(a, _data(a, 2, 2))
    _db.session.commit()
    assert warnings == []  # 4 persons in 4 beds: it still fits
    assert _assert_counters_are_the_sum(host).beds_used == 4
    _b, prop = _accepted(host, 2)
    with pytest.raises(pl_svc.PlacementError):
        pl_svc.confirm(prop.id, None)
    _db.session.rollback()
    assert _assert_counters_are_the_sum(host).beds_used == 4


def test_a_family_that_outgrows_its_home_is_saved_with_a_warning_and_blocks_the_home(db):
    host = make_host(beds=4, max_families=3)
    a = _placed(host, 2)
    _placed(host, 2)
    with force_locale("en"):
        warnings = fam_svc.update_family(a, _data(a, 2, 1))
    _db.session.commit()
    assert len(warnings) == 1 and "Anna Värd" in warnings[0] and "Move the family or end the placement" in warnings[0]
    assert "has 3 persons" in warnings[0] and "4 beds" in warnings[0] and "5 persons" in warnings[0]
    host = _assert_counters_are_the_sum(host)
    assert host.beds_used == 5 > host.beds  # the truth, shown; never hidden
    _c, prop = _accepted(host, 1)
    with pytest.raises(pl_svc.PlacementError):  # no further family while over capacity
        pl_svc.confirm(prop.id, None)
    _db.session.rollback()
    # The family shrinks back (or moves): the home is in order again and takes the next family.
    assert fam_svc.update_family(a, _data(a, 1)) == []
    _db.session.commit()
    assert _assert_counters_are_the_sum(host).beds_used == 3
    pl_svc.confirm(prop.id, None)
    _db.session.commit()
    assert _assert_counters_are_the_sum(host).beds_used == 4


def test_ending_the_placement_frees_the_grown_familys_beds(db):
    host = make_host(beds=4, max_families=2)
    a = _placed(host, 2)
    _placed(host, 2)
    fam_svc.update_family(a, _data(a, 4))
    _db.session.commit()
    assert _assert_counters_are_the_sum(host).beds_used == 6
    placement = _db.session.scalars(sa.select(Placement).where(Placement.family_id == a.id)).one()
    pl_svc.end_placement(placement, dt.date(2026, 11, 20), "moved_on", False)
    _db.session.commit()
    assert _assert_counters_are_the_sum(host).beds_used == 2


def test_a_live_proposal_that_no_longer_fits_is_named(db):
    host = make_host(beds=3, max_families=2)
    _placed(host, 1)
    fam, _prop = _accepted(host, 2)
    assert fam_svc.update_family(fam, _data(fam, 2)) == []
    with force_locale("en"):
        warnings = fam_svc.update_family(fam, _data(fam, 3))
    _db.session.commit()
    assert len(warnings) == 1 and "no longer fits the home it is proposed to" in warnings[0]
    assert _assert_counters_are_the_sum(host).beds_used == 1  # a proposal holds no counter


def test_the_edit_page_shows_the_warning(client, login_as, db):
    host = make_host(beds=2, max_families=1)
    a = _placed(host, 2)
    login_as("caseworker")
    client.post("/language", data={"lang": "en", "next": "/"})
    data = {"contact_name": a.contact_name, "contact_phone": "", "contact_email": "", "dossier_number": "",
            "route": "anvisning", "needed_from": "2026-03-01", "notes": "", "health_note": "", "submit": "Save"}
    for i in range(3):
        data.update({f"members-{i}-kind": "adult", f"members-{i}-first_name": f"A{i}",
                     f"members-{i}-birth_year": "1980", f"members-{i}-school": ""})
    resp = client.post(f"/families/{a.id}/edit", data=data, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "The family was saved." in html
    assert "no longer fits its placement with Anna Värd" in html
    assert _assert_counters_are_the_sum(host).beds_used == 3
