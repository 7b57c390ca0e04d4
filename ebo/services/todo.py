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
from ebo.services import figures_cache
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


def _latest_run_with(state: ProposalState):
    """The id of the latest matching run with a proposal in `state`, or None."""
    return db.session.scalar(
        sa.select(MatchingRun.id)
        .join(Proposal, Proposal.run_id == MatchingRun.id)
        .where(MatchingRun.kind == RunKind.MATCH, Proposal.state == state)
        .order_by(MatchingRun.created_at.desc())
        .limit(1)
    )


def _proposals_in(state: ProposalState, *where) -> tuple[int, object]:
    """(how many proposals are in `state`, the latest run holding one or None)."""
    n = _count(Proposal.state == state, *where)
    return n, (_latest_run_with(state) if n else None)


def _hosts_in(status: VettingStatus) -> int:
    return _count(HostHousehold.vetting_status == status, HostHousehold.state != HostState.WITHDRAWN)


def _long_waiting() -> int:
    return _count(Family.status == FamilyStatus.WAITING, Family.needed_from <= _long_wait_day())


def _overdue_visits() -> int:
    """Active placements with an overdue follow-up visit: computed from every active placement's schedule,
    so kept in the figures cache for the day."""
    return figures_cache.cached("todo.overdue_visits", today(), lambda: len(overdue_ids()))


def _coordinator_counts() -> dict:
    """The coordinator's counts over the whole municipality (kept in the figures cache)."""
    since = now() - dt.timedelta(days=LONG_WAIT_DAYS)
    return {
        "accepted": _proposals_in(ProposalState.ACCEPTED),
        "proposed": _proposals_in(ProposalState.PROPOSED),
        # Proposals that expired without the host's answer in the last LONG_WAIT_DAYS days: the family needs a new try.
        "lapsed": _proposals_in(ProposalState.EXPIRED, Proposal.decided_at >= since),
        "registered": _hosts_in(VettingStatus.REGISTERED),
        "visited": _hosts_in(VettingStatus.VISITED),
        "long_wait": _long_waiting(),
    }


def _proposals_todo(counted: tuple[int, object], state: ProposalState, label) -> Todo:
    n, run_id = counted
    return Todo(label, n, url_for("runs.detail", run_id=run_id, state=state) if run_id is not None else None)


def coordinator_todo() -> list[Todo]:
    """The coordinator's to-do list (proposals past their answer deadline are expired first)."""
    from ebo.services.proposals import expire_overdue

    if expire_overdue():  # the kept counts predate these expiries (the request's commit drops them again)
        figures_cache.invalidate()
    c = figures_cache.cached("todo.coordinator", today(), _coordinator_counts)
    return [
        _proposals_todo(c["accepted"], ProposalState.ACCEPTED, _l("Accepted proposals to confirm")),
        _proposals_todo(c["proposed"], ProposalState.PROPOSED, _l("Proposals to review")),
        _proposals_todo(c["lapsed"], ProposalState.EXPIRED,
                        _l("Proposals that lapsed without the host's answer (last 14 days)")),
        Todo(_l("Hosts to visit"), c["registered"], url_for("vetting.queue", status=VettingStatus.REGISTERED)),
        Todo(_l("Visited hosts waiting for a decision"), c["visited"],
             url_for("vetting.queue", status=VettingStatus.VISITED)),
        Todo(_l("Families waiting longer than 14 days"), c["long_wait"], url_for("families.waiting")),
        Todo(_l("Follow-up visits overdue"), _overdue_visits(), url_for("placements.index", overdue="1")),
    ]


def caseworker_todo() -> list[Todo]:
    """The caseworker's to-do list."""
    day = _long_wait_day()
    long_wait, waiting = figures_cache.cached("todo.caseworker", day, lambda: (
        _long_waiting(), _count(Family.status == FamilyStatus.WAITING)))
    return [
        Todo(_l("Follow-up visits overdue"), _overdue_visits(), url_for("placements.index", overdue="1")),
        Todo(_l("Families waiting longer than 14 days"), long_wait,
             url_for("families.index", status=FamilyStatus.WAITING, needed_before=day.isoformat())),
        Todo(_l("Families waiting"), waiting, url_for("families.index", status=FamilyStatus.WAITING)),
    ]


def admin_todo() -> list[Todo]:
    """The administrator's to-do list."""
    failed = _count(MatchingRun.kind == RunKind.MATCH, MatchingRun.state == RunState.FAILED,
                    MatchingRun.created_at >= now() - dt.timedelta(days=7))
    return [
        Todo(_l("Families waiting longer than 14 days"),
             figures_cache.cached("todo.long_waiting", _long_wait_day(), _long_waiting),
             url_for("families.index", status=FamilyStatus.WAITING, needed_before=_long_wait_day().isoformat())),
        Todo(_l("Matching runs that failed in the last 7 days"), failed, url_for("runs.index")),
    ]
