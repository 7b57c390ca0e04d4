"""Account security records: single-use emailed tokens and the second factor (TOTP, recovery codes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ebo.extensions import db
from ebo.models.types import UTCDateTime, created_at_column, enum_check, enum_column, uuid_pk


class TokenPurpose(StrEnum):
    """What an emailed link is for."""

    RESET = "reset"  # forgotten password
    VERIFY = "verify"  # confirm the email address given at registration
    INVITE = "invite"  # a staff invitation: set one's own password
    CHANGE_EMAIL = "change_email"  # confirm a new email address before it takes effect


class AccountToken(db.Model):
    """A single-use, expiring link token; only the SHA-256 of the token is stored."""

    __tablename__ = "account_tokens"
    __table_args__ = (enum_check("purpose", TokenPurpose),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    purpose: Mapped[str] = enum_column(TokenPurpose)
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)  # secret (hash)
    new_email: Mapped[str | None] = mapped_column(sa.String(254))  # personal (email change only)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserMfa(db.Model):
    """A user's TOTP secret (RFC 6238); `confirmed_at` is set once a first code was entered."""

    __tablename__ = "user_mfa"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(sa.String(64), nullable=False)  # secret
    created_at: Mapped[datetime] = created_at_column()
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)  # last accepted time-step (no replay)


class MfaRecoveryCode(db.Model):
    """One single-use recovery code, stored as a keyed hash."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)  # secret (hash)
    created_at: Mapped[datetime] = created_at_column()
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
