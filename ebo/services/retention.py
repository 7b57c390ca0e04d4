"""Retention: pseudonymise families whose last placement ended long ago, keeping the statistics.

The purge is also the only path that removes audit events: those older than the same retention
period (they hold IP addresses and who-viewed-whom). On PostgreSQL a trigger refuses every other
UPDATE, DELETE or TRUNCATE of audit_events (ebo/models/audit.py); the purge lifts it for its own
DELETE only, and records how many events it removed in a new audit event.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ebo.extensions import db
from ebo.models import AuditEvent, Family, FamilyStatus, FollowUpVisit, HealthNote, Placement, Proposal
from ebo.models.audit import allow_audit_removal
from ebo.models.types import add_months, utcnow
from ebo.services import audit, cards, erasure


def due_family_ids(today: dt.date, months: int) -> list:
    """Families that have moved on, with no active placement, whose last placement ended before the cutoff."""
    cutoff = add_months(today, -months)
    active = sa.select(Placement.family_id).where(Placement.end_date.is_(None))
    last_end = (sa.select(Placement.family_id, sa.func.max(Placement.end_date).label("last_end"))
                .group_by(Placement.family_id).subquery())
    return list(db.session.scalars(
        sa.select(Family.id).join(last_end, last_end.c.family_id == Family.id)
        .where(Family.pseudonymised_at.is_(None), Family.status == FamilyStatus.MOVED_ON.value,
               last_end.c.last_end < cutoff, Family.id.not_in(active))))


def pseudonymise(family) -> None:
    """Clear what identifies the family and its members; keep sizes, birth years and dates."""
    family.contact_name = ""
    family.contact_phone = None
    family.contact_email = None
    family.dossier_number = None
    family.notes = None
    for m in family.members:
        m.first_name = None
        m.school_id = None
    db.session.execute(sa.delete(HealthNote).where(HealthNote.family_id == family.id)
                       .execution_options(synchronize_session=False))
    placement_ids = sa.select(Placement.id).where(Placement.family_id == family.id)
    db.session.execute(sa.update(Placement).where(Placement.family_id == family.id).values(end_note=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(FollowUpVisit).where(FollowUpVisit.placement_id.in_(placement_ids))
                       .values(notes=None).execution_options(synchronize_session=False))
    db.session.execute(sa.update(Proposal).where(Proposal.family_id == family.id)
                       .values(decline_reason=None, coordinator_note=None)
                       .execution_options(synchronize_session=False))
    cards.erase_for_family(family.id)  # card photos and first names go with the family
    erasure.scrub_family(family)  # the stored matching runs' copies
    family.pseudonymised_at = utcnow()


def purge_audit_events(today: dt.date, months: int) -> int:
    """Remove audit events older than the retention period (the one audited way); returns how many."""
    cutoff = dt.datetime.combine(add_months(today, -months), dt.time(), tzinfo=dt.UTC)
    table = AuditEvent.__table__
    conn = db.session.connection()
    allow_audit_removal(conn)
    try:
        removed = conn.execute(sa.delete(table).where(table.c.at < cutoff)).rowcount
    finally:
        allow_audit_removal(conn, False)  # the rest of the transaction is guarded again
    return removed


def purge(today: dt.date, months: int) -> int:
    """Pseudonymise every family due (idempotent) and remove old audit events; audited as "purge"."""
    ids = due_family_ids(today, months)
    for fid in ids:
        pseudonymise(db.session.get(Family, fid))
    db.session.flush()
    removed = purge_audit_events(today, months)
    db.session.expire_all()  # the bulk updates above bypassed the loaded objects
    audit.record("purge", "family", None, {"count": len(ids), "months": months, "today": today.isoformat(),
                                           "audit_events_removed": removed})
    return len(ids)
