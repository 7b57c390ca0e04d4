"""Coordinators' review of a matching run: approve, reject, move, send, record answers, confirm.

The optimiser proposes; a coordinator decides; a host agrees; only then is a family placed. Services
flush and the request commits; `confirm` is one transaction that can never double-book: it takes the
family row first (guarded update), then the host's or unit's beds (`capacity`'s guarded update), then
inserts the placement (a partial unique index allows one active placement per family). On any conflict
it rolls the request's transaction back, so nothing of it is written.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ebo.extensions import db
from ebo.models import (
    Family,
    FamilyStatus,
    ForbiddenPair,
    ForbiddenReason,
    HostHousehold,
    HousingUnit,
    MatchingRun,
    MunicipalitySettings,
    Placement,
    Proposal,
    ProposalState,
    School,
)
from ebo.models.types import utcnow
from ebo.services import audit, capacity
from matching import rules
from matching import schema as ms

log = logging.getLogger(__name__)

PER_PAGE = 50
# Proposals that hold a host's or unit's room (besides confirmed placements).
HOLDING = (ProposalState.APPROVED.value, ProposalState.SENT.value, ProposalState.ACCEPTED.value)
# Proposals of a family that a confirmed placement makes moot.
OPEN = (ProposalState.PROPOSED.value, *HOLDING)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

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


class ReviewError(Exception):
    """A review action is not possible; the message is for the coordinator."""


# --- runs ---------------------------------------------------------------------------------------------


def runs_page(page: int = 1):
    """Matching runs, newest first, one page."""
    query = sa.select(MatchingRun).where(MatchingRun.kind == "match").order_by(MatchingRun.created_at.desc())
    return db.paginate(query, page=max(1, page), per_page=20, error_out=False)


def default_max_school_km() -> float:
    """The municipality's default school distance for a run."""
    return float(MunicipalitySettings.get().default_max_school_km)


def preview(max_school_km: float, families_per_host: int):
    """Who would take part in a run with these parameters (counts only)."""
    from ebo.services.match_instance import build_instance
    from ebo.services.runs import run_day

    settings = MunicipalitySettings.get()
    _inst, pv = build_instance(
        run_day(),
        max_school_km=max_school_km,
        families_per_host=families_per_host,
        reconfirm_months=settings.reconfirm_months,
    )
    return pv


def get_run(run_id: uuid.UUID) -> MatchingRun | None:
    """A matching run (not a drill) by id."""
    run = db.session.get(MatchingRun, run_id)
    return run if run is not None and run.kind == "match" else None


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


@dataclass
class Review:
    """Everything the review page shows about a finished run."""

    totals: dict
    counts: dict[str, int]
    rows: object  # a Pagination of ProposalRow
    to_send: int = 0
    unplaced: list[tuple[str, list[str]]] = field(default_factory=list)


def host_label(host: HostHousehold) -> str:
    """A host as coordinators see it in the review: first name and postal code."""
    first = (host.contact_name or "").split()[0] if host.contact_name else ""
    return f"{first} · {host.postal_code}".strip(" ·")


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


def _school_names(ids) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(School.id, School.name).where(School.id.in_(ids))).all())


def _rows(proposals: list[Proposal], year: int) -> list[ProposalRow]:
    schools = _school_names(m.school_id for p in proposals for m in p.family.members)
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
                is_unit=p.unit_id is not None,
                shared_language=p.shared_language,
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


def unplaced_reasons(run: MatchingRun) -> list[tuple[str, list[str]]]:
    """The unplaced families (a short opaque reference each) with the matcher's reasons, in the current
    language: the reasons are worked out again from the run's stored instance and solution and put into
    words here; only if that fails are the solution's stored (English) sentences shown, ids made readable."""
    if not run.solution_json:
        return []
    data = json.loads(run.solution_json)
    entries = data.get("unplaced") or []
    if not entries:
        return []
    try:
        return _unplaced_in_words(run, entries)
    except Exception:  # an old or odd run: show the stored (English) sentences instead
        log.warning("could not explain the unplaced families of run %s again", run.id, exc_info=True)
    ids = set()
    for e in entries:
        for r in e.get("reasons") or []:
            ids.update(UUID_RE.findall(r))
    names = {str(k): v for k, v in _school_names(uuid.UUID(i) for i in ids).items()}

    def readable(text: str) -> str:
        return UUID_RE.sub(lambda m: names.get(m.group(0), _("another record")), text)

    return [(str(e["family_id"])[:8], [readable(r) for r in e.get("reasons") or []]) for e in entries]


