"""The municipality's address / postal-code → coordinates table, imported from CSV."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ebo.extensions import db
from ebo.models.types import uuid_pk

# Sweden with a margin (WGS 84 degrees): a point outside is a typing or column mix-up, or a geocoder's
# answer for the wrong place. The one box of the application: imports, forms and the geocoder use it.
SWEDEN_LAT = (54.0, 70.5)
SWEDEN_LON = (9.0, 25.5)


def in_sweden(lat: float, lon: float) -> bool:
    """True when (lat, lon) lies in the box around Sweden."""
    return SWEDEN_LAT[0] <= lat <= SWEDEN_LAT[1] and SWEDEN_LON[0] <= lon <= SWEDEN_LON[1]


def normalise_street(street: str | None) -> str:
    """Return the lookup form of a street address: trimmed, single-spaced, lowercase ('' for none)."""
    return " ".join((street or "").split()).lower()


class AddressPoint(db.Model):
    """A point for a street address in a postal code, or for the postal code as a whole (street '').

    Public reference data, not personal. ``street`` is normalised with :func:`normalise_street`.
    """

    __tablename__ = "address_points"
    __table_args__ = (
        sa.UniqueConstraint("postal_code", "street", name="uq_address_points_postal_code_street"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    postal_code: Mapped[str] = mapped_column(sa.String(6), nullable=False)  # "123 45"
    street: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    town: Mapped[str | None] = mapped_column(sa.String(100))
    lat: Mapped[float] = mapped_column(sa.Double, nullable=False)
    lon: Mapped[float] = mapped_column(sa.Double, nullable=False)
