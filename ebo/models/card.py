"""Welcome cards (välkommenkort): one card per family member, its encrypted photo, and the card partners."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ebo.extensions import db
from ebo.models.types import UTCDateTime, created_at_column, enum_check, enum_column, updated_at_column, uuid_pk


class CardStatus(StrEnum):
    """Where a card stands: in use, paused, replaced after loss, or withdrawn for good."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REPLACED = "replaced"
    WITHDRAWN = "withdrawn"


class PartnerKind(StrEnum):
    """What kind of place a card partner is."""

    TRANSPORT = "transport"
    LIBRARY = "library"
    MUSEUM = "museum"
    COURSE = "course"
    OTHER = "other"


CARD_LANGUAGES = ("sv", "en", "ar", "uk", "fa", "so", "ti")


class WelcomeCard(db.Model):
    """A welcome card for one person; the card itself carries only the first name, photo, validity and number."""

    __tablename__ = "welcome_cards"
    __table_args__ = (
        enum_check("status", CardStatus),
        sa.CheckConstraint("valid_until >= valid_from", name="valid_range"),
        sa.CheckConstraint(f"language IN ({', '.join(repr(c) for c in CARD_LANGUAGES)})", name="language"),
        sa.Index("ix_welcome_cards_status_valid_until", "status", "valid_until"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    number: Mapped[str] = mapped_column(sa.String(16), nullable=False, unique=True)  # printed on the card
    family_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False, index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("family_members.id", ondelete="CASCADE"), nullable=False, index=True)
    first_name: Mapped[str] = mapped_column(sa.String(80), nullable=False)  # personal
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="sv")  # personal
    valid_from: Mapped[date] = mapped_column(sa.Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[str] = enum_column(CardStatus, default=CardStatus.ACTIVE)
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("welcome_cards.id", ondelete="SET NULL"))
    issued_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    photo: Mapped[CardPhoto | None] = relationship(
        "CardPhoto", uselist=False, cascade="all, delete-orphan", passive_deletes=True, lazy="select")

    def __repr__(self) -> str:
        """Return a debug representation without personal data."""
        return f"<WelcomeCard {self.number} {self.status}>"


class CardPhoto(db.Model):
    """A card's photo, encrypted (Fernet); never served from the web root."""

    __tablename__ = "card_photos"

    id: Mapped[uuid.UUID] = uuid_pk()
    card_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("welcome_cards.id", ondelete="CASCADE"), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)  # personal (photo), encrypted


class CardPartner(db.Model):
    """A place where the card gives something: transport, library, museum, course provider."""

    __tablename__ = "card_partners"
    __table_args__ = (enum_check("kind", PartnerKind),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    kind: Mapped[str] = enum_column(PartnerKind, default=PartnerKind.OTHER)
    benefit: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = updated_at_column()
