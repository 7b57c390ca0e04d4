"""A coordinator's decisions on a run's proposals: approve, reject, move, send, and record an answer.

Each change asks the proposal whether it is allowed (`Proposal.can_approve()` and the like, built on
the transitions next to `ProposalState`). A move or an approval is checked against the hard rules of
`matching.rules` with the beds `capacity` counts as held; a broken rule is named. Confirming is
`placements.confirm`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ebo import clock
from ebo.extensions import db
from ebo.models import (
    FamilyStatus,
    ForbiddenPair,
    ForbiddenReason,
    HostHousehold,
    HousingUnit,
    MatchingRun,
    MunicipalitySettings,
    Proposal,
    ProposalState,
)
from ebo.models.matching import LIVE_STATES
from ebo.models.types import utcnow
from ebo.services import audit, capacity, hosts
from ebo.services.match_instance import host_record, unit_record
from ebo.ui import format_datetime_safe
from matching import rules
from matching import schema as ms
from matching.geo import haversine_km

# The hard rules in words a coordinator understands (translatable copies of matching.rules.RULE_TEXT).
RULE_WORDS = {
    "capacity": _l("the host has too few free beds, or already takes as many families as it may"),
    "children": _l("the host does not accept children"),
    "step_free": _l("the family needs a step-free home and the host's is not"),
    "pets": _l("the family has a pet allergy and the host has pets"),
    "smoking": _l("the family needs a non-smoking home and the host smokes"),
    "availability": _l("the host is not available from the family's arrival for the minimum stay"),
    "school": _l("a child would live farther from its school than the limit"),
    "forbidden": _l("this pair was declined or vetoed before"),
    "unit_beds": _l("the unit has too few free beds"),
    "unit_step_free": _l("the family needs a step-free home and the unit is not"),
    "not_taking_part": _l("the host does not take part in matching (not approved, paused or not reconfirmed)"),
}
# The rules about room alone: what an approval re-checks (the pair itself was checked by the solver or the move).
ROOM_RULES = ("capacity", "unit_beds", "forbidden", "not_taking_part")


class ReviewError(Exception):
    """A review action is not possible; the message is for the coordinator."""


def _refuse_unless(allowed: bool, p: Proposal) -> None:
    if not allowed:
        raise ReviewError(_l("This proposal is no longer open for that (it is %(state)s).",
                             state=_state_words(p.state)))


def _decided(p: Proposal, actor, state: ProposalState) -> None:
    p.state = state
    p.decided_by = getattr(actor, "id", None)
    p.decided_at = utcnow()


# --- the run's records and the hard rules -----------------------------------------------------------------


NO_INPUT = _l("This run has no stored input (it was made up for the demo, not solved), so its proposals "
               "cannot be checked against the rules here. Start a new run to approve or move families.")


def run_instance(run: MatchingRun) -> ms.Instance:
    """The matching instance the run solved (from its stored file); ReviewError if none was stored."""
    if not run.instance_json:
        raise ReviewError(NO_INPUT)
    return ms.instance_from_dict(json.loads(run.instance_json))


def run_family(inst: ms.Instance, family_id: uuid.UUID) -> ms.Family:
    """The family's record in the run's instance; ReviewError if it was not part of the run."""
    rec = next((f for f in inst.families if f.id == str(family_id)), None)
    if rec is None:
        raise ReviewError(_l("The family is not part of this run."))
    return rec


def run_host(inst: ms.Instance, host: HostHousehold) -> ms.Host | None:
    """The host's record in the run's instance, or built now if it takes part in matching; else None."""
    rec = next((h for h in inst.hosts if h.id == str(host.id)), None)
    if rec is not None:
        return rec
    if (
        host.lat is None
        or host.lon is None
        or not host.takes_part_in_matching(inst.date, MunicipalitySettings.get().reconfirm_months)
    ):
        return None
    return host_record(host, max_families=min(host.max_families, int(inst.params.families_per_host)))


def broken_rules(
    run: MatchingRun, proposal: Proposal, host: HostHousehold | None = None, unit: HousingUnit | None = None
) -> list[str]:
    """Names of the hard rules that placing the proposal's family with `host` (or in `unit`) breaks."""
    inst = run_instance(run)
    fam = run_family(inst, proposal.family_id)
    if unit is not None:
        held = [ms.Family(id=f"held-{i}", size=n, arrival=inst.date)  # the unit rules count persons only
                for i, n in enumerate(capacity.holding_sizes(unit_id=unit.id, exclude=proposal.id))]
        return rules.violated_unit_rules(unit_record(unit), fam, held)
    rec = run_host(inst, host)
    if rec is None:
        return ["not_taking_part"]
    sizes = capacity.holding_sizes(host_id=host.id, exclude=proposal.id)
    out = [] if rules.capacity_ok(rec, [*sizes, fam.size], inst.max_families(rec)) else ["capacity"]
    out += rules.violated_pair_rules(inst, rec, fam)
    if "forbidden" not in out and _forbidden(proposal.family_id, host.id):
        out.append("forbidden")
    return out


