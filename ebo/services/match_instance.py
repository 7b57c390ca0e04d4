"""Build an `ebo-match/1` instance from the database: who takes part in a matching run.

Takes part: approved, active hosts reconfirmed within the reconfirmation period (with coordinates);
waiting families; active municipal units; confirmed placements and proposals still awaiting an answer
kept fixed (they hold their beds); declined or vetoed pairs forbidden. Ids in the instance are the
records' UUIDs as text, so a solution maps straight back to rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import sqlalchemy as sa

from ebo.extensions import db
from ebo.models import (
    Family,
    FamilyMember,
    FamilyStatus,
    ForbiddenPair,
    HostHousehold,
    HousingUnit,
    MemberKind,
    Placement,
    Proposal,
    School,
)
from ebo.models.matching import HOLDING_STATES
from ebo.services.account_links import verified_hosts_clause
from matching import schema as ms


class MemberLike(Protocol):
    """What the mapper reads of a family member: a row or a FamilyMember."""

    kind: str
    school_id: uuid.UUID | None


@dataclass
class Preview:
    """Counts shown before a run starts (no personal values)."""

    hosts: int = 0
    host_beds: int = 0
    families: int = 0
    persons: int = 0
    children_with_school: int = 0
    units: int = 0
    unit_beds: int = 0
    fixed: int = 0
    forbidden: int = 0
    warnings: list[str] = field(default_factory=list)


# --- the one mapper from database rows to matching records ------------------------------------------


def host_record(host: HostHousehold, beds: int | None = None, max_families: int | None = None) -> ms.Host:
    """A host household as the matcher sees it; `beds` and `max_families` default to the host's own."""
    return ms.Host(id=str(host.id), lat=host.lat, lon=host.lon, beds=host.beds if beds is None else beds,
                   max_families=host.max_families if max_families is None else max_families,
                   accepts_children=host.accepts_children, step_free=host.step_free, has_pets=host.has_pets,
                   smoking=host.smoking, languages=tuple(host.languages or ()), available_from=host.available_from,
                   available_until=host.available_until)


def unit_record(unit: HousingUnit) -> ms.Unit:
    """A municipal housing unit as the matcher sees it (no coordinates: 0, 0)."""
    return ms.Unit(id=str(unit.id), lat=unit.lat or 0.0, lon=unit.lon or 0.0, beds=unit.beds,
                   step_free=unit.step_free)


def school_record(school: School) -> ms.School:
    """A school (with coordinates) as the matcher sees it."""
    return ms.School(id=str(school.id), lat=school.lat, lon=school.lon)


def family_record(family: Family, members: Iterable[MemberLike], arrival: dt.date,
                  located_schools: Container[uuid.UUID] | None = None) -> ms.Family:
    """A family as the matcher sees it; a child's school counts only if in `located_schools` (all if None)."""
    members = list(members)
    kids = tuple(
        ms.Child(school_id=str(m.school_id)
                 if m.school_id is not None and (located_schools is None or m.school_id in located_schools)
                 else None)
        for m in members if m.kind == MemberKind.CHILD
    )
    return ms.Family(id=str(family.id), size=max(len(members), len(kids), 1), arrival=arrival, children=kids,
                     needs_step_free=family.needs_step_free, pet_allergy=family.pet_allergy,
                     needs_non_smoking=family.needs_non_smoking, languages=tuple(family.languages or ()))


