"""Home pages as to-do lists: for each role, what is waiting, how many, and the page that lists them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from ebo.clock import now, today
from ebo.extensions import db
from ebo.models import (
    Family,
    FamilyStatus,
    HostHousehold,
    HostState,
    MatchingRun,
    Proposal,
    ProposalState,
    RunKind,
    RunState,
    VettingStatus,
)
from ebo.services.placements import overdue_ids
from ebo.services.profile import LONG_WAIT_DAYS


@dataclass
class Todo:
    """One line of a to-do list: what, how many, and where to act (None: nowhere to go)."""

    label: object
    count: int
    url: str | None


def _count(*where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(*where)) or 0


def _long_wait_day() -> dt.date:
    return today() - dt.timedelta(days=LONG_WAIT_DAYS)


def _latest_run_with(state: ProposalState) -> MatchingRun | None:
    return db.session.scalar(
        sa.select(MatchingRun)
        .join(Proposal, Proposal.run_id == MatchingRun.id)
        .where(MatchingRun.kind == RunKind.MATCH, Proposal.state == state)
        .order_by(MatchingRun.created_at.desc())
        .limit(1)
    )


def _proposals_todo(state: ProposalState, label) -> Todo:
    n = _count(Proposal.state == state)
    run = _latest_run_with(state) if n else None
    return Todo(label, n, url_for("runs.detail", run_id=run.id, state=state) if run is not None else None)


def _hosts_in(status: VettingStatus) -> int:
    return _count(HostHousehold.vetting_status == status, HostHousehold.state != HostState.WITHDRAWN)


def _lapsed_todo() -> Todo:
    """Proposals that expired without the host's answer in the last LONG_WAIT_DAYS days: the family needs a new try."""
    since = now() - dt.timedelta(days=LONG_WAIT_DAYS)
    n = _count(Proposal.state == ProposalState.EXPIRED, Proposal.decided_at >= since)
    run = _latest_run_with(ProposalState.EXPIRED) if n else None
    return Todo(_l("Proposals that lapsed without the host's answer (last 14 days)"), n,
                url_for("runs.detail", run_id=run.id, state=ProposalState.EXPIRED) if run is not None else None)


def coordinator_todo() -> list[Todo]:
    """The coordinator's to-do list (proposals past their answer deadline are expired first)."""
    from ebo.services.proposals import expire_overdue

    expire_overdue()
    long_wait = _count(Family.status == FamilyStatus.WAITING, Family.needed_from <= _long_wait_day())
    return [
        _proposals_todo(ProposalState.ACCEPTED, _l("Accepted proposals to confirm")),
        _proposals_todo(ProposalState.PROPOSED, _l("Proposals to review")),
        _lapsed_todo(),
        Todo(_l("Hosts to visit"), _hosts_in(VettingStatus.REGISTERED),
             url_for("vetting.queue", status=VettingStatus.REGISTERED)),
        Todo(_l("Visited hosts waiting for a decision"), _hosts_in(VettingStatus.VISITED),
             url_for("vetting.queue", status=VettingStatus.VISITED)),
        Todo(_l("Families waiting longer than 14 days"), long_wait, url_for("families.waiting")),
        Todo(_l("Follow-up visits overdue"), len(overdue_ids()), url_for("placements.index", overdue="1")),
    ]


def caseworker_todo() -> list[Todo]:
    """The caseworker's to-do list."""
    day = _long_wait_day()
    return [
        Todo(_l("Follow-up visits overdue"), len(overdue_ids()), url_for("placements.index", overdue="1")),
        Todo(_l("Families waiting longer than 14 days"),
             _count(Family.status == FamilyStatus.WAITING, Family.needed_from <= day),
             url_for("families.index", status=FamilyStatus.WAITING, needed_before=day.isoformat())),
        Todo(_l("Families waiting"), _count(Family.status == FamilyStatus.WAITING),
             url_for("families.index", status=FamilyStatus.WAITING)),
    ]


def admin_todo() -> list[Todo]:
    """The administrator's to-do list."""
    failed = _count(MatchingRun.kind == RunKind.MATCH, MatchingRun.state == RunState.FAILED,
                    MatchingRun.created_at >= now() - dt.timedelta(days=7))
    return [
        Todo(_l("Families waiting longer than 14 days"),
             _count(Family.status == FamilyStatus.WAITING, Family.needed_from <= _long_wait_day()),
             url_for("families.index", status=FamilyStatus.WAITING, needed_before=_long_wait_day().isoformat())),
        Todo(_l("Matching runs that failed in the last 7 days"), failed, url_for("runs.index")),
    ]
