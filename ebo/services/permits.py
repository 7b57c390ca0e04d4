"""Residence-permit decisions, and placements where the family could stay on as tenants."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ebo.extensions import db
from ebo.models import Family, HostHousehold, PermitDecision, Placement
from ebo.services import audit


class PermitError(Exception):
    """The decision cannot be recorded."""


def record_decision(family, decision: str, decided_on: dt.date, actor=None) -> None:
    """Record a residence-permit decision on a family; audited without the decision itself."""
    if decision not in {d.value for d in PermitDecision}:
        raise PermitError("unknown decision")
    family.permit_decision = decision
    family.permit_decided_on = decided_on
    db.session.flush()
    audit.record("permit_decision", "family", family.id, actor=actor)


def stay_on_candidates() -> list:
    """Active placements with a host open to long-term rental, for families granted a permit."""
    return db.session.scalars(
        sa.select(Placement)
        .join(Family, Placement.family_id == Family.id)
        .join(HostHousehold, Placement.host_id == HostHousehold.id)
        .where(Placement.end_date.is_(None), HostHousehold.open_to_long_term_rental.is_(True),
               Family.permit_decision == PermitDecision.GRANTED.value)
        .options(selectinload(Placement.family), selectinload(Placement.host))
        .order_by(Family.permit_decided_on, Placement.start_date)).all()