def _unplaced_in_words(run: MatchingRun, entries: list[dict]) -> list[tuple[str, list[str]]]:
    details = _unplaced_details(run, [str(e["family_id"]) for e in entries])
    schools = set()
    for ds in details:
        for d in ds:
            for step in [d.get("params") or {}, *((d.get("params") or {}).get("steps") or [])]:
                if (step.get("arg") or {}).get("school") is not None:
                    schools.add(step["arg"]["school"])
    names = _school_names_by_str(schools)
    return [(str(e["family_id"])[:8], [_reason_words(d, names) for d in ds])
            for e, ds in zip(entries, details, strict=True)]


def _unplaced_details(run: MatchingRun, family_ids: list[str]) -> list[list[dict]]:
    """matching.explain's structured reasons for each of `family_ids`, from the run's stored files."""
    from matching.explain import explain_details

    if not run.instance_json:
        raise ValueError("the run has no stored instance")
    inst = ms.instance_from_dict(json.loads(run.instance_json))
    sol = ms.solution_from_dict(json.loads(run.solution_json))
    families = {f.id: f for f in inst.families}
    return [explain_details(inst, sol, families[fid]) for fid in family_ids]


def _school_names_by_str(ids) -> dict[str, str]:
    wanted = set()
    for i in ids:
        try:
            wanted.add(uuid.UUID(str(i)))
        except (TypeError, ValueError):
            continue
    return {str(k): v for k, v in _school_names(wanted).items()}


def _hosts_words(n: int) -> str:
    return ngettext("%(num)d host", "%(num)d hosts", n)


def _step_words(step: dict, names: dict[str, str]) -> str:
    """One narrowing step of the hard-rule chain: "2 that accept children"."""
    rule, k, arg = step["rule"], step["count"], step.get("arg") or {}
    if rule == "children":
        return _("%(num)d that accept children", num=k)
    if rule == "step_free":
        return _("%(num)d with step-free access", num=k)
    if rule == "pets":
        return _("%(num)d without pets", num=k)
    if rule == "smoking":
        return _("%(num)d that are non-smoking", num=k)
    if rule == "availability":
        return ngettext("%(count)d available from %(date)s for %(days)d day",
                        "%(count)d available from %(date)s for %(days)d days", int(arg["days"]),
                        count=k, date=_date_words(arg["date"]), days=int(arg["days"]))
    if rule == "school":
        return _("%(num)d within %(km)s km of %(school)s", num=k, km=format_decimal(arg["km"]),
                 school=_school_word(arg["school"], names))
    if rule == "forbidden":
        return _("%(num)d that have not declined and were not vetoed", num=k)
    raise KeyError(rule)


def _date_words(iso: str) -> str:
    return format_date(dt.date.fromisoformat(iso))


def _school_word(sid: str, names: dict[str, str]) -> str:
    return names.get(str(sid), _("another record"))


def _chain_words(p: dict, names: dict[str, str]) -> str:
    """The hosts the chain is left with: "2 hosts with 3 beds, 1 that accept children"."""
    head = _("%(hosts)s with %(beds)s", hosts=_hosts_words(int(p["hosts"])),
             beds=ngettext("%(num)d bed", "%(num)d beds", int(p["size"])))
    return ", ".join([head, *(_step_words(s, names) for s in p.get("steps") or [])])