def build_instance(today: dt.date, *, max_school_km: float, families_per_host: int = 1,
                   min_stay_days: int = 90, reconfirm_months: int = 12,
                   weights: ms.Weights | None = None) -> tuple[ms.Instance, Preview]:
    """The instance for a run on `today`, and the preview counts."""
    preview = Preview()
    taking_part = db.session.scalars(
        sa.select(HostHousehold).where(HostHousehold.matching_clause(today, reconfirm_months),
                                       HostHousehold.lat.is_not(None), HostHousehold.lon.is_not(None))
        .where(verified_hosts_clause())  # only confirmed email addresses take part (docs/security-accounts.md)
    ).all()
    hosts_by_id = {h.id: h for h in taking_part}

    # Fixed: active placements and proposals awaiting an answer or confirmation.
    fixed_pairs: list[tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]] = []
    for fam_id, host_id, unit_id in db.session.execute(
            sa.select(Placement.family_id, Placement.host_id, Placement.unit_id).where(Placement.end_date.is_(None))):
        fixed_pairs.append((fam_id, host_id, unit_id))
    placed = {f for f, _, _ in fixed_pairs}
    for fam_id, host_id, unit_id in db.session.execute(
            sa.select(Proposal.family_id, Proposal.host_id, Proposal.unit_id)
            .where(Proposal.state.in_(HOLDING_STATES)).order_by(Proposal.created_at)):
        if fam_id not in placed:
            fixed_pairs.append((fam_id, host_id, unit_id))
            placed.add(fam_id)

    units = db.session.scalars(sa.select(HousingUnit).where(
        HousingUnit.active.is_(True), HousingUnit.lat.is_not(None), HousingUnit.lon.is_not(None))).all()
    unit_ids = {u.id for u in units}

    # Hosts that hold a fixed family but no longer take part keep exactly the room those families use.
    extra_host_ids = {h for _, h, _ in fixed_pairs if h is not None and h not in hosts_by_id}
    extra_hosts = {h.id: h for h in db.session.scalars(
        sa.select(HostHousehold).where(HostHousehold.id.in_(extra_host_ids),
                                       HostHousehold.lat.is_not(None), HostHousehold.lon.is_not(None)))}
    fixed_pairs = [(f, h, u) for f, h, u in fixed_pairs
                   if (h is not None and (h in hosts_by_id or h in extra_hosts)) or (u is not None and u in unit_ids)]
    fixed_family_ids = {f for f, _, _ in fixed_pairs}

    waiting_ids = set(db.session.scalars(sa.select(Family.id).where(Family.status == FamilyStatus.WAITING)))
    family_ids = (waiting_ids - placed) | fixed_family_ids
    families = db.session.scalars(sa.select(Family).where(Family.id.in_(family_ids))
                                  .order_by(Family.needed_from, Family.id)).all() if family_ids else []
    members: dict[uuid.UUID, list] = defaultdict(list)
    if family_ids:
        for m in db.session.execute(
                sa.select(FamilyMember.family_id, FamilyMember.kind, FamilyMember.school_id)
                .where(FamilyMember.family_id.in_(family_ids)).order_by(FamilyMember.position)):
            members[m.family_id].append(m)

    school_rows = db.session.execute(sa.select(School.id, School.lat, School.lon)).all()
    located = {s.id: s for s in school_rows if s.lat is not None and s.lon is not None}
    used_schools: set[uuid.UUID] = set()
    unlocated = 0

    fam_records = []
    for f in families:
        for m in members[f.id]:
            if m.kind == MemberKind.CHILD and m.school_id is not None:
                if m.school_id in located:
                    used_schools.add(m.school_id)
                else:
                    unlocated += 1
        arrival = max(f.needed_from, today) if f.id not in fixed_family_ids else f.needed_from
        fam_records.append(family_record(f, members[f.id], arrival, located))
    size_of = {fr.id: fr.size for fr in fam_records}
    if unlocated:
        preview.warnings.append(f"{unlocated} children attend a school without coordinates; "
                                "their school distance is not considered")

    # The run's families-per-host is a cap on what each host said it can take.
    host_records = [host_record(h, max_families=min(h.max_families, families_per_host)) for h in taking_part]
    extra_load: dict[uuid.UUID, list[int]] = defaultdict(list)
    for f, h, _ in fixed_pairs:
        if h in extra_hosts:
            extra_load[h].append(size_of[str(f)])
    host_records += [host_record(extra_hosts[h], sum(sizes), len(sizes)) for h, sizes in extra_load.items()]
    included_hosts = {hr.id for hr in host_records}

    unit_records = [unit_record(u) for u in units]
    fixed = [ms.Fixed(family_id=str(f), host_id=str(h) if h else None, unit_id=None if h else str(u))
             for f, h, u in fixed_pairs]
    fam_id_set = {fr.id for fr in fam_records}
    forbidden = [ms.Forbidden(family_id=str(fp.family_id), host_id=str(fp.host_id))
                 for fp in db.session.execute(sa.select(ForbiddenPair.family_id, ForbiddenPair.host_id))
                 if str(fp.family_id) in fam_id_set and str(fp.host_id) in included_hosts]

    schools = [school_record(located[sid]) for sid in sorted(used_schools)]
    params = ms.Params(max_school_km=max_school_km, min_stay_days=min_stay_days,
                       families_per_host=families_per_host, weights=weights or ms.Weights())
    inst = ms.Instance(date=today, params=params, schools=tuple(schools), hosts=tuple(host_records),
                       units=tuple(unit_records), families=tuple(fam_records), fixed=tuple(fixed),
                       forbidden=tuple(forbidden))

    free_families = [fr for fr in fam_records if fr.id not in {x.family_id for x in fixed}]
    preview.hosts = len(taking_part)
    preview.host_beds = sum(h.beds - h.beds_used for h in taking_part)
    preview.families = len(free_families)
    preview.persons = sum(fr.size for fr in free_families)
    preview.children_with_school = sum(1 for fr in free_families for c in fr.children if c.school_id)
    preview.units = len(units)
    preview.unit_beds = sum(max(u.beds - u.beds_used, 0) for u in units)
    preview.fixed = len(fixed)
    preview.forbidden = len(forbidden)
    return inst, preview


