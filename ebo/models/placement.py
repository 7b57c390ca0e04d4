"""Placements (a family housed with a host or in a unit) and their follow-up visits."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ebo.extensions import db
from ebo.models.types import created_at_column, enum_check, enum_column, one_of_check, uuid_pk

if TYPE_CHECKING:
    from ebo.models.family import Family
    from ebo.models.host import HostHousehold
    from ebo.models.matching import Proposal
    from ebo.models.school import HousingUnit


class EndReason(StrEnum):
    """Why a placement ended."""

    MOVED_ON = "moved_on"
    PERMIT_STAYED = "permit_stayed"
    ENDED_BY_HOST = "ended_by_host"
    ENDED_BY_FAMILY = "ended_by_family"
    OTHER = "other"


class Placement(db.Model):
    """A confirmed stay of a family with a host or in a unit; active while ``end_date`` is NULL.

    A partial unique index allows at most one active placement per family (docs/security.md S24).
    """

    __tablename__ = "placements"
    __table_args__ = (
        one_of_check("host_id", "unit_id", name="host_xor_unit"),
        enum_check("end_reason", EndReason, nullable=True),
        sa.CheckConstraint("persons >= 1", name="persons_pos"),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        sa.Index(
            "uq_placements_family_id_active",
            "family_id",
            unique=True,
            sqlite_where=sa.text("end_date IS NULL"),
            postgresql_where=sa.text("end_date IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    family_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Hosts and units with placement history cannot be deleted (RESTRICT); erase by pseudonymising.
    host_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("host_households.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("housing_units.id"), index=True)
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("proposals.id", ondelete="SET NULL"))
    persons: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    start_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(sa.Date, index=True)
    end_reason: Mapped[str | None] = enum_column(EndReason, nullable=True)  # personal
    end_note: Mapped[str | None] = mapped_column(sa.Text)  # personal
    confirmed_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    ended_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

    family: Mapped[Family] = relationship("Family", back_populates="placements")
    host: Mapped[HostHousehold | None] = relationship("HostHousehold", back_populates="placements")
    unit: Mapped[HousingUnit | None] = relationship("HousingUnit", back_populates="placements")
    proposal: Mapped[Proposal | None] = relationship("Proposal")
    follow_ups: Mapped[list[FollowUpVisit]] = relationship(
        "FollowUpVisit",
        back_populates="placement",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FollowUpVisit.planned_on",
    )

    @property
    def is_active(self) -> bool:
        """Return whether the placement has not ended."""
        return self.end_date is None

    def __repr__(self) -> str:
        """Return a debug representation."""
        return f"<Placement {self.id} active={self.is_active}>"


class FollowUpVisit(db.Model):
    """A planned (and, once done, recorded) follow-up visit to a placement."""

    __tablename__ = "follow_up_visits"

    id: Mapped[uuid.UUID] = uuid_pk()
    placement_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("placements.id", ondelete="CASCADE"), nullable=False, index=True
    )
    planned_on: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    done_on: Mapped[date | None] = mapped_column(sa.Date)
    by_user: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(sa.Text)  # personal (may be sensitive: keep to facts)
    created_at: Mapped[datetime] = created_at_column()

    placement: Mapped[Placement] = relationship("Placement", back_populates="follow_ups")