def _reason_words(d: dict, names: dict[str, str]) -> str:
    """One reason of matching.explain.explain_details in the current language."""
    rule, p = d["rule"], d.get("params") or {}
    if rule == "capacity":
        if p.get("hosts") == 0:
            return _("there are no hosts")
        return ngettext("no host has %(num)d bed", "no host has %(num)d beds", int(p["size"]))
    if rule == "taken":
        return ngettext("%(num)d host fits; it was used for another family",
                        "%(num)d hosts fit; all were used for other families", int(p["n"]))
    if rule == "cost":
        return ngettext("%(num)d host fits and %(r)d still had room, but placing the family there would not "
                        "lower the total cost",
                        "%(num)d hosts fit and %(r)d still had room, but placing the family there would not "
                        "lower the total cost", int(p["n"]), r=int(p["r"]))
    if rule == "unit":
        return _("there are no municipal units")
    if rule == "unit_step_free":
        return _("needs step-free access: no municipal unit has it")
    if rule == "unit_beds":
        return ngettext("no municipal unit has %(num)d free bed (most free: %(free)d)",
                        "no municipal unit has %(num)d free beds (most free: %(free)d)", int(p["size"]),
                        free=int(p["free"]))
    if rule == "unit_cost":
        return _("a municipal unit had room, but it would cost more than leaving the family unplaced")
    hosts = _chain_words(p, names)
    arg = p.get("arg") or {}
    if rule == "children":
        return _("of the %(hosts)s, none accepts children", hosts=hosts)
    if rule == "step_free":
        return _("of the %(hosts)s, none has step-free access", hosts=hosts)
    if rule == "pets":
        return _("of the %(hosts)s, none is free of pets (pet allergy)", hosts=hosts)
    if rule == "smoking":
        return _("of the %(hosts)s, none is non-smoking", hosts=hosts)
    if rule == "availability":
        days = int(arg["days"])
        return ngettext("of the %(hosts)s, none is available from %(date)s for %(days)d day",
                        "of the %(hosts)s, none is available from %(date)s for %(days)d days", days,
                        hosts=hosts, date=_date_words(arg["date"]), days=days)
    if rule == "school":
        return _("of the %(hosts)s, none is within %(km)s km of %(school)s", hosts=hosts,
                 km=format_decimal(arg["km"]), school=_school_word(arg["school"], names))
    if rule == "forbidden":
        return _("of the %(hosts)s, all have declined this family or were vetoed for it", hosts=hosts)
    raise KeyError(rule)


def review(run: MatchingRun, page: int = 1, state: str | None = None) -> Review:
    """The review of a finished run: totals, one page of proposals, the unplaced families and why."""
    query = (
        sa.select(Proposal)
        .where(Proposal.run_id == run.id)
        .options(
            selectinload(Proposal.family).selectinload(Family.members),
            selectinload(Proposal.host),
            selectinload(Proposal.unit),
        )
        .order_by(Proposal.created_at, Proposal.id)
    )
    if state:
        query = query.where(Proposal.state == state)
    pagination = db.paginate(query, page=max(1, page), per_page=PER_PAGE, error_out=False)
    pagination.items = _rows(list(pagination.items), (run.created_at or utcnow()).year)
    totals = dict(run.counts or {})
    totals.update(status=run.status, gap=run.gap, objective=run.objective, wall_s=run.wall_s)
    to_send = db.session.scalar(
        sa.select(sa.func.count()).where(
            Proposal.run_id == run.id, Proposal.state == ProposalState.APPROVED.value, Proposal.host_id.is_not(None)
        )
    )
    return Review(
        totals=totals, counts=state_counts(run), rows=pagination, unplaced=unplaced_reasons(run), to_send=to_send or 0
    )


# --- approve, reject, move ------------------------------------------------------------------------------


def _decided(p: Proposal, actor, state: str) -> None:
    p.state = state
    p.decided_by = getattr(actor, "id", None)
    p.decided_at = utcnow()


def _require(p: Proposal, *states: str) -> None:
    if p.state not in states:
        raise ReviewError(_l("This proposal is no longer open for that (it is %(state)s).", state=p.state))


def _holding_sizes(host_id=None, unit_id=None, exclude: uuid.UUID | None = None) -> list[int]:
    """Sizes of the families that hold room at a host or unit: active placements and held proposals."""
    col_p = Placement.host_id if host_id is not None else Placement.unit_id
    col_q = Proposal.host_id if host_id is not None else Proposal.unit_id
    target = host_id if host_id is not None else unit_id
    placed = list(db.session.scalars(sa.select(Placement.persons).where(col_p == target, Placement.end_date.is_(None))))
    placed_families = set(
        db.session.scalars(sa.select(Placement.family_id).where(col_p == target, Placement.end_date.is_(None)))
    )
    q = sa.select(Proposal.family_id).where(col_q == target, Proposal.state.in_(HOLDING))
    if exclude is not None:
        q = q.where(Proposal.id != exclude)
    fams = [f for f in db.session.scalars(q) if f not in placed_families]
    sizes = {f.id: f.size for f in db.session.scalars(sa.select(Family).where(Family.id.in_(fams)))} if fams else {}
    return placed + [sizes[f] for f in fams if f in sizes]


