"""Municipal housing units: add, change, list; coordinates from the address table when left blank."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ebo.extensions import db
from ebo.models import AddressPoint, HousingUnit, normalise_street
from ebo.services import audit

PER_PAGE = 50


@dataclass
class UnitData:
    """A housing unit as entered."""

    name: str
    street: str | None = None
    postal_code: str | None = None
    town: str | None = None
    lat: float | None = None
    lon: float | None = None
    beds: int = 0
    step_free: bool = False
    active: bool = True
    notes: str | None = None


class UnitError(ValueError):
    """A rule was broken; ``field`` names the form field."""

    def __init__(self, message, field: str = ""):
        super().__init__(str(message))
        self.message = message
        self.field = field


def lookup_point(postal_code: str | None, street: str | None) -> tuple[float, float] | None:
    """Coordinates for an address from the imported address points (street first, then postal code)."""
    if not postal_code:
        return None
    for key in (normalise_street(street), ""):
        row = db.session.execute(sa.select(AddressPoint.lat, AddressPoint.lon).where(
            AddressPoint.postal_code == postal_code, AddressPoint.street == key)).first()
        if row is not None:
            return float(row[0]), float(row[1])
    return None


def save_unit(data: UnitData, unit=None, actor=None):
    """Add a unit or change `unit` (flushed); beds may not drop below the beds in use."""
    if unit is not None and data.beds < (unit.beds_used or 0):
        raise UnitError(_l("%(n)d beds are in use; the unit cannot have fewer beds than that.",
                           n=unit.beds_used), "beds")
    if data.lat is None or data.lon is None:
        point = lookup_point(data.postal_code, data.street)
        if point is not None:
            data.lat, data.lon = point
    created = unit is None
    if created:
        unit = HousingUnit(beds_used=0)
        db.session.add(unit)
    for name in ("name", "street", "postal_code", "town", "lat", "lon", "beds", "step_free", "active", "notes"):
        setattr(unit, name, getattr(data, name))
    db.session.flush()
    audit.record("unit_created" if created else "unit_updated", "housing_unit", unit.id, {"beds": data.beds},
                 actor=actor)
    return unit


def list_page(page: int = 1, show_inactive: bool = False):
    """Housing units by name, one page."""
    query = sa.select(HousingUnit)
    if not show_inactive:
        query = query.where(HousingUnit.active)
    return db.paginate(query.order_by(HousingUnit.name, HousingUnit.id), page=max(1, page), per_page=PER_PAGE,
                       error_out=False)


def totals() -> tuple[int, int]:
    """Beds and beds in use over all active units."""
    row = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(HousingUnit.beds), 0),
                                       sa.func.coalesce(sa.func.sum(HousingUnit.beds_used), 0))
                             .where(HousingUnit.active)).one()
    return int(row[0]), int(row[1])
