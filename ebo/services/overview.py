"""Figures for each role's landing page, counted in the database (no personal values)."""

from __future__ import annotations

import sqlalchemy as sa

from ebo.extensions import db
from ebo.models import (
    AuditEvent,
    Family,
    HostHousehold,
    HousingUnit,
    MatchingRun,
    MunicipalitySettings,
    Placement,
    Proposal,
    User,
)
from ebo.services import auditlog, figures_cache


def _count_by(column, *where) -> dict[str, int]:
    rows = db.session.execute(sa.select(column, sa.func.count()).where(*where).group_by(column))
    return {str(k): int(n) for k, n in rows}


def host_household(user):
    """The host's own household, or None before registration."""
    return db.session.scalar(sa.select(HostHousehold).where(HostHousehold.user_id == user.id))


def coordinator_figures() -> dict:
    """Hosts by vetting status and state, families waiting, recent runs."""
    counts = figures_cache.cached("home.coordinator", None, lambda: {
        "hosts_by_vetting": _count_by(HostHousehold.vetting_status),
        "hosts_by_state": _count_by(HostHousehold.state),
        "families_by_status": _count_by(Family.status),
        "proposals_by_state": _count_by(Proposal.state),
    })
    return {
        **counts,
        "runs": db.session.scalars(
            sa.select(MatchingRun).where(MatchingRun.kind == "match")
            .order_by(MatchingRun.created_at.desc()).limit(5)).all(),
    }


def caseworker_figures() -> dict:
    """Families by status, active placements, unit beds."""
    active = Placement.end_date.is_(None)
    return figures_cache.cached("home.caseworker", None, lambda: {
        "families_by_status": _count_by(Family.status),
        "placements_active": db.session.scalar(sa.select(sa.func.count()).select_from(Placement).where(active)),
        "placements_in_homes": db.session.scalar(
            sa.select(sa.func.count()).select_from(Placement).where(active, Placement.host_id.is_not(None))),
        "unit_beds": tuple(db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(HousingUnit.beds), 0),
                      sa.func.coalesce(sa.func.sum(HousingUnit.beds_used), 0))).one()),
    })


def admin_figures() -> dict:
    """Accounts by role, the municipality settings, the latest audit events."""
    return {
        "users_by_role": figures_cache.cached("home.users_by_role", None,
                                              lambda: _count_by(User.role, User.active.is_(True))),
        "settings": db.session.scalar(sa.select(MunicipalitySettings).limit(1)),
        "events": auditlog.in_words(
            db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(10)).all()),
    }
