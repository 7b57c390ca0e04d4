"""The instance built from the database holds exactly who takes part in a run."""

from __future__ import annotations

import datetime as dt

import pytest

from ebo.extensions import db as _db
from ebo.services.match_instance import build_instance
from matching import schema as ms

TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def world(db, make_user):
    from ebo.models import (
        Family,
        FamilyMember,
        ForbiddenPair,
        HostHousehold,
        HousingUnit,
        MatchingRun,
        Placement,
        Proposal,
        School,
    )

    def host(vetting="approved", state="active", reconfirmed=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), beds=4,
             lat=59.3, **kw):
        u = make_user("host")
        h = HostHousehold(user_id=u.id, contact_name="X", email=u.email, phone="070", street="Ekvägen 1",
                          postal_code="123 45", town="Sjövik", lat=lat, lon=18.0, beds=beds, rooms=2,
                          vetting_status=vetting, state=state, last_reconfirmed_at=reconfirmed,
                          languages=["sv"], **kw)
        _db.session.add(h)
        return h

    def family(status="waiting", children=(), size_adults=1, needed=dt.date(2026, 11, 1)):
        f = Family(contact_name="Y", languages=["ar"], route="anvisning", needed_from=needed, status=status)
        f.members = [FamilyMember(kind="adult", position=i) for i in range(size_adults)]
        f.members += [FamilyMember(kind="child", birth_year=2016, school_id=s, position=10 + i)
                      for i, s in enumerate(children)]
        _db.session.add(f)
        return f

    school = School(code="12345678", name="Sjöängsskolan", lat=59.31, lon=18.0)
    nowhere = School(code="87654321", name="Okänd skola")
    _db.session.add_all([school, nowhere])
    _db.session.flush()
    w = {
        "ok": host(),
        "not_approved": host(vetting="visited"),
        "paused": host(state="paused"),
        "stale": host(reconfirmed=dt.datetime(2025, 11, 1, tzinfo=dt.UTC)),
        "ungeocoded": host(lat=None),
        "paused_hosting": host(state="paused", beds=3),
    }
    unit = HousingUnit(name="Enheten", lat=59.2, lon=18.1, beds=20, step_free=True)
    closed_unit = HousingUnit(name="Stängd", lat=59.2, lon=18.1, beds=20, active=False)
    _db.session.add_all([unit, closed_unit])
    w.update(
        waiting=family(children=[school.id, None]),
        unlocated=family(children=[nowhere.id]),
        placed=family(status="placed", size_adults=2),
        proposed=family(status="proposed"),
        moved_on=family(status="moved_on"),
        in_unit=family(status="placed"),
        unit=unit, school=school,
    )
    _db.session.flush()
    run = MatchingRun(kind="match", state="done")
    _db.session.add(run)
    _db.session.flush()
    _db.session.add_all([
        Placement(family_id=w["placed"].id, host_id=w["paused_hosting"].id, persons=2, start_date=TODAY),
        Placement(family_id=w["in_unit"].id, unit_id=unit.id, persons=1, start_date=TODAY),
        Proposal(run_id=run.id, family_id=w["proposed"].id, host_id=w["ok"].id, state="sent"),
        Proposal(run_id=run.id, family_id=w["waiting"].id, host_id=w["ok"].id, state="declined"),
        ForbiddenPair(family_id=w["waiting"].id, host_id=w["ok"].id, reason="declined"),
    ])
    _db.session.commit()
    return w


def test_only_takers_part_and_fixed_are_kept(world):
    inst, preview = build_instance(TODAY, max_school_km=5.0)
    hosts = {h.id: h for h in inst.hosts}
    assert set(hosts) == {str(world["ok"].id), str(world["paused_hosting"].id)}
    # The paused host keeps exactly the room its guests use, nothing more.
    assert hosts[str(world["paused_hosting"].id)].beds == 2
    assert hosts[str(world["paused_hosting"].id)].max_families == 1
    fams = {f.id: f for f in inst.families}
    assert str(world["moved_on"].id) not in fams
    assert {str(world[k].id) for k in ("waiting", "unlocated", "placed", "proposed", "in_unit")} == set(fams)
    fixed = {(x.family_id, x.host_id, x.unit_id) for x in inst.fixed}
    assert (str(world["placed"].id), str(world["paused_hosting"].id), None) in fixed
    assert (str(world["proposed"].id), str(world["ok"].id), None) in fixed
    assert (str(world["in_unit"].id), None, str(world["unit"].id)) in fixed
    assert [u.id for u in inst.units] == [str(world["unit"].id)]
    assert {(x.family_id, x.host_id) for x in inst.forbidden} == {(str(world["waiting"].id), str(world["ok"].id))}
    waiting = fams[str(world["waiting"].id)]
    assert waiting.size == 3 and [c.school_id for c in waiting.children] == [str(world["school"].id), None]
    assert waiting.arrival == TODAY  # needed since November: arrival is today
    # A school without coordinates cannot constrain; it is reported, not silently wrong.
    assert fams[str(world["unlocated"].id)].children[0].school_id is None
    assert preview.warnings and preview.families == 2 and preview.fixed == 3 and preview.hosts == 1


def test_instance_is_valid_ebo_match(world):
    inst, _ = build_instance(TODAY, max_school_km=3.0, families_per_host=2)
    again = ms.instance_from_dict(ms.instance_to_dict(inst))
    assert again == inst
    assert inst.params.max_school_km == 3.0 and inst.params.families_per_host == 2


def test_preview_counted_in_sql_equals_the_built_instance(world):
    """The runs page's preview is counted in SQL; it says what building the instance would say."""
    from ebo.services.match_instance import preview_counts

    _inst, built = build_instance(TODAY, max_school_km=5.0)
    counted = preview_counts(TODAY)
    assert counted == built
    assert (counted.families, counted.fixed, counted.hosts, counted.forbidden) == (2, 3, 1, 1)