def _forbidden(family_id: uuid.UUID, host_id: uuid.UUID) -> bool:
    return db.session.scalar(
        sa.select(ForbiddenPair.id).where(ForbiddenPair.family_id == family_id, ForbiddenPair.host_id == host_id)
    ) is not None


def rule_words(names: list[str]) -> str:
    """Broken rules in words, joined."""
    return "; ".join(str(RULE_WORDS.get(n, n)) for n in names)


# --- one live proposal per family ---------------------------------------------------------------------


def live_proposal(family_id: uuid.UUID, exclude: uuid.UUID | None = None) -> Proposal | None:
    """The family's live proposal (approved, sent or accepted) in any run, other than `exclude`."""
    q = sa.select(Proposal).where(Proposal.family_id == family_id, Proposal.state.in_(LIVE_STATES))
    if exclude is not None:
        q = q.where(Proposal.id != exclude)
    return db.session.scalars(q.limit(1)).first()


def live_family_ids() -> set[uuid.UUID]:
    """The families that have a live proposal (approved, sent or accepted) in some run."""
    return set(db.session.scalars(sa.select(Proposal.family_id).where(Proposal.state.in_(LIVE_STATES))))


def _already_live(other: Proposal | None) -> ReviewError:
    if other is None:
        return ReviewError(_l("Not approved: the family already has an approved, sent or accepted proposal "
                              "in another run. A family is offered to one home at a time."))
    when = format_datetime_safe(other.run.created_at) if other.run is not None else ""
    return ReviewError(_l("Not approved: the family already has a proposal that is %(state)s in the run of "
                          "%(when)s. A family is offered to one home at a time; reject or wait for that one first.",
                          state=_state_words(other.state), when=when))


def _state_words(state: str) -> str:
    from ebo.ui import STATUS_LABELS

    return str(STATUS_LABELS.get(state, state))


# --- approve, reject, move ------------------------------------------------------------------------------


def approve(run: MatchingRun, proposal: Proposal, actor) -> None:
    """Approve a proposal, if its host or unit still has room and the family has no other live proposal."""
    _refuse_unless(proposal.can_approve(), proposal)
    other = live_proposal(proposal.family_id, exclude=proposal.id)
    if other is not None:
        raise _already_live(other)
    if proposal.host_id is not None or proposal.unit_id is not None:
        names = broken_rules(run, proposal, host=proposal.host, unit=proposal.unit)
        room = [n for n in names if n in ROOM_RULES]
        if room:
            raise ReviewError(_l("Not approved: %(rules)s.", rules=rule_words(room)))
    try:
        with db.session.begin_nested():  # the partial unique index settles a race with another approval
            _decided(proposal, actor, ProposalState.APPROVED)
            db.session.flush()
    except IntegrityError:
        db.session.refresh(proposal)
        raise _already_live(live_proposal(proposal.family_id, exclude=proposal.id)) from None
    audit.record("proposal_approved", "proposal", proposal.id, actor=actor)


