"""Test data for the placements screens, made directly with the models (flushed; the caller commits)."""

from __future__ import annotations

import datetime as dt
import uuid

from ebo.extensions import db
from ebo.services import capacity


def school(name: str = "Centralskolan", lat: float = 59.0, lon: float = 18.0):
    """A school with coordinates."""
    from ebo.models import School

    s = School(code=uuid.uuid4().hex[:8], name=name, lat=lat, lon=lon)
    db.session.add(s)
    db.session.flush()
    return s


def host(postal_code: str = "123 45", beds: int = 6, open_to_rental: bool = False, lat: float = 59.0,
         lon: float = 18.01, name: str = "Anna Värd"):
    """An approved, active host household with its own login account."""
    from ebo.models import HostHousehold, User

    user = User(email=f"host-{uuid.uuid4().hex[:8]}@example.org", password_hash="x", role="host", name=name)
    h = HostHousehold(user=user, contact_name=name, email=user.email, phone="070-000 00 00",
                      street="Storgatan 1", postal_code=postal_code, town="Småstad", lat=lat, lon=lon,
                      beds=beds, rooms=2, max_families=2, vetting_status="approved", state="active",
                      open_to_long_term_rental=open_to_rental)
    db.session.add(h)
    db.session.flush()
    return h


def unit(name: str = "Björkgården", beds: int = 20, postal_code: str = "543 21"):
    """A municipal housing unit."""
    from ebo.models import HousingUnit

    u = HousingUnit(name=name, street="Vägen 2", postal_code=postal_code, town="Småstad", lat=59.1, lon=18.1,
                    beds=beds)
    db.session.add(u)
    db.session.flush()
    return u


def family(adults: int = 2, children=(), route: str = "anvisning", name: str = "Family Contact",
           dossier: str | None = None, status: str = "waiting", health: str | None = None):
    """A family; `children` is a list of (birth_year, school or None)."""
    from ebo.models import Family, FamilyMember, HealthNote

    f = Family(contact_name=name, contact_phone="072-111 11 11", contact_email="fam@example.org",
               languages=["ar"], route=route, needed_from=dt.date(2024, 1, 1), status=status,
               dossier_number=dossier, notes="caseworker note")
    pos = 0
    for i in range(adults):
        f.members.append(FamilyMember(kind="adult", first_name=f"Adult{i}", birth_year=1985, position=pos))
        pos += 1
    for year, sch in children:
        f.members.append(FamilyMember(kind="child", first_name=f"Child{pos}", birth_year=year,
                                      school_id=sch.id if sch else None, position=pos))
        pos += 1
    if health:
        f.health_note = HealthNote(text=health)
    db.session.add(f)
    db.session.flush()
    return f


def placement(fam, place, start: dt.date, end: dt.date | None = None, reason: str | None = None,
              proposal_km=None):
    """A confirmed placement with a host or in a unit, its beds reserved (released again if it ended)."""
    from ebo.models import HostHousehold, MatchingRun, Placement, Proposal

    is_host = isinstance(place, HostHousehold)
    persons = fam.size
    prop = None
    if proposal_km is not None:
        run = MatchingRun(kind="match", state="done")
        db.session.add(run)
        db.session.flush()
        prop = Proposal(run_id=run.id, family_id=fam.id, host_id=place.id if is_host else None,
                        unit_id=None if is_host else place.id, child_km=list(proposal_km), state="confirmed")
        db.session.add(prop)
        db.session.flush()
    p = Placement(family_id=fam.id, host_id=place.id if is_host else None,
                  unit_id=None if is_host else place.id, persons=persons, start_date=start, end_date=end,
                  end_reason=reason, proposal_id=prop.id if prop else None)
    db.session.add(p)
    db.session.flush()
    if end is None:
        (capacity.reserve_host if is_host else capacity.reserve_unit)(place.id, persons)
        fam.status = "placed"
    else:
        fam.status = "moved_on"
    db.session.flush()
    return p


def visit(p, planned_on: dt.date, done_on: dt.date | None = None):
    """A stored follow-up visit."""
    from ebo.models import FollowUpVisit

    v = FollowUpVisit(placement_id=p.id, planned_on=planned_on, done_on=done_on)
    db.session.add(v)
    db.session.flush()
    return v


def english(client) -> None:
    """Switch the client's session to English, for assertions on text."""
    client.post("/language", data={"lang": "en", "next": "/"})


def freeze(monkeypatch, day: dt.date) -> None:
    """Freeze the placements service's clock at `day`."""
    from ebo.services import placements

    monkeypatch.setattr(placements, "today", lambda: day)


def audit_rows(action: str) -> list:
    """Audit events with this action, oldest first."""
    import sqlalchemy as sa

    from ebo.models import AuditEvent

    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()