def _instance(run: MatchingRun) -> ms.Instance:
    return ms.instance_from_dict(json.loads(run.instance_json))


def _family_record(inst: ms.Instance, family_id: uuid.UUID) -> ms.Family:
    rec = next((f for f in inst.families if f.id == str(family_id)), None)
    if rec is None:
        raise ReviewError(_l("The family is not part of this run."))
    return rec


def _host_record(inst: ms.Instance, host: HostHousehold, families_per_host: int) -> ms.Host | None:
    rec = next((h for h in inst.hosts if h.id == str(host.id)), None)
    if rec is not None:
        return rec
    if (
        host.lat is None
        or host.lon is None
        or not host.takes_part_in_matching(inst.date, MunicipalitySettings.get().reconfirm_months)
    ):
        return None
    from ebo.services.match_instance import _host_record as build

    return build(host, host.beds, min(host.max_families, families_per_host))


def broken_rules(
    run: MatchingRun, proposal: Proposal, host: HostHousehold | None = None, unit: HousingUnit | None = None
) -> list[str]:
    """Names of the hard rules that placing the proposal's family with `host` (or in `unit`) breaks."""
    inst = _instance(run)
    fam = _family_record(inst, proposal.family_id)
    if unit is not None:
        u = ms.Unit(
            id=str(unit.id),
            lat=unit.lat or 0.0,
            lon=unit.lon or 0.0,
            beds=unit.beds,
            step_free=unit.step_free,
        )
        used = sum(_holding_sizes(unit_id=unit.id, exclude=proposal.id))
        out = [] if used + fam.size <= unit.beds else ["unit_beds"]
        return out + ([] if rules.unit_step_free_ok(u, fam) else ["unit_step_free"])
    rec = _host_record(inst, host, int(inst.params.families_per_host))
    if rec is None:
        return ["not_taking_part"]
    sizes = _holding_sizes(host_id=host.id, exclude=proposal.id)
    out = [] if rules.capacity_ok(rec, [*sizes, fam.size], inst.max_families(rec)) else ["capacity"]
    out += rules.violated_pair_rules(inst, rec, fam)
    if (
        "forbidden" not in out
        and db.session.scalar(
            sa.select(ForbiddenPair.id).where(
                ForbiddenPair.family_id == proposal.family_id, ForbiddenPair.host_id == host.id
            )
        )
        is not None
    ):
        out.append("forbidden")
    return out


def rule_words(names: list[str]) -> str:
    """Broken rules in words, joined."""
    return "; ".join(str(RULE_WORDS.get(n, n)) for n in names)


def approve(run: MatchingRun, proposal: Proposal, actor) -> None:
    """Approve a proposal, if its host or unit still has room for it."""
    _require(proposal, ProposalState.PROPOSED.value)
    if proposal.host_id is not None or proposal.unit_id is not None:
        room = _room_rules(run, proposal)
        if room:
            raise ReviewError(_l("Not approved: %(rules)s.", rules=rule_words(room)))
    _decided(proposal, actor, ProposalState.APPROVED.value)
    db.session.flush()
    audit.record("proposal_approved", "proposal", proposal.id, actor=actor)


def _room_rules(run: MatchingRun, proposal: Proposal) -> list[str]:
    """Only the capacity rules (the pair itself was checked by the solver or by the move)."""
    names = broken_rules(run, proposal, host=proposal.host, unit=proposal.unit)
    return [n for n in names if n in ("capacity", "unit_beds", "forbidden", "not_taking_part")]


