"""Schools (Skolverket's school-unit register): add, change, list."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ebo.extensions import db
from ebo.models import School
from ebo.services import audit

CODE_RE = re.compile(r"^\d{8}$")
PER_PAGE = 50


class SchoolError(ValueError):
    """A rule was broken; ``field`` names the form field."""

    def __init__(self, message, field: str = ""):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass
class SchoolData:
    """A school as entered or imported."""

    code: str
    name: str
    street: str | None = None
    postal_code: str | None = None
    town: str | None = None
    municipality_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    active: bool = True


def by_code(code: str):
    """The school with this skolenhetskod, or None."""
    return db.session.scalar(sa.select(School).where(School.code == code))


def _apply(school, data: SchoolData) -> None:
    for name in ("code", "name", "street", "postal_code", "town", "municipality_code", "lat", "lon", "active"):
        setattr(school, name, getattr(data, name))


def save_school(data: SchoolData, school=None, actor=None):
    """Add a school, or change `school`; the 8-digit code must be unique (flushed)."""
    if not CODE_RE.match(data.code or ""):
        raise SchoolError(_l("A skolenhetskod has exactly 8 digits."), "code")
    other = by_code(data.code)
    if other is not None and other is not school:
        raise SchoolError(_l("Another school already has this skolenhetskod."), "code")
    created = school is None
    if created:
        school = School()
        db.session.add(school)
    _apply(school, data)
    db.session.flush()
    audit.record("school_created" if created else "school_updated", "school", school.id, actor=actor)
    return school


def list_page(q: str = "", page: int = 1, show_inactive: bool = False):
    """Schools by name, optionally searched by name, code or town, one page."""
    query = sa.select(School)
    if not show_inactive:
        query = query.where(School.active)
    q = " ".join(q.split())[:100]
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(School.name.ilike(like, escape="\\"), School.code.like(like, escape="\\"),
                                   School.town.ilike(like, escape="\\")))
    return db.paginate(query.order_by(School.name, School.code), page=max(1, page), per_page=PER_PAGE,
                       error_out=False)
