"""Coordinators' review of a matching run: the runs, a run's page of proposals and its totals.

The review's other jobs each have their own module: the unplaced families' reasons in words
(`unplaced`), who holds a home's beds (`capacity`), approving, rejecting, moving, sending and answering
proposals (`proposals`), and confirming a proposal into a placement (`placements.confirm`).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import gettext as _

from ebo.clock import today
from ebo.extensions import db
from ebo.i18n import gettext, ngettext
from ebo.models import (
    Family,
    FamilyMember,
    HostHousehold,
    HousingUnit,
    MatchingRun,
    MemberKind,
    MunicipalitySettings,
    Proposal,
    ProposalState,
    RunKind,
    School,
)
from ebo.models.matching import OPEN_STATES
from ebo.models.types import utcnow
from ebo.pagination import rows_page
from ebo.services import audit, figures_cache
from ebo.services.match_instance import Preview, preview_counts
from ebo.services.unplaced import unplaced_page

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


# --- the review page ---------------------------------------------------------------------------------


@dataclass(slots=True)
class ChildRow:
    """One child: age, school name and distance from the proposed home."""

    age: int | None
    school: str | None
    km: float | None


@dataclass(slots=True)
class ProposalView:
    """The columns of a proposal that a review row shows, read as plain values (no ORM object), with the
    model's own rules of what a coordinator may do with it (Proposal's methods, shared, not copied)."""

    id: uuid.UUID
    family_id: uuid.UUID
    host_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    state: str
    decline_reason: str | None

    is_unit = Proposal.is_unit
    can_approve = Proposal.can_approve
    can_reject = Proposal.can_reject
    can_move = Proposal.can_move
    can_send = Proposal.can_send
    can_answer = Proposal.can_answer
    can_confirm = Proposal.can_confirm


@dataclass(slots=True)
class ProposalRow:
    """A proposal as the review table shows it: no names, dossier numbers or health details."""

    proposal: ProposalView
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
    # In the current language (filled by `_in_words`): "3 persons", "2 adults", "1 child", the children's ages,
    # the languages' names, the state, and the other families proposed to the same home.
    persons_words: str = ""
    adults_words: str = ""
    children_words: str = ""
    ages_words: str = ""
    languages_words: str = ""
    state_words: str = ""
    same_home_words: str = ""
    # What a coordinator may do with it (the model's rules, worked out once).
    may_approve: bool = False
    may_move: bool = False
    may_reject: bool = False
    may_answer: bool = False
    may_confirm: bool = False


@dataclass
class Review:
    """Everything the review page shows about a finished run."""

    totals: dict
    counts: dict[str, int]
    rows: object  # a Pagination of ProposalRow
    to_send: int = 0
    unplaced: object = None  # a Pagination of unplaced.UnplacedRow


def _label(contact_name: str | None, postal_code: str | None, reference: str | None) -> str:
    words = (contact_name or "").split()
    first = words[0] if words else ""
    return f"{first} · {postal_code} · {reference}".strip(" ·")


def host_label(host: HostHousehold) -> str:
    """A host as coordinators see it in the review: first name, postal code and reference."""
    return _label(host.contact_name, host.postal_code, host.reference)


def _needs_words() -> tuple[str, str, str]:
    return _("step-free"), _("no pets"), _("non-smoking")


def needs_words(family: Family) -> list[str]:
    """The family's needs of a home, in words."""
    words = _needs_words()
    return [w for w, need in zip(words, (family.needs_step_free, family.pet_allergy, family.needs_non_smoking),
                                 strict=True) if need]


def row_words() -> SimpleNamespace:
    """The fixed words of the review table and its row cells in the current language, looked up once per page
    (25 rows would otherwise translate some 250 strings). The "_n" entries keep their %(n)d for the row's number
    (the template's `format` filter). Plain text: the template escapes it. Attributes, not a dict: Jinja reads
    `words.x` as an attribute first, and a dict's miss costs an exception each time."""
    return SimpleNamespace(
        family=gettext("Family"), home=gettext("Proposed home"), schools=gettext("Schools"),
        language=gettext("Shared language"), state=gettext("State"), approve=gettext("Approve"),
        move=gettext("Move"), reject=gettext("Reject"), note=gettext("Reason (optional)"),
        reject_button=gettext("Reject: never propose this pair again"),
        answer=gettext("Record the host's answer"), answer_legend=gettext("The host's answer"),
        accepted=gettext("Accepted"), declined=gettext("Declined"),
        reason=gettext("Reason for declining (optional)"), answer_button=gettext("Record the answer"),
        confirm=gettext("Confirm the placement"), ages=gettext("Ages:"), languages=gettext("Languages:"),
        needs=gettext("Needs:"), unit=gettext("Unit:"), persons=gettext("persons"), yes=gettext("yes"),
        no=gettext("no"), tick_n=gettext("Tick proposal %(n)d"), proposal_n=gettext("proposal %(n)d"),
        for_proposal_n=gettext("for proposal %(n)d"), family_ref=gettext("Family %(ref)s"),
    )


