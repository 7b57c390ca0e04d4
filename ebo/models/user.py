"""User accounts and roles."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ebo.extensions import db
from ebo.models.types import UTCDateTime, created_at_column, enum_check, enum_column, utcnow, uuid_pk

if TYPE_CHECKING:
    from ebo.models.host import HostHousehold


class Role(StrEnum):
    """The four roles of the system."""

    HOST = "host"
    COORDINATOR = "coordinator"
    CASEWORKER = "caseworker"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.COORDINATOR, Role.CASEWORKER, Role.ADMIN})


def new_session_token() -> str:
    """Return a fresh random session token (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    """A login account: a host or a staff member.

    Flask-Login stores ``get_id()`` = ``"<id>:<session_token>"`` in the session; rotating
    ``session_token`` (logout, password change, deactivation) revokes every existing session.
    """

    __tablename__ = "users"
    __table_args__ = (
        enum_check("role", Role),
        sa.Index("ix_users_role_email", "role", "email"),  # the accounts list's order; staff by role
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)  # personal
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)  # secret
    role: Mapped[str] = enum_column(Role, default=Role.HOST)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")  # personal
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    session_token: Mapped[str] = mapped_column(sa.String(64), nullable=False, default=new_session_token)
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # False only while a self-registered address awaits confirmation (ebo/services/verification.py).
    email_verified: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True, server_default=sa.true())
    # A password set by someone else (an administrator, the command line) is changed at first login.
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False,
                                                       server_default=sa.false())

    host: Mapped[HostHousehold | None] = relationship(
        "HostHousehold",
        back_populates="user",
        uselist=False,
        foreign_keys="HostHousehold.user_id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        """Store email addresses trimmed and lowercase."""
        return value.strip().lower() if value is not None else value

    def get_id(self) -> str:
        """Return the Flask-Login id: ``"<uuid>:<session_token>"``."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Return whether the account may log in."""
        return bool(self.active)

    def has_role(self, *roles: str) -> bool:
        """Return whether the user has one of ``roles``."""
        return self.role in roles

    @property
    def is_staff(self) -> bool:
        """Return whether the user is a coordinator, caseworker or admin."""
        return self.role in STAFF_ROLES

    def rotate_session_token(self) -> None:
        """Replace the session token, revoking every existing session of this user."""
        self.session_token = new_session_token()

    def touch_password_changed(self) -> None:
        """Record a password change now and revoke existing sessions."""
        self.password_changed_at = utcnow()
        self.rotate_session_token()

    def __repr__(self) -> str:
        """Return a debug representation without personal data."""
        return f"<User {self.id} {self.role}>"
