"""Searching the audit log: by family, by user, by action; newest first, paginated."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from ebo.extensions import db
from ebo.models import AuditEvent, Role, User

PER_PAGE = 50


@dataclass
class AuditFilters:
    """What to look for; every part optional."""

    family_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    action: str = ""


def parse_uuid(value: str | None) -> uuid.UUID | None:
    """A UUID from text, or None when blank or not a UUID."""
    try:
        return uuid.UUID((value or "").strip())
    except ValueError:
        return None


def search(f: AuditFilters, page: int = 1):
    """One page of audit events, newest first."""
    query = sa.select(AuditEvent)
    if f.family_id is not None:
        query = query.where(AuditEvent.object_type == "family", AuditEvent.object_id == str(f.family_id))
    if f.user_id is not None:
        query = query.where(AuditEvent.actor_id == f.user_id)
    if f.action:
        query = query.where(AuditEvent.action == f.action[:40])
    return db.paginate(query.order_by(AuditEvent.id.desc()), page=max(1, page), per_page=PER_PAGE,
                       error_out=False)


def actors(events) -> dict:
    """The users behind a page of events, by id (erased users are simply absent)."""
    # One query even when empty: a page's statements do not depend on which events it shows.
    ids = {e.actor_id for e in events if e.actor_id is not None}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def actions() -> list[str]:
    """The actions present in the log, for the filter.

    Read by skipping from one action to the next along the index on `action` (a recursive query: one
    index probe per distinct action) rather than a DISTINCT over every event, since the log only grows."""
    e = AuditEvent
    found = sa.select(sa.func.min(e.action).label("action")).cte("actions", recursive=True)
    found = found.union_all(
        sa.select(sa.select(sa.func.min(e.action)).where(e.action > found.c.action).scalar_subquery())
        .where(found.c.action.is_not(None)))
    return list(db.session.scalars(sa.select(found.c.action).where(found.c.action.is_not(None))
                                   .order_by(found.c.action)))


def staff_users():
    """Staff accounts, for the 'by user' filter (ids, never emails, go into the URL)."""
    staff = sorted(r.value for r in Role if r != Role.HOST)  # IN rather than !=: read from the role index
    return db.session.scalars(sa.select(User).where(User.role.in_(staff)).order_by(User.name, User.email)).all()
