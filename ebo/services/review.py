"""Coordinators' review of a matching run: the runs, a run's page of proposals and its totals.

The review's other jobs each have their own module: the unplaced families' reasons in words
(`unplaced`), who holds a home's beds (`capacity`), approving, rejecting, moving, sending and answering
proposals (`proposals`), and confirming a proposal into a placement (`placements.confirm`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ebo.clock import today
from ebo.extensions import db
from ebo.models import (
    Family,
    FamilyMember,
    HostHousehold,
    HousingUnit,
    MatchingRun,
    MunicipalitySettings,
    Proposal,
    ProposalState,
    RunKind,
)
from ebo.models.matching import OPEN_STATES
from ebo.models.types import utcnow
from ebo.services import audit, figures_cache
from ebo.services.match_instance import Preview, preview_counts
from ebo.services.unplaced import school_names, unplaced_page

PER_PAGE = 25  # rows with up to five forms each: a page stays small and fast


# --- runs ---------------------------------------------------------------------------------------------


def runs_page(page: int = 1):
    """Matching runs, newest first, one page."""
    query = (
        sa.select(MatchingRun).where(MatchingRun.kind == RunKind.MATCH).order_by(MatchingRun.created_at.desc())
    )
    return db.paginate(query, page=max(1, page), per_page=20, error_out=False)


def default_max_school_km() -> float:
    """The municipality's default school distance for a run."""
    return float(MunicipalitySettings.get().default_max_school_km)


def default_families_per_host() -> int:
    """The run form's "families per host": the most any host taking part in matching said they could take."""
    months, day = MunicipalitySettings.get().reconfirm_months, today()

    def most() -> int:
        n = db.session.scalar(
            sa.select(sa.func.max(HostHousehold.max_families)).where(HostHousehold.matching_clause(day, months))
        )
        return min(max(int(n or 1), 1), 5)

    return figures_cache.cached("runs.families_per_host", (day, months), most)


def preview(max_school_km: float, families_per_host: int) -> Preview:
    """Who would take part in a run with these parameters (counts only, counted in SQL, kept a short while)."""
    months, day = MunicipalitySettings.get().reconfirm_months, today()
    return figures_cache.cached("runs.preview", (day, months), lambda: preview_counts(day, months))


def get_run(run_id: uuid.UUID) -> MatchingRun | None:
    """A matching run (not a drill) by id."""
    run = db.session.get(MatchingRun, run_id)
    return run if run is not None and run.kind == RunKind.MATCH else None


def get_proposal(run: MatchingRun, proposal_id: uuid.UUID) -> Proposal | None:
    """A proposal of `run` by id."""
    p = db.session.get(Proposal, proposal_id)
    return p if p is not None and p.run_id == run.id else None


def replay_file(run: MatchingRun, kind: str, actor=None) -> str | None:
    """The run's stored instance or solution (ebo-match/1 JSON), audited as an export."""
    text = run.instance_json if kind == "instance" else run.solution_json
    if text:
        audit.record("export", "matching_run", run.id, {"file": kind}, actor=actor)
    return text


# --- the review page ----------------------------------------------------------------------------------


@dataclass
class ChildRow:
    """One child: age, school name and distance from the proposed home."""

    age: int | None
    school: str | None
    km: float | None


@dataclass
class ProposalRow:
    """A proposal as the review table shows it: no names, dossier numbers or health details."""

    proposal: Proposal
    size: int
    adults: int
    children: list[ChildRow]
    languages: list[str]
    needs: list[str]
    place: str
    is_unit: bool
    shared_language: bool | None
    family_ref: str = ""
    host_ref: str = ""
    # The other families this run proposes to the same home (their sizes), so a coordinator sees them together.
    same_home: list[int] = field(default_factory=list)


@dataclass
class Review:
    """Everything the review page shows about a finished run."""

    totals: dict
    counts: dict[str, int]
    rows: object  # a Pagination of ProposalRow
    to_send: int = 0
    unplaced: object = None  # a Pagination of unplaced.UnplacedRow


def host_label(host: HostHousehold) -> str:
    """A host as coordinators see it in the review: first name, postal code and reference."""
    first = (host.contact_name or "").split()[0] if host.contact_name else ""
    return f"{first} · {host.postal_code} · {host.reference}".strip(" ·")


def needs_words(family: Family) -> list[str]:
    """The family's needs of a home, in words."""
    out = []
    if family.needs_step_free:
        out.append(_("step-free"))
    if family.pet_allergy:
        out.append(_("no pets"))
    if family.needs_non_smoking:
        out.append(_("non-smoking"))
    return out


