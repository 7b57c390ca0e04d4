"""Plus 5 % drills: a generated arrival matched against today's capacity, kept year by year."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ebo.extensions import db
from ebo.models.types import created_at_column, uuid_pk

if TYPE_CHECKING:
    from ebo.models.matching import MatchingRun


class Drill(db.Model):
    """A preparedness drill and its aggregate result (no personal data)."""

    __tablename__ = "drills"

    id: Mapped[uuid.UUID] = uuid_pk()
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("matching_runs.id", ondelete="SET NULL"), index=True
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    year: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)
    population: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    target_persons: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    summary: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    run: Mapped[MatchingRun | None] = relationship("MatchingRun")
