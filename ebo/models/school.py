"""Schools (Skolverket's school-unit register) and the municipality's own housing units."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ebo.extensions import db
from ebo.models.types import created_at_column, updated_at_column, uuid_pk

if TYPE_CHECKING:
    from ebo.models.placement import Placement


class School(db.Model):
    """A school unit, keyed by its 8-digit skolenhetskod. Not personal data."""

    __tablename__ = "schools"

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(sa.String(8), unique=True, nullable=False)  # skolenhetskod
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    street: Mapped[str | None] = mapped_column(sa.String(200))
    postal_code: Mapped[str | None] = mapped_column(sa.String(6))
    town: Mapped[str | None] = mapped_column(sa.String(100))
    municipality_code: Mapped[str | None] = mapped_column(sa.String(4))
    lat: Mapped[float | None] = mapped_column(sa.Double)
    lon: Mapped[float | None] = mapped_column(sa.Double)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    def __repr__(self) -> str:
        """Return a debug representation."""
        return f"<School {self.code} {self.name!r}>"


class HousingUnit(db.Model):
    """A municipal asylum-housing unit (the fallback to host homes). Not personal data.

    ``beds_used`` is guarded like a host's: ``UPDATE ... WHERE beds_used + :n <= beds`` plus a CHECK.
    """

    __tablename__ = "housing_units"
    __table_args__ = (
        sa.CheckConstraint("beds >= 0", name="beds_nonneg"),
        sa.CheckConstraint("beds_used >= 0", name="beds_used_nonneg"),  # over beds only after a family grew
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    street: Mapped[str | None] = mapped_column(sa.String(200))
    postal_code: Mapped[str | None] = mapped_column(sa.String(6))
    town: Mapped[str | None] = mapped_column(sa.String(100))
    lat: Mapped[float | None] = mapped_column(sa.Double)
    lon: Mapped[float | None] = mapped_column(sa.Double)
    beds: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    beds_used: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    step_free: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    # Units are deactivated, not deleted: deleting one with placements fails (RESTRICT).
    placements: Mapped[list[Placement]] = relationship(
        "Placement", back_populates="unit", passive_deletes="all"
    )

    @property
    def free_beds(self) -> int:
        """Return the beds not taken by active placements."""
        return (self.beds or 0) - (self.beds_used or 0)

    def __repr__(self) -> str:
        """Return a debug representation."""
        return f"<HousingUnit {self.id} {self.name!r}>"
