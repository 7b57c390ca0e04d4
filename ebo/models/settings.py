"""Municipality-wide settings (one row)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ebo.extensions import db
from ebo.models.types import updated_at_column, uuid_pk


class MunicipalitySettings(db.Model):
    """The municipality's figures and defaults; a single row (``singleton`` is unique and always 1)."""

    __tablename__ = "municipality_settings"
    __table_args__ = (
        sa.CheckConstraint("singleton = 1", name="singleton"),
        sa.CheckConstraint("target_percent > 0 AND target_percent <= 100", name="target_percent_range"),
        sa.CheckConstraint("population >= 0 AND households >= 0", name="counts_nonneg"),
        sa.CheckConstraint("retention_months >= 1 AND reconfirm_months >= 1", name="months_pos"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    singleton: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1, unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    population: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    households: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    target_percent: Mapped[float] = mapped_column(sa.Double, nullable=False, default=5.0)
    default_max_school_km: Mapped[float] = mapped_column(sa.Double, nullable=False, default=5.0)
    retention_months: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=24)
    reconfirm_months: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=12)
    updated_at: Mapped[datetime] = updated_at_column()
    updated_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def target_persons(self) -> int:
        """Return population × target percentage, rounded to whole persons."""
        return round((self.population or 0) * (self.target_percent or 0) / 100)

    @property
    def one_in_ten_households(self) -> int:
        """Return the "one household in ten" figure."""
        return (self.households or 0) // 10

    @classmethod
    def get(cls) -> MunicipalitySettings:
        """Return the settings row, adding one with defaults (flushed, not committed) if missing."""
        row = db.session.scalar(sa.select(cls).limit(1))
        if row is None:
            row = cls()
            db.session.add(row)
            db.session.flush()
        return row