def approve_many(run: MatchingRun, proposal_ids: list[uuid.UUID] | None, actor) -> tuple[int, int]:
    """Approve the given proposed proposals (all of the run's when None); returns (approved, refused)."""
    q = sa.select(Proposal).where(Proposal.run_id == run.id, Proposal.state == ProposalState.PROPOSED.value)
    if proposal_ids is not None:
        q = q.where(Proposal.id.in_(proposal_ids))
    props = list(db.session.scalars(q.order_by(Proposal.created_at, Proposal.id)))
    held = _held_load()
    inst = _instance(run)
    sizes = {f.id: f.size for f in inst.families}
    max_fams = {h.id: inst.max_families(h) for h in inst.hosts}
    forbidden = {
        (str(f), str(h)) for f, h in db.session.execute(sa.select(ForbiddenPair.family_id, ForbiddenPair.host_id))
    }
    beds = _beds(props)
    ok = refused = 0
    now = utcnow()
    for p in props:
        key = ("h", p.host_id) if p.host_id is not None else ("u", p.unit_id)
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
        p.state, p.decided_by, p.decided_at = ProposalState.APPROVED.value, getattr(actor, "id", None), now
        ok += 1
    db.session.flush()
    audit.record("proposals_approved", "matching_run", run.id, {"approved": ok, "refused": refused}, actor=actor)
    return ok, refused


def _held_load() -> dict[tuple[str, uuid.UUID], tuple[int, int]]:
    """(persons, families) per host or unit held by active placements and held proposals."""
    load: dict[tuple[str, uuid.UUID], tuple[int, int]] = {}
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
    size = sa.select(sa.func.count()).where(_member_family_clause()).scalar_subquery()
    for fam, h, u, n in db.session.execute(
        sa.select(Proposal.family_id, Proposal.host_id, Proposal.unit_id, size).where(Proposal.state.in_(HOLDING))
    ):
        if fam in placed:
            continue
        key = ("h", h) if h is not None else ("u", u)
        a, b = load.get(key, (0, 0))
        load[key] = (a + int(n or 1), b + 1)
    return load


def _member_family_clause():
    from ebo.models import FamilyMember

    return FamilyMember.family_id == Proposal.family_id


def _beds(props: list[Proposal]) -> dict[tuple[str, uuid.UUID], int]:
    hosts = {p.host_id for p in props if p.host_id is not None}
    units = {p.unit_id for p in props if p.unit_id is not None}
    out: dict[tuple[str, uuid.UUID], int] = {}
    if hosts:
        out.update(
            {
                ("h", i): b
                for i, b in db.session.execute(
                    sa.select(HostHousehold.id, HostHousehold.beds).where(HostHousehold.id.in_(hosts))
                )
            }
        )
    if units:
        out.update(
            {
                ("u", i): b
                for i, b in db.session.execute(
                    sa.select(HousingUnit.id, HousingUnit.beds).where(HousingUnit.id.in_(units))
                )
            }
        )
    return out


def reject(proposal: Proposal, actor, note: str | None = None) -> None:
    """Reject a proposal; a family–host pair becomes forbidden (vetoed); the family waits for the next run."""
    _require(proposal, ProposalState.PROPOSED.value, ProposalState.APPROVED.value)
    _decided(proposal, actor, ProposalState.REJECTED.value)
    proposal.coordinator_note = (note or "").strip()[:2000] or None
    if proposal.host_id is not None:
        _forbid(proposal.family_id, proposal.host_id, ForbiddenReason.VETOED.value, actor)
    db.session.flush()
    audit.record("proposal_rejected", "proposal", proposal.id, actor=actor)


def _forbid(family_id: uuid.UUID, host_id: uuid.UUID, reason: str, actor) -> None:
    exists = db.session.scalar(
        sa.select(ForbiddenPair.id).where(ForbiddenPair.family_id == family_id, ForbiddenPair.host_id == host_id)
    )
    if exists is None:
        db.session.add(
            ForbiddenPair(family_id=family_id, host_id=host_id, reason=reason, created_by=getattr(actor, "id", None))
        )


def move_candidates(run: MatchingRun, proposal: Proposal, limit: int = 30) -> tuple[list, list]:
    """Hosts nearest the family's schools (or its proposed home) from the run, and the active units."""
    inst = _instance(run)
    fam = _family_record(inst, proposal.family_id)
    schools = rules.schools_by_id(inst)
    points = [(schools[c.school_id].lat, schools[c.school_id].lon) for c in fam.children if c.school_id]
    if not points:
        here = next((h for h in inst.hosts if h.id == str(proposal.host_id)), None) if proposal.host_id else None
        here = here or next((u for u in inst.units if u.id == str(proposal.unit_id)), None)
        points = [(here.lat, here.lon)] if here else []
    from matching.geo import haversine_km

    def dist(h):
        return max((haversine_km(h.lat, h.lon, a, b) for a, b in points), default=0.0)

    nearest = sorted((h for h in inst.hosts if h.id != str(proposal.host_id)), key=dist)[:limit]
    ids = [uuid.UUID(h.id) for h in nearest]
    rows = {h.id: h for h in db.session.scalars(sa.select(HostHousehold).where(HostHousehold.id.in_(ids)))}
    hosts = [(rows[i], dist(h)) for i, h in zip(ids, nearest, strict=True) if i in rows]
    units = list(
        db.session.scalars(sa.select(HousingUnit).where(HousingUnit.active.is_(True)).order_by(HousingUnit.name))
    )
    return hosts, units


