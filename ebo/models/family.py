"""Families to be housed, their members and their (separately kept) health notes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ebo.extensions import db
from ebo.models.types import (
    UTCDateTime,
    created_at_column,
    enum_check,
    enum_column,
    updated_at_column,
    uuid_pk,
)
from ebo.references import family_reference

if TYPE_CHECKING:
    from ebo.models.placement import Placement
    from ebo.models.school import School


class Route(StrEnum):
    """How the family reached the municipality."""

    ANVISNING = "anvisning"
    ASYLUM_EBO = "asylum_ebo"
    RESIDENT = "resident"
    OTHER = "other"


class FamilyStatus(StrEnum):
    """Where the family stands in the housing process."""

    WAITING = "waiting"
    PROPOSED = "proposed"
    PLACED = "placed"
    MOVED_ON = "moved_on"


class PermitDecision(StrEnum):
    """A residence-permit decision."""

    GRANTED = "granted"
    REFUSED = "refused"


class MemberKind(StrEnum):
    """Adult or child."""

    ADULT = "adult"
    CHILD = "child"


class Family(db.Model):
    """A household to be housed. Every column is personal data about refugees (GDPR art. 5, 25)."""

    __tablename__ = "families"
    __table_args__ = (
        enum_check("route", Route),
        enum_check("status", FamilyStatus),
        enum_check("permit_decision", PermitDecision, nullable=True),
        sa.Index("ix_families_status_needed_from", "status", "needed_from"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # A short human reference ("F-7K3M-9Q2X") used on every page and in exports instead of the id.
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True, nullable=False, default=family_reference)
    dossier_number: Mapped[str | None] = mapped_column(sa.String(20), unique=True)  # personal (identifier)
    contact_name: Mapped[str] = mapped_column(sa.String(120), nullable=False)  # personal
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))  # personal
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))  # personal
    languages: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)  # personal
    route: Mapped[str] = enum_column(Route, default=Route.ANVISNING)  # personal
    needed_from: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    # Needs that reveal health: sensitive (GDPR art. 9); hosts see only what the home must offer.
    needs_step_free: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)  # sensitive
    pet_allergy: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)  # sensitive
    needs_non_smoking: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)  # personal
    status: Mapped[str] = enum_column(FamilyStatus, default=FamilyStatus.WAITING)  # indexed with needed_from
    notes: Mapped[str | None] = mapped_column(sa.Text)  # personal (caseworker notes)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    pseudonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    permit_decision: Mapped[str | None] = enum_column(PermitDecision, nullable=True)  # personal
    permit_decided_on: Mapped[date | None] = mapped_column(sa.Date)  # personal

    members: Mapped[list[FamilyMember]] = relationship(
        "FamilyMember",
        back_populates="family",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FamilyMember.position",
        lazy="selectin",
    )
    # Kept in its own table and never loaded eagerly: only caseworkers may see it.
    health_note: Mapped[HealthNote | None] = relationship(
        "HealthNote",
        back_populates="family",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="select",
    )
    placements: Mapped[list[Placement]] = relationship(
        "Placement",
        back_populates="family",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Placement.start_date",
    )

    @property
    def size(self) -> int:
        """Return the number of persons in the family."""
        return len(self.members)

    @property
    def adults(self) -> list[FamilyMember]:
        """Return the adult members."""
        return [m for m in self.members if m.kind == MemberKind.ADULT]

    @property
    def children(self) -> list[FamilyMember]:
        """Return the child members."""
        return [m for m in self.members if m.kind == MemberKind.CHILD]

    @property
    def active_placement(self) -> Placement | None:
        """Return the placement without an end date, if any."""
        return next((p for p in self.placements if p.end_date is None), None)

    def __repr__(self) -> str:
        """Return a debug representation without personal data."""
        return f"<Family {self.id} {self.status}>"


class FamilyMember(db.Model):
    """A person in a family: an adult, or a child with birth year and current school."""

    __tablename__ = "family_members"
    __table_args__ = (
        enum_check("kind", MemberKind),
        sa.CheckConstraint("birth_year >= 1900 AND birth_year <= 2100", name="birth_year_range"),
        sa.CheckConstraint("school_id IS NULL OR kind = 'child'", name="school_only_child"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    family_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = enum_column(MemberKind)  # personal
    first_name: Mapped[str | None] = mapped_column(sa.String(80))  # personal
    birth_year: Mapped[int | None] = mapped_column(sa.Integer)  # personal
    school_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("schools.id", ondelete="SET NULL"), index=True
    )  # personal (where a child is every day)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    family: Mapped[Family] = relationship("Family", back_populates="members")
    school: Mapped[School | None] = relationship("School")

    def age_in(self, year: int) -> int | None:
        """Return the member's age reached during ``year`` (None without a birth year)."""
        return None if self.birth_year is None else year - self.birth_year


class HealthNote(db.Model):
    """Optional health details of a family; sensitive (GDPR art. 9), caseworkers only."""

    __tablename__ = "health_notes"

    id: Mapped[uuid.UUID] = uuid_pk()
    family_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)  # sensitive: health
    updated_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = updated_at_column()

    family: Mapped[Family] = relationship("Family", back_populates="health_note")
