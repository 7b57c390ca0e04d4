"""Single-use, expiring link tokens: the raw token goes into an email, only its SHA-256 is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from ebo.extensions import db
from ebo.models import User
from ebo.models.accounts import AccountToken, TokenPurpose
from ebo.models.types import utcnow

TOKEN_BYTES = 32


def digest(raw: str) -> str:
    """The stored form of a token: hex SHA-256."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def issue(user, purpose: TokenPurpose, lifetime: dt.timedelta, new_email: str | None = None) -> str:
    """A new token for `user` and `purpose`; earlier unused tokens of that purpose stop working."""
    now = utcnow()
    db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=digest(raw), new_email=new_email,
                                created_at=now, expires_at=now + lifetime))
    db.session.flush()
    return raw


def find(raw: str | None, purpose: TokenPurpose) -> AccountToken | None:
    """The valid (unused, unexpired, active user) token row for `raw`, or None."""
    if not raw or len(raw) > 100:
        return None
    row = db.session.scalar(sa.select(AccountToken).where(AccountToken.token_hash == digest(raw),
                                                          AccountToken.purpose == purpose))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row


def consume(raw: str | None, purpose: TokenPurpose) -> AccountToken | None:
    """Mark the token used and return it; None when invalid or used meanwhile (single use, race-safe)."""
    row = find(raw, purpose)
    if row is None:
        return None
    done = db.session.execute(
        sa.update(AccountToken).where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if done.rowcount != 1:
        return None
    db.session.refresh(row)
    return row


def issued_since(user, purpose: TokenPurpose, since: dt.datetime) -> int:
    """How many tokens of `purpose` were issued to `user` since `since`."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.created_at >= since)) or 0


def revoke_all(user) -> None:
    """Remove every token of `user` (erasure, deactivation)."""
    db.session.execute(sa.delete(AccountToken).where(AccountToken.user_id == user.id))
