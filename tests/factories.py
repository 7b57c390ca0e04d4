"""Test factories for domain records (flushed, not committed: the caller commits)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from ebo.extensions import db

_seq = itertools.count(1)


def make_school(name: str = "Sjöängsskolan", lat: float = 59.30, lon: float = 18.00, code: str | None = None):
    """A school with coordinates."""
    from ebo.models import School

    s = School(code=code or f"{next(_seq):08d}", name=name, lat=lat, lon=lon)
    db.session.add(s)
    db.session.flush()
    return s


def make_unit(beds: int = 20, lat: float = 59.25, lon: float = 18.05, step_free: bool = True, name: str = "Enheten"):
    """A municipal housing unit."""
    from ebo.models import HousingUnit

    u = HousingUnit(name=name, beds=beds, lat=lat, lon=lon, step_free=step_free)
    db.session.add(u)
    db.session.flush()
    return u


def make_host(lat: float = 59.301, lon: float = 18.001, beds: int = 4, vetting: str = "approved",
              state: str = "active", languages=("sv",), reconfirmed: dt.datetime | None = None, user=None, **kw):
    """A host household (with its own host user) that takes part in matching by default."""
    from ebo.models import HostHousehold, User

    if user is None:
        user = User(email=f"host-{uuid.uuid4().hex[:10]}@example.org", password_hash="!", role="host",
                    name="Värd")
        db.session.add(user)
        db.session.flush()
    h = HostHousehold(user_id=user.id, contact_name="Anna Värd", email=user.email, phone="0701234567",
                      street="Ekvägen 1", postal_code="123 45", town="Sjövik", lat=lat, lon=lon, beds=beds,
                      rooms=2, vetting_status=vetting, state=state, languages=list(languages),
                      last_reconfirmed_at=reconfirmed or dt.datetime.now(dt.UTC), geocode_status="ok", **kw)
    db.session.add(h)
    db.session.flush()
    return h


def make_family(adults: int = 1, schools=(), status: str = "waiting", needed_from: dt.date | None = None,
                languages=("ar",), **kw):
    """A family with `adults` adults and one child per entry of `schools` (a School or None)."""
    from ebo.models import Family, FamilyMember

    f = Family(contact_name="Rana Familj", contact_phone="0731234567", languages=list(languages),
               route="anvisning", needed_from=needed_from or dt.date(2026, 11, 1), status=status, **kw)
    f.members = [FamilyMember(kind="adult", first_name="Rana" if i == 0 else None, birth_year=1985, position=i)
                 for i in range(adults)]
    f.members += [FamilyMember(kind="child", birth_year=2016, school_id=getattr(s, "id", None), position=10 + i)
                  for i, s in enumerate(schools)]
    db.session.add(f)
    db.session.flush()
    return f
