"""Search texts kept server-side for a session, under a random key (never in the cookie or the URL)."""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa

from ebo.clock import now
from ebo.extensions import db
from ebo.models import SavedSearch

#: How long a search text is kept: the longest a session lives (PERMANENT_SESSION_LIFETIME).
TTL = dt.timedelta(hours=8)
MAX_TEXT = 120


def remember(user, text: str, old_key: str | None = None) -> str | None:
    """Keep `text` for `user` under a new random key (dropping the old and every expired one); the key."""
    db.session.execute(sa.delete(SavedSearch).where(
        sa.or_(SavedSearch.expires_at < now(), SavedSearch.id == (old_key or "")))
        .execution_options(synchronize_session=False))
    text = (text or "").replace("\x00", "").strip()[:MAX_TEXT]
    if not text:
        return None
    key = secrets.token_urlsafe(32)
    db.session.add(SavedSearch(id=key, user_id=user.id, text=text, expires_at=now() + TTL))
    db.session.flush()
    return key


def recall(user, key: str | None) -> str:
    """The search text kept under `key` for this user, or '' (unknown, someone else's, or expired)."""
    if not key or not isinstance(key, str) or len(key) > 43:
        return ""
    row = db.session.get(SavedSearch, key)
    if row is None or row.user_id != user.id or row.expires_at < now():
        return ""
    return row.text