def _in_words(rows: list[ProposalRow]) -> None:
    """Fill the rows' words in the current language, each distinct number, language and state translated once."""
    from ebo.languages import LANGUAGE_NAMES
    from ebo.ui import STATUS_LABELS

    plural: dict[tuple[str, int], str] = {}
    names: dict[str, str] = {}
    states: dict[str, str] = {}

    def n_words(singular: str, n: int) -> str:
        key = (singular, n)
        if key not in plural:
            plural[key] = PLURALS[singular](n)
        return plural[key]

    for row in rows:
        row.persons_words = n_words("person", row.size)
        row.adults_words = n_words("adult", row.adults)
        row.children_words = n_words("child", len(row.children)) if row.children else ""
        row.ages_words = ", ".join("?" if c.age is None else str(c.age) for c in row.children)  # a newborn is 0
        for code in row.languages:
            if code not in names:
                names[code] = str(LANGUAGE_NAMES.get(code, code))
        row.languages_words = ", ".join(names[c] for c in row.languages) or "–"
        state = row.proposal.state
        if state not in states:
            states[state] = str(STATUS_LABELS.get(state, state))
        row.state_words = states[state]
        row.same_home_words = n_words("same_home", len(row.same_home)) if row.same_home else ""


# The texts with a number in them that `_in_words` puts into words (msgids as the catalogue has them).
PLURALS = {
    "person": lambda n: ngettext("%(num)d person", "%(num)d persons", n),
    "adult": lambda n: ngettext("%(num)d adult", "%(num)d adults", n),
    "child": lambda n: ngettext("%(num)d child", "%(num)d children", n),
    "same_home": lambda n: ngettext("Also proposed to this home: %(num)d other family",
                                    "Also proposed to this home: %(num)d other families", n),
}


# The review's order: one home's families stand together (rows grouped by host, then unit), in order of
# creation. Served by the indexes ix_proposals_run_id_home and ix_proposals_run_id_state_home.
REVIEW_ORDER = (Proposal.host_id.asc().nulls_last(), Proposal.unit_id.asc().nulls_last(), Proposal.created_at,
                Proposal.id)


@functools.cache
def _rows_statement(by: str) -> sa.Select:
    """The statement of the review rows, built once with bound values (building it costs more than running it):
    one page of a run's proposals (`by` "run": run_id, offset, limit), of those in one state ("state": also
    state), or one proposal ("proposal": proposal_id). Plain columns: the proposals' page first, then their
    family, members with their schools, host or unit joined to it (one result row per member)."""
    if by == "proposal":
        where = [Proposal.id == sa.bindparam("proposal_id")]
    else:
        where = [Proposal.run_id == sa.bindparam("run_id")]
        where += [Proposal.state == sa.bindparam("state")] if by == "state" else []
    page = (
        sa.select(Proposal.id, Proposal.family_id, Proposal.host_id, Proposal.unit_id, Proposal.state,
                  Proposal.decline_reason, Proposal.child_km, Proposal.shared_language, Proposal.created_at)
        .where(*where).order_by(*REVIEW_ORDER)
    )
    if by != "proposal":
        page = page.offset(sa.bindparam("offset", type_=sa.Integer)).limit(sa.bindparam("limit", type_=sa.Integer))
    page = page.subquery("page")
    return (
        sa.select(page, Family.reference, Family.languages, Family.needs_step_free, Family.pet_allergy,
                  Family.needs_non_smoking, HostHousehold.contact_name, HostHousehold.postal_code,
                  HostHousehold.reference.label("host_ref"), HousingUnit.name.label("unit_name"),
                  FamilyMember.kind, FamilyMember.birth_year, School.name.label("school"))
        .join(Family, Family.id == page.c.family_id)
        .outerjoin(HostHousehold, HostHousehold.id == page.c.host_id)
        .outerjoin(HousingUnit, HousingUnit.id == page.c.unit_id)
        .outerjoin(FamilyMember, FamilyMember.family_id == page.c.family_id)
        .outerjoin(School, School.id == FamilyMember.school_id)
        .order_by(page.c.host_id.asc().nulls_last(), page.c.unit_id.asc().nulls_last(), page.c.created_at,
                  page.c.id, FamilyMember.position, FamilyMember.id)
    )


