"""Coordinators' vetting of hosts: the queue, home visits, the decision, and looking an address up again."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ebo import clock
from ebo.extensions import db
from ebo.models import HomeVisit, HostHousehold, HostState, User, VettingStatus, VisitOutcome
from ebo.models.types import utcnow
from ebo.services import audit, geocode, hosts


class VettingError(ValueError):
    """A vetting step is not possible now; the message is for the user."""


VETTING_QUEUE_STATES = (VettingStatus.REGISTERED, VettingStatus.VISITED)


def vetting_queue(status: str | None = None) -> sa.Select:
    """Hosts waiting for a home visit or a decision, oldest first (withdrawn offers left out)."""
    states = (status,) if status in VETTING_QUEUE_STATES else VETTING_QUEUE_STATES
    return (
        sa.select(HostHousehold)
        .where(HostHousehold.vetting_status.in_(states), HostHousehold.state != HostState.WITHDRAWN)
        .order_by(HostHousehold.created_at, HostHousehold.id)
    )


def record_visit(
    household: HostHousehold, visited_on: date, visited_by: str, outcome: str, notes: str | None, actor: User
):
    """Record a home visit; a registered host becomes 'visited'; audited (no personal values)."""
    if visited_on > clock.today():
        raise VettingError(_("The visit date cannot be in the future."))
    if outcome not in set(VisitOutcome):
        raise VettingError(_("Choose an outcome."))
    visit = HomeVisit(
        host_id=household.id,
        visited_on=visited_on,
        visited_by_name=" ".join(visited_by.split()),
        outcome=outcome,
        notes=(notes or "").strip() or None,
        recorded_by=actor.id,
    )
    db.session.add(visit)
    if household.vetting_status == VettingStatus.REGISTERED:
        household.vetting_status = VettingStatus.VISITED
    db.session.flush()
    audit.record("home_visit_recorded", "host", household.id, {"outcome": outcome, "visit": str(visit.id)})
    return visit


def regeocode(household: HostHousehold) -> bool:
    """Look the address up again (a coordinator's action); audited with the outcome only."""
    found = geocode.geocode_household(household)
    audit.record("host_geocoded", "host", household.id, {"status": household.geocode_status})
    return found


def decide(household: HostHousehold, approve: bool, reason: str | None, actor: User) -> None:
    """Approve (after a home visit) or reject a host, with the reason; approval emails the host; audited."""
    reason = (reason or "").strip() or None
    if approve and household.vetting_status != VettingStatus.VISITED:
        raise VettingError(_("Record the home visit before approving."))
    if not approve and household.vetting_status not in VETTING_QUEUE_STATES:
        raise VettingError(_("Only hosts waiting for vetting can be rejected here."))
    if not approve and not reason:
        raise VettingError(_("Give the reason for the rejection."))
    household.vetting_status = VettingStatus.APPROVED if approve else VettingStatus.REJECTED
    household.vetting_decided_by = actor.id
    household.vetting_decided_at = utcnow()
    household.vetting_reason = reason
    db.session.flush()
    audit.record("host_approved" if approve else "host_rejected", "host", household.id)
    if approve:
        hosts.notify_approved(household)
