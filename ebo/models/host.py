"""Host households (residents offering room) and their home visits."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ebo.extensions import db
from ebo.models.types import (
    UTCDateTime,
    add_months,
    created_at_column,
    enum_check,
    enum_column,
    start_of_day_utc,
    updated_at_column,
    utcnow,
    uuid_pk,
)
from ebo.references import host_reference

if TYPE_CHECKING:
    from ebo.models.placement import Placement
    from ebo.models.user import User


#: Decimals kept of a home's latitude and longitude: 0.001° is about 110 m north-south and 55 m east-west
#: here, well inside what matching needs (school distances to 0.1 km against limits of whole km), and it
#: no longer points at one house. Every copy (run inputs, backups) inherits the rounding.
COORD_DECIMALS = 3

class GeocodeStatus(StrEnum):
    """How the household's coordinates were obtained."""

    OK = "ok"
    NOT_FOUND = "not_found"
    PENDING = "pending"
    MANUAL = "manual"


class VettingStatus(StrEnum):
    """Vetting by a coordinator: registered → visited → approved or rejected."""

    REGISTERED = "registered"
    VISITED = "visited"
    APPROVED = "approved"
    REJECTED = "rejected"


class HostState(StrEnum):
    """The host's own choice: active, paused, or withdrawn."""

    ACTIVE = "active"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"


class VisitOutcome(StrEnum):
    """Outcome of a home visit."""

    APPROVED = "approved"
    REJECTED = "rejected"
    REVISIT = "revisit"


