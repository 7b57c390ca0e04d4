"""Search texts kept on the server for one session: the cookie holds only a random key."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ebo.extensions import db
from ebo.models.types import UTCDateTime


class SavedSearch(db.Model):
    """A staff member's last search text (a name or dossier number), under a random key, until it expires.

    The signed session cookie is readable by whoever holds it, so personal search terms never go
    there or into the URL: the cookie carries ``id`` only, and the row is useless without the user.
    """

    __tablename__ = "saved_searches"

    id: Mapped[str] = mapped_column(sa.String(43), primary_key=True)  # secrets.token_urlsafe(32)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    text: Mapped[str] = mapped_column(sa.String(120), nullable=False)  # personal: a name or dossier number
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