def _rows(proposals: list[Proposal], year: int) -> list[ProposalRow]:
    schools = school_names(m.school_id for p in proposals for m in p.family.members)
    out = []
    for p in proposals:
        fam = p.family
        kms = list(p.child_km or [])
        kids = []
        for i, m in enumerate(fam.children):
            km = kms[i] if i < len(kms) else None
            kids.append(ChildRow(age=m.age_in(year), school=schools.get(m.school_id), km=km))
        place = host_label(p.host) if p.host is not None else (p.unit.name if p.unit is not None else "–")
        out.append(
            ProposalRow(
                proposal=p,
                size=fam.size,
                adults=len(fam.adults),
                children=kids,
                languages=list(fam.languages or []),
                needs=needs_words(fam),
                place=place,
                is_unit=p.is_unit,
                shared_language=p.shared_language,
                family_ref=fam.reference,
                host_ref=p.host.reference if p.host is not None else "",
            )
        )
    return out


def review_row(proposal: Proposal, run: MatchingRun) -> ProposalRow:
    """One proposal as the review table shows it."""
    return _rows([proposal], (run.created_at or utcnow()).year)[0]


def state_counts(run: MatchingRun) -> dict[str, int]:
    """How many of the run's proposals are in each state."""
    return dict(
        db.session.execute(
            sa.select(Proposal.state, sa.func.count()).where(Proposal.run_id == run.id).group_by(Proposal.state)
        ).all()
    )


def _note_same_home(run: MatchingRun, rows: list[ProposalRow]) -> None:
    """Fill each host row's `same_home`: the sizes of the run's other live proposals to that host."""
    host_ids = {r.proposal.host_id for r in rows if r.proposal.host_id is not None}
    size = sa.select(sa.func.count()).where(FamilyMember.family_id == Proposal.family_id).scalar_subquery()
    others = db.session.execute(
        sa.select(Proposal.id, Proposal.host_id, size)
        .where(
            Proposal.run_id == run.id,
            Proposal.host_id.in_(host_ids),
            Proposal.state.in_(sorted(OPEN_STATES | {ProposalState.CONFIRMED})),
        )
        .order_by(Proposal.created_at, Proposal.id)
    ).all()
    for row in rows:
        row.same_home = [n for pid, host_id, n in others if host_id == row.proposal.host_id and pid != row.proposal.id]


# The review's order: one home's families stand together (rows grouped by host, then unit), in order of
# creation. Served by the indexes ix_proposals_run_id_home and ix_proposals_run_id_state_home.
REVIEW_ORDER = (Proposal.host_id.asc().nulls_last(), Proposal.unit_id.asc().nulls_last(), Proposal.created_at,
                Proposal.id)


def review(run: MatchingRun, page: int = 1, state: str | None = None, unplaced_page_no: int = 1) -> Review:
    """The review of a finished run: totals, one page of proposals, one page of the unplaced families and why."""
    where = [Proposal.run_id == run.id] + ([Proposal.state == state] if state else [])
    # The per-state counts and the approved host proposals still to send, in one GROUP BY.
    to_host = Proposal.host_id.is_not(None)
    counts, to_send = {}, 0
    for st, has_host, n in db.session.execute(
            sa.select(Proposal.state, to_host, sa.func.count()).where(Proposal.run_id == run.id)
            .group_by(Proposal.state, to_host)).all():
        counts[st] = counts.get(st, 0) + n
        to_send += n if st == ProposalState.APPROVED and has_host else 0
    # Counted from the per-state counts (one GROUP BY over an index), so the page costs the same statements
    # whichever page is asked for. Past the last page (the last rows left the filter): its last page.
    total = counts.get(state, 0) if state else sum(counts.values())
    last = max(1, -(-total // PER_PAGE))
    query = (
        sa.select(Proposal)
        .where(*where)
        .options(  # only the columns a row shows (no contact details are loaded for the review)
            selectinload(Proposal.family)
            .load_only(Family.reference, Family.languages, Family.needs_step_free, Family.pet_allergy,
                       Family.needs_non_smoking, raiseload=True)
            .selectinload(Family.members)
            .load_only(FamilyMember.kind, FamilyMember.birth_year, FamilyMember.school_id, FamilyMember.position,
                       raiseload=True),
            selectinload(Proposal.host)
            .load_only(HostHousehold.contact_name, HostHousehold.postal_code, HostHousehold.reference,
                       raiseload=True),
            selectinload(Proposal.unit).load_only(HousingUnit.name, raiseload=True),
        )
        .order_by(*REVIEW_ORDER)
    )
    pagination = db.paginate(query, page=min(max(1, page), last), per_page=PER_PAGE, error_out=False, count=False)
    pagination.total = total
    pagination.items = _rows(list(pagination.items), (run.created_at or utcnow()).year)
    _note_same_home(run, pagination.items)
    totals = dict(run.counts or {})
    totals.update(status=run.status, gap=run.gap, objective=run.objective, wall_s=run.wall_s)
    return Review(
        totals=totals, counts=counts, rows=pagination, unplaced=unplaced_page(run, unplaced_page_no),
        to_send=to_send
    )
