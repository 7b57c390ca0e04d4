"""Capacity accounting: who holds a host's or unit's beds, and counters that are never double-booked.

A home's room is held by its active placements and by the proposals in a holding state (approved, sent
or accepted: `HOLDING_STATES`); `holding_sizes`, `held_load` and `beds_of` count them for the review.
The counters themselves only change by guarded updates:

`UPDATE ... SET beds_used = beds_used + n WHERE id = :id AND beds_used + n <= beds` is atomic on both
databases: on PostgreSQL a concurrent update of the same row waits and then re-checks the WHERE clause
against the committed row; SQLite serialises writers. The CHECK constraints on the counters are the
last line of defence. Callers run these inside the request's single transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from ebo.extensions import db
from ebo.models import Family, FamilyMember, HostHousehold, HousingUnit, Placement, Proposal, ProposalState
from ebo.models.matching import HOLDING_STATES

#: A home in the accounting: ("h", host id) or ("u", unit id).
Home = tuple[str, uuid.UUID]


class CapacityError(Exception):
    """The host or unit has no room for this family any more."""


def reserve_host(host_id: uuid.UUID, persons: int) -> None:
    """Take `persons` beds and one family slot of a host, or raise CapacityError."""
    result = db.session.execute(
        sa.update(HostHousehold)
        .where(
            HostHousehold.id == host_id,
            HostHousehold.beds_used + persons <= HostHousehold.beds,
            HostHousehold.families_placed + 1 <= HostHousehold.max_families,
        )
        .values(beds_used=HostHousehold.beds_used + persons, families_placed=HostHousehold.families_placed + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CapacityError(str(host_id))
    _expire(HostHousehold, host_id)


def release_host(host_id: uuid.UUID, persons: int) -> None:
    """Give back `persons` beds and one family slot of a host."""
    result = db.session.execute(
        sa.update(HostHousehold)
        .where(HostHousehold.id == host_id, HostHousehold.beds_used >= persons, HostHousehold.families_placed >= 1)
        .values(beds_used=HostHousehold.beds_used - persons, families_placed=HostHousehold.families_placed - 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CapacityError(f"counters of host {host_id} are inconsistent")
    _expire(HostHousehold, host_id)


def reserve_unit(unit_id: uuid.UUID, persons: int) -> None:
    """Take `persons` beds of a municipal unit, or raise CapacityError."""
    result = db.session.execute(
        sa.update(HousingUnit)
        .where(HousingUnit.id == unit_id, HousingUnit.beds_used + persons <= HousingUnit.beds)
        .values(beds_used=HousingUnit.beds_used + persons)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CapacityError(str(unit_id))
    _expire(HousingUnit, unit_id)


def release_unit(unit_id: uuid.UUID, persons: int) -> None:
    """Give back `persons` beds of a municipal unit."""
    result = db.session.execute(
        sa.update(HousingUnit)
        .where(HousingUnit.id == unit_id, HousingUnit.beds_used >= persons)
        .values(beds_used=HousingUnit.beds_used - persons)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CapacityError(f"counters of unit {unit_id} are inconsistent")
    _expire(HousingUnit, unit_id)


def _expire(model, pk) -> None:
    """Make a loaded object re-read its counters after a Core update."""
    obj = db.session.identity_map.get(db.session.identity_key(model, pk))
    if obj is not None:
        db.session.expire(obj, ["beds_used"] + (["families_placed"] if hasattr(obj, "families_placed") else []))


# --- who holds the beds -------------------------------------------------------------------------------


def home_of(proposal: Proposal) -> Home:
    """The proposal's home as an accounting key: ("h", host id) or ("u", unit id)."""
    return ("h", proposal.host_id) if proposal.host_id is not None else ("u", proposal.unit_id)


def holding_sizes(host_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None,
                  exclude: uuid.UUID | None = None) -> list[int]:
    """Sizes of the families that hold room at a host or unit: active placements and held proposals."""
    col_p = Placement.host_id if host_id is not None else Placement.unit_id
    col_q = Proposal.host_id if host_id is not None else Proposal.unit_id
    target = host_id if host_id is not None else unit_id
    placed = list(db.session.scalars(sa.select(Placement.persons).where(col_p == target, Placement.end_date.is_(None))))
    placed_families = set(
        db.session.scalars(sa.select(Placement.family_id).where(col_p == target, Placement.end_date.is_(None)))
    )
    q = sa.select(Proposal.family_id).where(col_q == target, Proposal.state.in_(HOLDING_STATES))
    if exclude is not None:
        q = q.where(Proposal.id != exclude)
    fams = [f for f in db.session.scalars(q) if f not in placed_families]
    sizes = {f.id: f.size for f in db.session.scalars(sa.select(Family).where(Family.id.in_(fams)))} if fams else {}
    return placed + [sizes[f] for f in fams if f in sizes]


