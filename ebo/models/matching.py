"""Matching runs, their proposals, and family–host pairs that must never be proposed again."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ebo.extensions import db
from ebo.models.types import UTCDateTime, created_at_column, enum_check, enum_column, one_of_check, uuid_pk

if TYPE_CHECKING:
    from ebo.models.family import Family
    from ebo.models.host import HostHousehold
    from ebo.models.school import HousingUnit


class RunKind(StrEnum):
    """A real matching run or a Plus 5 % drill."""

    MATCH = "match"
    DRILL = "drill"


class RunState(StrEnum):
    """Life cycle of a background run."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ACTIVE_RUN_STATES = (RunState.QUEUED, RunState.RUNNING)


class ProposalState(StrEnum):
    """Life cycle of a proposal, from the optimiser to a confirmed placement."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"  # never sent, and a newer run has finished since
    EXPIRED = "expired"  # sent, and the host did not answer by the answer deadline (services/proposals.py)


# Groupings of proposal states, named once: services, queries and templates use these (or the
# Proposal methods built on them) and never spell out a list of states themselves.
# What a host sees: nothing before it is sent.
HOST_VISIBLE_STATES = frozenset({ProposalState.SENT, ProposalState.ACCEPTED, ProposalState.DECLINED,
                                 ProposalState.CONFIRMED, ProposalState.EXPIRED})
HOLDING_STATES = frozenset({ProposalState.APPROVED, ProposalState.SENT, ProposalState.ACCEPTED})  # hold beds
OPEN_STATES = frozenset({ProposalState.PROPOSED, ProposalState.APPROVED, ProposalState.SENT,
                         ProposalState.ACCEPTED})  # not yet decided for good
REVIEWABLE_STATES = frozenset({ProposalState.PROPOSED, ProposalState.APPROVED})  # a coordinator may reject or move
# At most one proposal per family is live (approved, sent or accepted) across all runs: a partial unique
# index on proposals(family_id) enforces it (LIVE_WHERE), and the services check it first for a clear message.
LIVE_STATES = HOLDING_STATES
LIVE_WHERE = "state IN ('approved', 'sent', 'accepted')"

# The allowed changes of state. A coordinator approves, rejects or moves (a move keeps the state), sends
# approved host proposals; the host accepts or declines; a coordinator confirms an accepted host proposal
# or an approved unit proposal (units need no answer); a confirmed placement withdraws the family's other
# open proposals, and so does a host leaving matching. A sent proposal the host has not answered by the answer
# deadline expires (its beds are free again, the family waits again).
TRANSITIONS: dict[ProposalState, frozenset[ProposalState]] = {
    ProposalState.PROPOSED: frozenset({ProposalState.APPROVED, ProposalState.REJECTED, ProposalState.WITHDRAWN,
                                       ProposalState.SUPERSEDED}),
    ProposalState.APPROVED: frozenset({ProposalState.REJECTED, ProposalState.SENT, ProposalState.CONFIRMED,
                                       ProposalState.WITHDRAWN}),
    ProposalState.SENT: frozenset({ProposalState.ACCEPTED, ProposalState.DECLINED, ProposalState.WITHDRAWN,
                                   ProposalState.EXPIRED}),
    ProposalState.ACCEPTED: frozenset({ProposalState.CONFIRMED, ProposalState.WITHDRAWN}),
    ProposalState.REJECTED: frozenset(),
    ProposalState.DECLINED: frozenset(),
    ProposalState.CONFIRMED: frozenset(),
    ProposalState.WITHDRAWN: frozenset(),
    ProposalState.SUPERSEDED: frozenset(),
    ProposalState.EXPIRED: frozenset(),
}


def confirmable_states(is_unit: bool) -> frozenset[ProposalState]:
    """The states a proposal is confirmed from: accepted by its host, or approved for a unit."""
    if is_unit:
        return frozenset({ProposalState.APPROVED, ProposalState.ACCEPTED})
    return frozenset({ProposalState.ACCEPTED})


class ForbiddenReason(StrEnum):
    """Why a pair is forbidden."""

    DECLINED = "declined"
    VETOED = "vetoed"


class MatchingRun(db.Model):
    """One optimiser run (or drill), with its parameters, progress and solver figures.

    At most one queued or running run per kind: ``active_lock`` holds the kind (``'match'`` or
    ``'drill'``) while the run is queued or running and NULL afterwards; a plain unique constraint
    (NULLs never clash, on SQLite and PostgreSQL alike) then refuses a second concurrent run. The
    service inserts a run with ``active_lock=kind`` and catches the IntegrityError; it clears the lock
    in the same update that sets ``done`` or ``failed`` (a CHECK insists on that).
    """

    __tablename__ = "matching_runs"
    __table_args__ = (
        enum_check("kind", RunKind),
        enum_check("state", RunState),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        sa.CheckConstraint(
            "active_lock IS NULL OR (active_lock = kind AND state IN ('queued', 'running'))",
            name="active_lock_consistent",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = enum_column(RunKind, default=RunKind.MATCH)
    started_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    state: Mapped[str] = enum_column(RunState, default=RunState.QUEUED, index=True)
    active_lock: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    progress: Mapped[float] = mapped_column(sa.Double, nullable=False, default=0.0)
    progress_message: Mapped[str | None] = mapped_column(sa.String(200))
    best_objective: Mapped[float | None] = mapped_column(sa.Double)
    status: Mapped[str | None] = mapped_column(sa.String(20))  # solver status: OPTIMAL, FEASIBLE, ...
    objective: Mapped[float | None] = mapped_column(sa.Double)
    bound: Mapped[float | None] = mapped_column(sa.Double)
    gap: Mapped[float | None] = mapped_column(sa.Double)
    wall_s: Mapped[float | None] = mapped_column(sa.Double)
    error: Mapped[str | None] = mapped_column(sa.Text)
    # ebo-match/1 files for replay; personal (ids and coordinates of homes), deleted with the run.
    instance_json: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    solution_json: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    counts: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # aggregate figures only
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Renewed by the run's worker every few seconds; an active run whose heartbeat is older than
    # RUN_STALE_SECONDS lost its worker and is marked failed ("interrupted") by whoever looks next.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    proposals: Mapped[list[Proposal]] = relationship(
        "Proposal", back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:
        """Return whether the run is queued or running."""
        return self.state in ACTIVE_RUN_STATES

    def __repr__(self) -> str:
        """Return a debug representation."""
        return f"<MatchingRun {self.id} {self.kind} {self.state}>"


class Proposal(db.Model):
    """A proposed family–host (or family–unit) pair from a run, and what people decided about it."""

    __tablename__ = "proposals"
    __table_args__ = (
        enum_check("state", ProposalState),
        one_of_check("host_id", "unit_id", name="host_xor_unit"),
        # The review's order (services.review.REVIEW_ORDER), without and with a state filter; the second also
        # serves the run's counts per state.
        sa.Index("ix_proposals_run_id_home", "run_id", "host_id", "unit_id", "created_at", "id"),
        sa.Index("ix_proposals_run_id_state_home", "run_id", "state", "host_id", "unit_id", "created_at", "id"),
        sa.Index("ix_proposals_run_id_created_at", "run_id", "created_at", "id"),  # a run's proposals by age
        # The expiry check (sent, sent before the cutoff) and the coordinator's lapsed count (expired since a
        # day): index ranges, not every proposal in that state.
        sa.Index("ix_proposals_state_sent_at", "state", "sent_at"),
        sa.Index("ix_proposals_state_decided_at", "state", "decided_at"),
        sa.Index("uq_proposals_family_id_live", "family_id", unique=True,
                 sqlite_where=sa.text(LIVE_WHERE), postgresql_where=sa.text(LIVE_WHERE)),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    run_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("matching_runs.id", ondelete="CASCADE"), nullable=False
    )
    family_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False, index=True
    )
    host_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("host_households.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("housing_units.id"), index=True)
    child_km: Mapped[list[float | None]] = mapped_column(sa.JSON, nullable=False, default=list)
    shared_language: Mapped[bool | None] = mapped_column(sa.Boolean)
    cost: Mapped[float | None] = mapped_column(sa.Double)
    state: Mapped[str] = enum_column(ProposalState, default=ProposalState.PROPOSED, index=True)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)  # personal (host's words)
    coordinator_note: Mapped[str | None] = mapped_column(sa.Text)  # personal
    decided_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at_column()

    run: Mapped[MatchingRun] = relationship("MatchingRun", back_populates="proposals")
    family: Mapped[Family] = relationship("Family")
    host: Mapped[HostHousehold | None] = relationship("HostHousehold")
    unit: Mapped[HousingUnit | None] = relationship("HousingUnit")

    @property
    def is_unit(self) -> bool:
        """Return whether the proposal is for a municipal unit rather than a host."""
        return self.unit_id is not None

    @property
    def is_holding(self) -> bool:
        """Return whether the proposal holds its host's or unit's beds."""
        return self.state in HOLDING_STATES

    @property
    def is_open(self) -> bool:
        """Return whether the proposal is not yet decided for good."""
        return self.state in OPEN_STATES

    def can_become(self, state: ProposalState) -> bool:
        """Return whether the proposal may change to `state` from its current state."""
        return state in TRANSITIONS[ProposalState(self.state)]

    def can_approve(self) -> bool:
        """Return whether a coordinator may approve the proposal (only a fresh one)."""
        return self.state == ProposalState.PROPOSED

    def can_reject(self) -> bool:
        """Return whether a coordinator may reject the proposal (not yet sent)."""
        return self.state in REVIEWABLE_STATES

    def can_move(self) -> bool:
        """Return whether a coordinator may move the family to another home (not yet sent)."""
        return self.state in REVIEWABLE_STATES

    def can_send(self) -> bool:
        """Return whether the proposal may be sent to its host (approved, and for a host)."""
        return self.state == ProposalState.APPROVED and self.host_id is not None

    def can_answer(self) -> bool:
        """Return whether the host's answer may be recorded (sent, and waiting for it)."""
        return self.state == ProposalState.SENT

    def can_confirm(self) -> bool:
        """Return whether the proposal may be confirmed into a placement."""
        return self.state in confirmable_states(self.is_unit)


