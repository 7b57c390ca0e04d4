"""A log of outgoing email (the outbox)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ebo.extensions import db
from ebo.models.types import UTCDateTime, created_at_column, uuid_pk


class EmailMessage(db.Model):
    """One email queued or sent by the app, with its delivery outcome."""

    __tablename__ = "email_messages"

    id: Mapped[uuid.UUID] = uuid_pk()
    to_addr: Mapped[str] = mapped_column(sa.String(254), nullable=False)  # personal
    subject: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)  # personal (may name the recipient)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False, index=True)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.Text)