def _load_rows(by: str, params: dict, year: int) -> list[ProposalRow]:
    """The review rows of `_rows_statement(by)` with `params`, in the review's order (members grouped here)."""
    words = _needs_words()
    out: list[ProposalRow] = []
    row = None
    for r in db.session.execute(_rows_statement(by), params):
        if row is None or row.proposal.id != r.id:
            kms = r.child_km or []
            if r.host_id is not None:
                place = _label(r.contact_name, r.postal_code, r.host_ref)
            else:
                place = r.unit_name if r.unit_id is not None and r.unit_name is not None else "–"
            row = ProposalRow(
                proposal=ProposalView(r.id, r.family_id, r.host_id, r.unit_id, r.state, r.decline_reason),
                size=0, adults=0, children=[], languages=list(r.languages or []),
                needs=[w for w, need in zip(words, (r.needs_step_free, r.pet_allergy, r.needs_non_smoking),
                                            strict=True) if need],
                place=place, is_unit=r.unit_id is not None, shared_language=r.shared_language,
                family_ref=r.reference, host_ref=r.host_ref if r.host_id is not None else "",
            )
            view = row.proposal
            row.may_approve, row.may_move, row.may_reject = view.can_approve(), view.can_move(), view.can_reject()
            row.may_answer, row.may_confirm = view.can_answer(), view.can_confirm()
            out.append(row)
        if r.kind is None:  # a family without members (the outer join's empty side)
            continue
        row.size += 1
        if r.kind == MemberKind.ADULT:
            row.adults += 1
        elif r.kind == MemberKind.CHILD:
            i = len(row.children)
            row.children.append(ChildRow(age=None if r.birth_year is None else year - r.birth_year,
                                         school=r.school, km=kms[i] if i < len(kms) else None))
    return out


def review_row(proposal: Proposal, run: MatchingRun) -> ProposalRow:
    """One proposal as the review table shows it."""
    rows = _load_rows("proposal", {"proposal_id": proposal.id}, (run.created_at or utcnow()).year)
    _in_words(rows)
    return rows[0]


def state_counts(run: MatchingRun) -> dict[str, int]:
    """How many of the run's proposals are in each state."""
    return dict(
        db.session.execute(
            sa.select(Proposal.state, sa.func.count()).where(Proposal.run_id == run.id).group_by(Proposal.state)
        ).all()
    )


@functools.cache
def _same_home_statement() -> sa.Select:
    """The live proposals of a run (run_id bound) to some hosts (host_ids, a list), with their family's size;
    built once."""
    size = sa.select(sa.func.count()).where(FamilyMember.family_id == Proposal.family_id).scalar_subquery()
    return (
        sa.select(Proposal.id, Proposal.host_id, size)
        .where(
            Proposal.run_id == sa.bindparam("run_id"),
            Proposal.host_id.in_(sa.bindparam("host_ids", expanding=True)),
            Proposal.state.in_(sorted(OPEN_STATES | {ProposalState.CONFIRMED})),
        )
        .order_by(Proposal.created_at, Proposal.id)
    )


def _note_same_home(run: MatchingRun, rows: list[ProposalRow]) -> None:
    """Fill each host row's `same_home`: the sizes of the run's other live proposals to that host."""
    host_ids = sorted({r.proposal.host_id for r in rows if r.proposal.host_id is not None})
    others = db.session.execute(_same_home_statement(), {"run_id": run.id, "host_ids": host_ids}).all()
    for row in rows:
        row.same_home = [n for pid, host_id, n in others if host_id == row.proposal.host_id and pid != row.proposal.id]


@functools.cache
def _counts_statement() -> sa.Select:
    """A run's proposals counted per state and whether for a host (run_id bound), built once."""
    to_host = Proposal.host_id.is_not(None)
    return (sa.select(Proposal.state, to_host, sa.func.count()).where(Proposal.run_id == sa.bindparam("run_id"))
            .group_by(Proposal.state, to_host))


def review(run: MatchingRun, page: int = 1, state: str | None = None, unplaced_page_no: int = 1) -> Review:
    """The review of a finished run: totals, one page of proposals, one page of the unplaced families and why."""
    # The per-state counts and the approved host proposals still to send, in one GROUP BY.
    counts, to_send = {}, 0
    for st, has_host, n in db.session.execute(_counts_statement(), {"run_id": run.id}).all():
        counts[st] = counts.get(st, 0) + n
        to_send += n if st == ProposalState.APPROVED and has_host else 0
    # Counted from the per-state counts (one GROUP BY over an index), so the page costs the same statements
    # whichever page is asked for. Past the last page (the last rows left the filter): its last page.
    total = counts.get(state, 0) if state else sum(counts.values())
    last = max(1, -(-total // PER_PAGE))
    page_no = min(max(1, page), last)
    params = {"run_id": run.id, "offset": (page_no - 1) * PER_PAGE, "limit": PER_PAGE}
    if state:
        params["state"] = state
    items = _load_rows("state" if state else "run", params, (run.created_at or utcnow()).year)
    pagination = rows_page(items, page_no, PER_PAGE, total)
    _note_same_home(run, pagination.items)
    _in_words(pagination.items)
    totals = dict(run.counts or {})
    totals.update(status=run.status, gap=run.gap, objective=run.objective, wall_s=run.wall_s)
    return Review(
        totals=totals, counts=counts, rows=pagination, unplaced=unplaced_page(run, unplaced_page_no),
        to_send=to_send
    )