class ForbiddenPair(db.Model):
    """A family–host pair never to be proposed again (the host declined or a coordinator vetoed)."""

    __tablename__ = "forbidden_pairs"
    __table_args__ = (
        enum_check("reason", ForbiddenReason),
        sa.UniqueConstraint("family_id", "host_id", name="uq_forbidden_pairs_family_id_host_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    family_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False
    )
    host_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("host_households.id", ondelete="CASCADE"), nullable=False, index=True
    )
    reason: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

    family: Mapped[Family] = relationship("Family")
    host: Mapped[HostHousehold] = relationship("HostHousehold")


class RunUnplaced(db.Model):
    """One family a finished run left without a place, with the matcher's reasons, stored when the run ends.

    ``reasons`` are matching.explain's structured reasons (``{"rule", "params"}``, no personal values: counts,
    dates, distances, school ids), put into words in the reader's language when a page shows them; a reason
    that could not be worked out is stored as the solution's English sentence (``{"text"}``). ``ref`` is the
    short opaque reference the review shows (the first characters of the family id).
    """

    __tablename__ = "run_unplaced"
    __table_args__ = (sa.UniqueConstraint("run_id", "position", name="uq_run_unplaced_run_id_position"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    run_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("matching_runs.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    family_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("families.id", ondelete="SET NULL"), index=True
    )
    ref: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, nullable=False, default=list)