def approve_many(run: MatchingRun, proposal_ids: list[uuid.UUID] | None, actor) -> tuple[int, int, int]:
    """Approve the given proposed proposals (all of the run's when None).

    Returns (approved, refused for want of room, refused because the family has a live proposal elsewhere).
    """
    q = sa.select(Proposal).where(Proposal.run_id == run.id, Proposal.state == ProposalState.PROPOSED)
    if proposal_ids is not None:
        q = q.where(Proposal.id.in_(proposal_ids))
    props = list(db.session.scalars(q.order_by(Proposal.created_at, Proposal.id)))
    held = capacity.held_load()
    inst = run_instance(run)
    sizes = {f.id: f.size for f in inst.families}
    max_fams = {h.id: inst.max_families(h) for h in inst.hosts}
    forbidden = {
        (str(f), str(h)) for f, h in db.session.execute(sa.select(ForbiddenPair.family_id, ForbiddenPair.host_id))
    }
    beds = capacity.beds_of(props)
    live = live_family_ids()
    ok = refused = elsewhere = 0
    now = utcnow()
    approved: list[Proposal] = []
    for p in props:
        if p.family_id in live:
            elsewhere += 1
            continue
        key = capacity.home_of(p)
        size = sizes.get(str(p.family_id), 1)
        persons, families = held.get(key, (0, 0))
        limit = max_fams.get(str(p.host_id), 1) if p.host_id is not None else None
        fits = persons + size <= beds.get(key, 0) and (limit is None or families + 1 <= limit)
        if p.host_id is not None and (str(p.family_id), str(p.host_id)) in forbidden:
            fits = False
        if not fits:
            refused += 1
            continue
        held[key] = (persons + size, families + 1)
        live.add(p.family_id)
        approved.append(p)
    try:
        with db.session.begin_nested():  # the partial unique index settles a race with another approval
            for p in approved:
                p.state, p.decided_by, p.decided_at = ProposalState.APPROVED, getattr(actor, "id", None), now
            db.session.flush()
    except IntegrityError:
        for p in approved:
            db.session.refresh(p)
        raise ReviewError(_l("Nothing was approved: another coordinator approved some of these families in "
                             "another run at the same moment. Reload the page and try again.")) from None
    ok = len(approved)
    audit.record("proposals_approved", "matching_run", run.id,
                 {"approved": ok, "refused": refused, "live_elsewhere": elsewhere}, actor=actor)
    return ok, refused, elsewhere


def reject(proposal: Proposal, actor, note: str | None = None) -> None:
    """Reject a proposal; a family–host pair becomes forbidden (vetoed); the family waits for the next run."""
    _refuse_unless(proposal.can_reject(), proposal)
    _decided(proposal, actor, ProposalState.REJECTED)
    proposal.coordinator_note = (note or "").strip()[:2000] or None
    if proposal.host_id is not None and not _forbidden(proposal.family_id, proposal.host_id):
        db.session.add(ForbiddenPair(family_id=proposal.family_id, host_id=proposal.host_id,
                                     reason=ForbiddenReason.VETOED, created_by=getattr(actor, "id", None)))
    db.session.flush()
    audit.record("proposal_rejected", "proposal", proposal.id, actor=actor)


def move_candidates(run: MatchingRun, proposal: Proposal, limit: int = 30) -> tuple[list, list]:
    """Hosts nearest the family's schools (or its proposed home) from the run, and the active units."""
    inst = run_instance(run)
    fam = run_family(inst, proposal.family_id)
    schools = rules.schools_by_id(inst)
    points = [(schools[c.school_id].lat, schools[c.school_id].lon) for c in fam.children if c.school_id]
    if not points:
        here = next((h for h in inst.hosts if h.id == str(proposal.host_id)), None) if proposal.host_id else None
        here = here or next((u for u in inst.units if u.id == str(proposal.unit_id)), None)
        points = [(here.lat, here.lon)] if here else []

    def dist(h):
        return max((haversine_km(h.lat, h.lon, a, b) for a, b in points), default=0.0)

    nearest = sorted((h for h in inst.hosts if h.id != str(proposal.host_id)), key=dist)[:limit]
    ids = [uuid.UUID(h.id) for h in nearest]
    rows = {h.id: h for h in db.session.scalars(sa.select(HostHousehold).where(HostHousehold.id.in_(ids)))}
    found = [(rows[i], dist(h)) for i, h in zip(ids, nearest, strict=True) if i in rows]
    units = list(
        db.session.scalars(sa.select(HousingUnit).where(HousingUnit.active.is_(True)).order_by(HousingUnit.name))
    )
    return found, units