def preview_counts(today: dt.date, reconfirm_months: int = 12) -> Preview:
    """The preview counts of `build_instance` (who would take part), counted in SQL without building the
    instance: a handful of aggregate queries whatever the number of families and hosts."""
    M, H, U = FamilyMember, HostHousehold, HousingUnit
    pv = Preview()
    taking = sa.and_(H.matching_clause(today, reconfirm_months), H.lat.is_not(None), H.lon.is_not(None))
    pv.hosts, beds = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(H.beds - H.beds_used), 0)).where(taking)).one()
    pv.host_beds = int(beds or 0)
    unit_ok = sa.and_(U.active.is_(True), U.lat.is_not(None), U.lon.is_not(None))
    pv.units, ubeds = db.session.execute(sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((U.beds > U.beds_used, U.beds - U.beds_used), else_=0)), 0),
    ).where(unit_ok)).one()
    pv.unit_beds = int(ubeds or 0)

    # Fixed: active placements, and proposals holding beds of families without one, whose host has
    # coordinates or whose unit takes part.
    located_host = sa.select(H.id).where(H.lat.is_not(None), H.lon.is_not(None))
    usable_unit = sa.select(U.id).where(unit_ok)

    def passing(model):
        return sa.or_(model.host_id.in_(located_host), model.unit_id.in_(usable_unit))

    fixed_placements = sa.select(Placement.family_id, Placement.host_id).where(
        Placement.end_date.is_(None), passing(Placement))
    fixed_proposals = sa.select(Proposal.family_id, Proposal.host_id).where(
        Proposal.state.in_(HOLDING_STATES), passing(Proposal),
        ~sa.exists().where(Placement.family_id == Proposal.family_id, Placement.end_date.is_(None)))
    n_placements = db.session.scalar(sa.select(sa.func.count()).select_from(fixed_placements.subquery()))
    n_proposals = db.session.scalar(sa.select(sa.func.count(sa.distinct(sa.literal_column("family_id"))))
                                    .select_from(fixed_proposals.subquery()))
    pv.fixed = int(n_placements or 0) + int(n_proposals or 0)
    fixed_pairs = sa.union_all(fixed_placements, fixed_proposals).subquery()

    # Free families: waiting, with no active placement and no proposal holding beds (anti-joins).
    free_clause = sa.and_(
        Family.status == FamilyStatus.WAITING,
        ~sa.exists().where(Placement.family_id == Family.id, Placement.end_date.is_(None)),
        ~sa.exists().where(Proposal.family_id == Family.id, Proposal.state.in_(HOLDING_STATES)))
    free = sa.select(Family.id.label("family_id")).where(free_clause)
    sizes = (sa.select(Family.id, sa.func.count(M.id).label("n"))
             .select_from(Family).outerjoin(M, M.family_id == Family.id)
             .where(free_clause).group_by(Family.id).subquery())
    pv.families, persons = db.session.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((sizes.c.n > 0, sizes.c.n), else_=1)), 0),
    ).select_from(sizes)).one()
    pv.persons = int(persons or 0)
    in_run = sa.union(free, sa.select(fixed_pairs.c.family_id)).subquery()  # union: each family once
    free_sq = free.subquery()
    located = sa.select(School.id).where(School.lat.is_not(None), School.lon.is_not(None))
    with_school, unlocated = db.session.execute(sa.select(
        sa.func.count(sa.case((sa.and_(free_sq.c.family_id.is_not(None), M.school_id.in_(located)), 1))),
        sa.func.count(sa.case((M.school_id.not_in(located), 1))),
    ).select_from(M).join(in_run, in_run.c.family_id == M.family_id)
        .outerjoin(free_sq, free_sq.c.family_id == M.family_id)
        .where(M.kind == MemberKind.CHILD, M.school_id.is_not(None))).one()
    pv.children_with_school = int(with_school or 0)
    if unlocated:
        pv.warnings.append(f"{unlocated} children attend a school without coordinates; "
                           "their school distance is not considered")
    # Forbidden pairs (few): each checked with EXISTS against the families and hosts of the run.
    F = ForbiddenPair
    family_in = sa.or_(
        sa.exists().where(Family.id == F.family_id, free_clause),
        sa.exists().select_from(fixed_pairs).where(fixed_pairs.c.family_id == F.family_id))
    host_in = sa.or_(
        sa.exists().where(H.id == F.host_id, taking),
        sa.exists().select_from(fixed_pairs).where(fixed_pairs.c.host_id == F.host_id))
    pv.forbidden = int(db.session.scalar(sa.select(sa.func.count()).select_from(F).where(family_in, host_in)) or 0)
    return pv