def held_load() -> dict[Home, tuple[int, int]]:
    """(persons, families) per host or unit held by active placements and held proposals."""
    load: dict[Home, tuple[int, int]] = {}
    placed = set()
    for fam, h, u, n in db.session.execute(
        sa.select(Placement.family_id, Placement.host_id, Placement.unit_id, Placement.persons).where(
            Placement.end_date.is_(None)
        )
    ):
        key = ("h", h) if h is not None else ("u", u)
        a, b = load.get(key, (0, 0))
        load[key] = (a + n, b + 1)
        placed.add(fam)
    size = sa.select(sa.func.count()).where(FamilyMember.family_id == Proposal.family_id).scalar_subquery()
    for fam, h, u, n in db.session.execute(
        sa.select(Proposal.family_id, Proposal.host_id, Proposal.unit_id, size).where(
            Proposal.state.in_(HOLDING_STATES)
        )
    ):
        if fam in placed:
            continue
        key = ("h", h) if h is not None else ("u", u)
        a, b = load.get(key, (0, 0))
        load[key] = (a + int(n or 1), b + 1)
    return load


@dataclass
class Room:
    """A home's beds in one run's accounting: held now, and what the run's open proposals would take."""

    beds: int
    held: int  # persons of active placements and held (approved, sent, accepted) proposals, of any run
    in_run: int  # persons of the run's proposals not yet holding (proposed)

    @property
    def free(self) -> int:
        """Beds free now (what a move or an approval is checked against)."""
        return max(self.beds - self.held, 0)

    @property
    def left(self) -> int:
        """Beds left once the run's own proposals are counted too: the figure the run's unplaced reasons give."""
        return max(self.beds - self.held - self.in_run, 0)


def room_in_run(run_id: uuid.UUID, hosts=(), units=()) -> dict[Home, Room]:
    """The room of these hosts and units in a run's accounting (the Move page and the unplaced reasons agree:
    the matcher counted the beds of placements, held proposals and its own proposals as used)."""
    wanted: dict[Home, int] = {("h", h.id): h.beds for h in hosts}
    wanted.update({("u", u.id): u.beds for u in units})
    held = held_load()
    size = sa.select(sa.func.count()).where(FamilyMember.family_id == Proposal.family_id).scalar_subquery()
    in_run: dict[Home, int] = {}
    for h, u, n in db.session.execute(
        sa.select(Proposal.host_id, Proposal.unit_id, size).where(
            Proposal.run_id == run_id, Proposal.state == ProposalState.PROPOSED)
    ):
        key = ("h", h) if h is not None else ("u", u)
        in_run[key] = in_run.get(key, 0) + int(n or 1)
    return {key: Room(beds=beds, held=held.get(key, (0, 0))[0], in_run=in_run.get(key, 0))
            for key, beds in wanted.items()}


def beds_of(proposals: list[Proposal]) -> dict[Home, int]:
    """The beds of each host and unit the proposals are for."""
    hosts = {p.host_id for p in proposals if p.host_id is not None}
    units = {p.unit_id for p in proposals if p.unit_id is not None}
    out: dict[Home, int] = {}
    if hosts:
        rows = db.session.execute(sa.select(HostHousehold.id, HostHousehold.beds).where(HostHousehold.id.in_(hosts)))
        out.update({("h", i): b for i, b in rows})
    if units:
        rows = db.session.execute(sa.select(HousingUnit.id, HousingUnit.beds).where(HousingUnit.id.in_(units)))
        out.update({("u", i): b for i, b in rows})
    return out


def persons_of(family_id: uuid.UUID) -> int:
    """The number of people in a family (at least one)."""
    return db.session.scalar(sa.select(sa.func.count()).where(FamilyMember.family_id == family_id)) or 1


# --- a family that changes size -------------------------------------------------------------------------


def resize_placement(placement: Placement, persons: int) -> int:
    """Set an active placement's persons to `persons`, moving its home's counter by the difference.

    Unguarded on purpose: the family really is this size now. The home may end up over its beds
    (the caller warns); `reserve_host`/`reserve_unit` then refuse any further family there.
    Returns the difference.
    """
    delta = persons - placement.persons
    if delta == 0:
        return 0
    model, pk = (HostHousehold, placement.host_id) if placement.host_id is not None else (HousingUnit,
                                                                                         placement.unit_id)
    db.session.execute(
        sa.update(model).where(model.id == pk, model.beds_used + delta >= 0)
        .values(beds_used=model.beds_used + delta).execution_options(synchronize_session=False))
    db.session.execute(
        sa.update(Placement).where(Placement.id == placement.id).values(persons=persons)
        .execution_options(synchronize_session=False))
    _expire(model, pk)
    db.session.expire(placement, ["persons"])
    return delta


def over_capacity(home: Home) -> bool:
    """Whether a host or unit holds more persons (or a host more families) than it has room for."""
    kind, pk = home
    if kind == "h":
        host = db.session.get(HostHousehold, pk)
        return host is not None and (host.beds_used > host.beds or host.families_placed > host.max_families)
    unit = db.session.get(HousingUnit, pk)
    return unit is not None and unit.beds_used > unit.beds