def move(
    run: MatchingRun,
    proposal: Proposal,
    actor,
    host: HostHousehold | None = None,
    unit: HousingUnit | None = None,
) -> None:
    """Move the proposal's family to another host or unit; refuses, naming the rule, if a hard rule breaks."""
    _refuse_unless(proposal.can_move(), proposal)
    if (host is None) == (unit is None):
        raise ReviewError(_l("Choose one host or one unit."))
    if (host is not None and host.id == proposal.host_id) or (unit is not None and unit.id == proposal.unit_id):
        raise ReviewError(_l("The family is already proposed there."))
    broken = broken_rules(run, proposal, host=host, unit=unit)
    if broken:
        raise ReviewError(_l("The move breaks a hard rule: %(rules)s.", rules=rule_words(broken)))
    inst = run_instance(run)
    fam = run_family(inst, proposal.family_id)
    if host is not None:
        rec = run_host(inst, host)
        proposal.host_id, proposal.unit_id = host.id, None
        proposal.child_km = list(rules.child_km(rec, fam, rules.schools_by_id(inst)))
        proposal.shared_language = rules.shares_language(rec, fam)
    else:
        located = unit.lat is not None
        proposal.host_id, proposal.unit_id = None, unit.id
        proposal.child_km = list(rules.child_km(unit_record(unit), fam, rules.schools_by_id(inst))) if located else []
        proposal.shared_language = None
    proposal.decided_by, proposal.decided_at = getattr(actor, "id", None), utcnow()
    db.session.flush()
    db.session.expire(proposal, ["host", "unit"])
    audit.record("proposal_moved", "proposal", proposal.id, {"to": "host" if host is not None else "unit"}, actor=actor)


# --- send and answer --------------------------------------------------------------------------------------


def send_approved(run: MatchingRun, actor) -> int:
    """Send the run's approved host proposals to their hosts (email and dashboard); returns how many."""
    props = [
        p for p in db.session.scalars(
            sa.select(Proposal).where(Proposal.run_id == run.id, Proposal.state == ProposalState.APPROVED)
        )
        if p.can_send()
    ]
    now = utcnow()
    for p in props:
        p.state, p.sent_at = ProposalState.SENT, now
        fam = p.family
        if fam.status == FamilyStatus.WAITING:
            fam.status = FamilyStatus.PROPOSED
    db.session.flush()
    for p in props:
        hosts.notify_proposal_waiting(p)
    if props:
        audit.record("proposals_sent", "matching_run", run.id, {"sent": len(props)}, actor=actor)
    return len(props)


def record_answer(proposal: Proposal, accept: bool, reason: str, actor) -> None:
    """Record a host's answer given to a coordinator (by phone, say): accept, or decline with a reason."""
    _refuse_unless(proposal.can_answer(), proposal)
    if proposal.host is None:
        raise ReviewError(_l("Only proposals to hosts are answered."))
    try:
        hosts.answer_proposal(proposal.host, proposal, accept, reason)
    except hosts.HostError as e:
        raise ReviewError(str(e)) from None
    proposal.coordinator_note = "answer recorded by a coordinator"
    db.session.flush()
    audit.record("proposal_answer_recorded", "proposal", proposal.id, {"accepted": bool(accept)}, actor=actor)


# --- expiry -----------------------------------------------------------------------------------------------


def expiry_cutoff(today: dt.date | None = None) -> dt.datetime:
    """Proposals sent before this moment have passed their answer deadline by `today` (Swedish days).

    The deadline is the day sent (in Sweden) plus PROPOSAL_ANSWER_DAYS (hosts.answer_by); the proposal
    expires the day after it.
    """
    from flask import current_app

    today = today or clock.today()
    days = int(current_app.config.get("PROPOSAL_ANSWER_DAYS", 3))
    return dt.datetime.combine(today - dt.timedelta(days=days), dt.time(0), tzinfo=clock.SWEDEN).astimezone(dt.UTC)


def expire_overdue(today: dt.date | None = None) -> int:
    """Expire the sent proposals whose host did not answer by the deadline; returns how many.

    The beds they held are free again (an expired proposal holds none), the family waits again unless
    something else holds it, and each is audited. No veto is recorded: the pair may be proposed again.
    Does not commit: the caller's transaction does (a request, or `flask proposals expire`).
    """
    overdue = list(db.session.scalars(
        sa.select(Proposal).where(Proposal.state == ProposalState.SENT, Proposal.sent_at < expiry_cutoff(today))
        .with_for_update(skip_locked=True)))
    for p in overdue:
        if not p.can_become(ProposalState.EXPIRED):  # pragma: no cover - selected by state
            continue
        p.state, p.decided_at, p.decided_by = ProposalState.EXPIRED, utcnow(), None
        family = p.family
        if family.status == FamilyStatus.PROPOSED and family.active_placement is None and live_proposal(
                family.id, exclude=p.id) is None:
            family.status = FamilyStatus.WAITING
    db.session.flush()
    for p in overdue:
        audit.record("proposal_expired", "proposal", p.id, actor=None)
    return len(overdue)