def move(
    run: MatchingRun,
    proposal: Proposal,
    actor,
    host: HostHousehold | None = None,
    unit: HousingUnit | None = None,
) -> None:
    """Move the proposal's family to another host or unit; refuses, naming the rule, if a hard rule breaks."""
    _require(proposal, ProposalState.PROPOSED.value, ProposalState.APPROVED.value)
    if (host is None) == (unit is None):
        raise ReviewError(_l("Choose one host or one unit."))
    if (host is not None and host.id == proposal.host_id) or (unit is not None and unit.id == proposal.unit_id):
        raise ReviewError(_l("The family is already proposed there."))
    broken = broken_rules(run, proposal, host=host, unit=unit)
    if broken:
        raise ReviewError(_l("The move breaks a hard rule: %(rules)s.", rules=rule_words(broken)))
    inst = _instance(run)
    fam = _family_record(inst, proposal.family_id)
    if host is not None:
        rec = _host_record(inst, host, int(inst.params.families_per_host))
        proposal.host_id, proposal.unit_id = host.id, None
        proposal.child_km = list(rules.child_km(rec, fam, rules.schools_by_id(inst)))
        proposal.shared_language = rules.shares_language(rec, fam)
    else:
        u = ms.Unit(
            id=str(unit.id),
            lat=unit.lat or 0.0,
            lon=unit.lon or 0.0,
            beds=unit.beds,
            step_free=unit.step_free,
        )
        proposal.host_id, proposal.unit_id = None, unit.id
        proposal.child_km = list(rules.child_km(u, fam, rules.schools_by_id(inst))) if unit.lat is not None else []
        proposal.shared_language = None
    proposal.decided_by, proposal.decided_at = getattr(actor, "id", None), utcnow()
    db.session.flush()
    db.session.expire(proposal, ["host", "unit"])
    audit.record("proposal_moved", "proposal", proposal.id, {"to": "host" if host is not None else "unit"}, actor=actor)


# --- send and answer --------------------------------------------------------------------------------------


def send_approved(run: MatchingRun, actor) -> int:
    """Send the run's approved host proposals to their hosts (email and dashboard); returns how many."""
    props = list(
        db.session.scalars(
            sa.select(Proposal).where(
                Proposal.run_id == run.id,
                Proposal.state == ProposalState.APPROVED.value,
                Proposal.host_id.is_not(None),
            )
        )
    )
    notify = _notifier()
    now = utcnow()
    for p in props:
        p.state, p.sent_at = ProposalState.SENT.value, now
        fam = p.family
        if fam.status == FamilyStatus.WAITING.value:
            fam.status = FamilyStatus.PROPOSED.value
    db.session.flush()
    for p in props:
        if notify is not None:
            notify(p)
    if props:
        audit.record("proposals_sent", "matching_run", run.id, {"sent": len(props)}, actor=actor)
    return len(props)


def _notifier():
    """The hosts' email for a waiting proposal, if that feature is installed."""
    try:
        from ebo.services import hosts
    except ImportError:  # pragma: no cover - the hosts feature ships with the app
        return None
    return getattr(hosts, "notify_proposal_waiting", None)


def record_answer(proposal: Proposal, accept: bool, reason: str, actor) -> None:
    """Record a host's answer given to a coordinator (by phone, say): accept, or decline with a reason."""
    _require(proposal, ProposalState.SENT.value)
    if proposal.host is None:
        raise ReviewError(_l("Only proposals to hosts are answered."))
    from ebo.services import hosts

    try:
        hosts.answer_proposal(proposal.host, proposal, accept, reason)
    except hosts.HostError as e:
        raise ReviewError(str(e)) from None
    proposal.coordinator_note = "answer recorded by a coordinator"
    db.session.flush()
    audit.record("proposal_answer_recorded", "proposal", proposal.id, {"accepted": bool(accept)}, actor=actor)