class HostHousehold(db.Model):
    """A resident household offering beds.

    Double booking is prevented by the counters ``beds_used`` and ``families_placed`` and their CHECK
    constraints: services confirm with a guarded ``UPDATE ... SET beds_used = beds_used + :n
    WHERE id = :id AND beds_used + :n <= beds`` (docs/security.md S24).
    """

    __tablename__ = "host_households"
    __table_args__ = (
        enum_check("geocode_status", GeocodeStatus),
        enum_check("vetting_status", VettingStatus),
        enum_check("state", HostState),
        sa.CheckConstraint("beds >= 1 AND beds <= 20", name="beds_range"),
        sa.CheckConstraint("rooms >= 0", name="rooms_nonneg"),
        sa.CheckConstraint("adults_living >= 0 AND children_living >= 0", name="living_nonneg"),
        # beds_used may exceed beds only when a placed family grew (families.update_family warns); the
        # guarded confirm (capacity.reserve_host) then refuses every further family until it is resolved.
        sa.CheckConstraint("beds_used >= 0", name="beds_used_nonneg"),
        sa.CheckConstraint("max_families >= 1", name="max_families_pos"),
        sa.CheckConstraint(
            "families_placed >= 0 AND families_placed <= max_families", name="families_placed_range"
        ),
        sa.CheckConstraint(
            "available_until IS NULL OR available_from IS NULL OR available_until >= available_from",
            name="available_order",
        ),
        sa.Index("ix_host_households_vetting_state", "vetting_status", "state"),
        # The hosts list's order (by name), without and with the vetting filter.
        sa.Index("ix_host_households_contact_name", "contact_name", "id"),
        sa.Index("ix_host_households_vetting_name", "vetting_status", "contact_name", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # A short human reference ("V-7K3M-9Q2X") that tells apart two hosts with the same first name.
    reference: Mapped[str] = mapped_column(sa.String(12), unique=True, nullable=False, default=host_reference)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    # Contact and address: personal.
    contact_name: Mapped[str] = mapped_column(sa.String(120), nullable=False)  # personal
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)  # personal
    phone: Mapped[str] = mapped_column(sa.String(40), nullable=False, default="")  # personal
    street: Mapped[str] = mapped_column(sa.String(200), nullable=False)  # personal (home address)
    postal_code: Mapped[str] = mapped_column(sa.String(6), nullable=False, index=True)  # "123 45"
    town: Mapped[str] = mapped_column(sa.String(100), nullable=False)  # personal
    lat: Mapped[float | None] = mapped_column(sa.Double)  # personal (derived from the address)
    lon: Mapped[float | None] = mapped_column(sa.Double)  # personal (derived from the address)
    geocode_status: Mapped[str] = enum_column(GeocodeStatus, default=GeocodeStatus.PENDING)
    # The home: personal (describes a private home).
    adults_living: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    children_living: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    beds: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    rooms: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    beds_used: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    families_placed: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    max_families: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    accepts_children: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    step_free: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    has_pets: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    smoking: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    languages: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False, default=list)  # ISO 639-1
    available_from: Mapped[date | None] = mapped_column(sa.Date)  # NULL: available now
    available_until: Mapped[date | None] = mapped_column(sa.Date)  # NULL: open-ended
    open_to_long_term_rental: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    free_text: Mapped[str | None] = mapped_column(sa.Text)  # personal (free text may hold anything)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_version: Mapped[str | None] = mapped_column(sa.String(20))
    # Vetting.
    vetting_status: Mapped[str] = enum_column(VettingStatus, default=VettingStatus.REGISTERED)
    vetting_decided_by: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    vetting_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vetting_reason: Mapped[str | None] = mapped_column(sa.Text)  # personal (assessment of a person)
    state: Mapped[str] = enum_column(HostState, default=HostState.ACTIVE)
    # Registration counts as the first confirmation.
    last_reconfirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    reconfirm_reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a stay with the host ends: the host is asked whether they can take another family; cleared
    # by their answer (yes: the offer stays open; no: it is paused).
    another_family_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    user: Mapped[User] = relationship("User", back_populates="host", foreign_keys=[user_id])
    home_visits: Mapped[list[HomeVisit]] = relationship(
        "HomeVisit",
        back_populates="host",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="HomeVisit.visited_on",
    )
    # Placements keep a host's history: deleting a host with placements fails (RESTRICT) on purpose.
    placements: Mapped[list[Placement]] = relationship(
        "Placement", back_populates="host", passive_deletes="all"
    )

    @validates("lat", "lon")
    def _round_coordinate(self, _key: str, value: float | None) -> float | None:
        """Keep a home's position only as precisely as matching needs (COORD_DECIMALS, about 100 m)."""
        return None if value is None else round(float(value), COORD_DECIMALS)

    @property
    def free_beds(self) -> int:
        """Return the beds not yet taken by confirmed placements."""
        return (self.beds or 0) - (self.beds_used or 0)

    def takes_part_in_matching(self, today: date, months: int = 12) -> bool:
        """Return whether the host is approved, active and reconfirmed within ``months`` of ``today``."""
        if self.vetting_status != VettingStatus.APPROVED or self.state != HostState.ACTIVE:
            return False
        if self.last_reconfirmed_at is None:
            return False
        return self.last_reconfirmed_at >= start_of_day_utc(add_months(today, -months))

    @classmethod
    def matching_clause(cls, today: date, months: int = 12) -> sa.ColumnElement[bool]:
        """Return the SQL condition equivalent to :meth:`takes_part_in_matching`."""
        return sa.and_(
            cls.vetting_status == VettingStatus.APPROVED.value,
            cls.state == HostState.ACTIVE.value,
            cls.last_reconfirmed_at >= start_of_day_utc(add_months(today, -months)),
        )

    def __repr__(self) -> str:
        """Return a debug representation without personal data."""
        return f"<HostHousehold {self.id} {self.vetting_status}/{self.state}>"


class HomeVisit(db.Model):
    """A coordinator's home visit to a host household."""

    __tablename__ = "home_visits"
    __table_args__ = (enum_check("outcome", VisitOutcome),)

    id: Mapped[uuid.UUID] = uuid_pk()
    host_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("host_households.id", ondelete="CASCADE"), nullable=False, index=True
    )
    visited_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    visited_by_name: Mapped[str] = mapped_column(sa.String(120), nullable=False)  # personal (staff name)
    outcome: Mapped[str] = enum_column(VisitOutcome)
    notes: Mapped[str | None] = mapped_column(sa.Text)  # personal (assessment of a home)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

    host: Mapped[HostHousehold] = relationship("HostHousehold", back_populates="home_visits")