# --- confirm ------------------------------------------------------------------------------------------------


def confirmable(proposal: Proposal) -> bool:
    """An accepted host proposal, or an approved unit proposal (units need no host's answer)."""
    if proposal.unit_id is not None:
        return proposal.state in (ProposalState.APPROVED.value, ProposalState.ACCEPTED.value)
    return proposal.state == ProposalState.ACCEPTED.value


def confirm(proposal_id: uuid.UUID, actor, start: dt.date | None = None) -> Placement:
    """Confirm a proposal into a placement in one transaction; on conflict roll back and raise ReviewError."""
    # Locks are taken in the same order in every transaction, so concurrent confirms never deadlock:
    # the family row (guarded update: still waiting or proposed), the proposal (guarded update from its
    # confirmable state), the beds (guarded update), the placement (partial unique index), and last
    # the family's other open proposals (withdrawn).
    from ebo.models import Family as F
    from ebo.models import Proposal as P

    try:
        prop = db.session.get(P, proposal_id)
        if prop is None:
            raise ReviewError(_l("The proposal does not exist."))
        family_id, host_id, unit_id = prop.family_id, prop.host_id, prop.unit_id
        if not confirmable(prop):
            raise ReviewError(_l("Only a proposal the host has accepted can be confirmed."))
        took = db.session.execute(
            sa.update(F)
            .where(F.id == family_id, F.status.in_((FamilyStatus.WAITING.value, FamilyStatus.PROPOSED.value)))
            .values(status=FamilyStatus.PLACED.value, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if took != 1:
            raise ReviewError(_l("The family already has a place (or is no longer waiting)."))
        states = (
            (ProposalState.APPROVED.value, ProposalState.ACCEPTED.value) if unit_id else (ProposalState.ACCEPTED.value,)
        )
        now = utcnow()
        done = db.session.execute(
            sa.update(P)
            .where(P.id == proposal_id, P.state.in_(states))
            .values(state=ProposalState.CONFIRMED.value, confirmed_at=now, decided_by=getattr(actor, "id", None))
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise ReviewError(_l("Only a proposal the host has accepted can be confirmed."))
        from ebo.models import FamilyMember

        persons = db.session.scalar(sa.select(sa.func.count()).where(FamilyMember.family_id == family_id)) or 1
        if host_id is not None:
            capacity.reserve_host(host_id, persons)
        else:
            capacity.reserve_unit(unit_id, persons)
        needed = db.session.scalar(sa.select(F.needed_from).where(F.id == family_id))
        placement = Placement(
            family_id=family_id,
            host_id=host_id,
            unit_id=unit_id,
            proposal_id=proposal_id,
            persons=persons,
            start_date=start or max(needed or _today(), _today()),
            confirmed_by=getattr(actor, "id", None),
        )
        db.session.add(placement)
        db.session.flush()
        db.session.execute(
            sa.update(P)
            .where(P.family_id == family_id, P.id != proposal_id, P.state.in_(OPEN))
            .values(state=ProposalState.WITHDRAWN.value)
            .execution_options(synchronize_session=False)
        )
        audit.record("placement_confirm", "placement", placement.id, {"proposal": str(proposal_id)}, actor=actor)
        _plan_follow_ups(placement)
        db.session.flush()
    except capacity.CapacityError:
        db.session.rollback()
        raise ReviewError(
            _l("Not confirmed: the host or unit no longer has room for this family. Nothing was changed.")
        ) from None
    except IntegrityError:
        db.session.rollback()
        raise ReviewError(
            _l("Not confirmed: the family already has an active placement. Nothing was changed.")
        ) from None
    except ReviewError:
        db.session.rollback()
        raise
    db.session.expire_all()
    return placement


def _today() -> dt.date:
    from ebo.services.runs import run_day

    return run_day()


def _plan_follow_ups(placement: Placement) -> None:
    """Plan the follow-up visits of a new placement, if the placements feature offers it."""
    try:
        from ebo.services import placements
    except ImportError:  # pragma: no cover
        return
    plan = getattr(placements, "plan_follow_ups", None)
    if plan is not None:
        plan(placement)
