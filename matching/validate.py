"""An independent check of a solution against its instance: every hard rule, and the objective recomputed.

It uses only the scalar rules in `matching.rules`, never solver code, so that a solver bug cannot
hide behind the same bug in its checker. It runs after every solve and in the tests.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from matching import rules
from matching.schema import STATUSES, Family, Instance, Placement, Solution

OBJ_REL_TOL = 1e-6
GAP_TOL = 1e-6
# solution_to_dict rounds child_km to 3 decimals.
CHILD_KM_TOL = 1e-3 + 1e-9


def objective(inst: Instance, placements: Iterable[Placement]) -> float:
    """The objective of docs/matching-format.md for these placements; families in no placement count as unplaced."""
    hosts = {h.id: h for h in inst.hosts}
    units = {u.id: u for u in inst.units}
    fams = {f.id: f for f in inst.families}
    placed: set[str] = set()
    total = 0.0
    for p in placements:
        f = fams.get(p.family_id)
        if f is None:
            continue
        if p.host_id is not None and p.host_id in hosts:
            total += rules.host_cost(inst, hosts[p.host_id], f)
        elif p.unit_id is not None and p.unit_id in units:
            total += rules.unit_cost(inst, units[p.unit_id], f)
        else:
            continue
        placed.add(f.id)
    return total + sum(rules.unplaced_cost(inst, f) for f in inst.families if f.id not in placed)


def expected_gap(objective_value: float, bound: float) -> float:
    """The file format's gap, (objective − bound) / objective, taken as 0 when the objective is 0."""
    return (objective_value - bound) / objective_value if objective_value > 0 else 0.0


def validate(inst: Instance, sol: Solution) -> list[str]:
    """Every problem found in `sol` for `inst`, in words; an empty list means the solution is valid."""
    problems: list[str] = []
    hosts = {h.id: h for h in inst.hosts}
    units = {u.id: u for u in inst.units}
    fams = {f.id: f for f in inst.families}
    fixed = {x.family_id: x for x in inst.fixed}
    schools = rules.schools_by_id(inst)

    # Every family exactly once, across placements and unplaced.
    seen = Counter([p.family_id for p in sol.placements] + [u.family_id for u in sol.unplaced])
    for fid, n in sorted(seen.items()):
        if fid not in fams:
            problems.append(f"family {fid}: unknown family id")
        elif n > 1:
            problems.append(f"family {fid}: appears {n} times (placements and unplaced together)")
    for f in inst.families:
        if f.id not in seen:
            problems.append(f"family {f.id}: missing (neither placed nor unplaced)")

    at_host: dict[str, list[tuple[Family, bool]]] = defaultdict(list)
    in_unit: dict[str, list[tuple[Family, bool]]] = defaultdict(list)
    for p in sol.placements:
        f = fams.get(p.family_id)
        if f is None:
            continue
        if (p.host_id is None) == (p.unit_id is None):
            problems.append(f"family {f.id}: placement needs exactly one of host_id and unit_id")
            continue
        # Only the agreed placement itself is exempt; a fixed family moved elsewhere must obey the rules.
        fx = fixed.get(f.id)
        is_fixed = fx is not None and (fx.host_id, fx.unit_id) == (p.host_id, p.unit_id)
        if p.host_id is not None:
            h = hosts.get(p.host_id)
            if h is None:
                problems.append(f"family {f.id}: unknown host {p.host_id}")
                continue
            at_host[h.id].append((f, is_fixed))
            if not is_fixed:
                for name in rules.violated_pair_rules(inst, h, f):
                    problems.append(f"family {f.id} with host {h.id}: breaks rule '{name}' ({rules.RULE_TEXT[name]})")
            place = h
        else:
            u = units.get(p.unit_id)  # type: ignore[arg-type]
            if u is None:
                problems.append(f"family {f.id}: unknown unit {p.unit_id}")
                continue
            in_unit[u.id].append((f, is_fixed))
            if not is_fixed and not rules.unit_step_free_ok(u, f):
                problems.append(
                    f"family {f.id} in unit {u.id}: breaks rule 'unit_step_free' ({rules.RULE_TEXT['unit_step_free']})"
                )
            place = u
        if p.child_km is not None:
            want = rules.child_km(place, f, schools)
            if len(p.child_km) != len(want) or any(
                (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) > CHILD_KM_TOL)
                for a, b in zip(p.child_km, want, strict=False)
            ):
                problems.append(
                    f"family {f.id}: child_km {list(p.child_km)} differs from the distances "
                    f"{[None if x is None else round(x, 3) for x in want]}"
                )

    by_family: dict[str, list[Placement]] = defaultdict(list)
    for p in sol.placements:
        by_family[p.family_id].append(p)
    for fid, x in fixed.items():
        got = by_family.get(fid, [])
        where = f"host {x.host_id}" if x.host_id is not None else f"unit {x.unit_id}"
        if len(got) != 1 or got[0].host_id != x.host_id or got[0].unit_id != x.unit_id:
            now = ", ".join(f"host {p.host_id}" if p.host_id else f"unit {p.unit_id}" for p in got) or "unplaced"
            problems.append(f"family {fid}: fixed to {where} but the solution has {now}")

    # Capacity counts fixed families too, but only a non-fixed family can be blamed for an overflow:
    # fixed placements are kept whatever the rules say.
    for hid, group in sorted(at_host.items()):
        h = hosts[hid]
        fam_list = [f for f, _ in group]
        if any(not fx for _, fx in group) and not rules.capacity_ok(h, fam_list, inst.max_families(h)):
            problems.append(
                f"host {hid}: double-booked, {len(fam_list)} families "
                f"({', '.join(f.id for f in fam_list)}) with {sum(f.size for f in fam_list)} persons "
                f"for {h.beds} beds and at most {inst.max_families(h)} families"
            )
    for uid, group in sorted(in_unit.items()):
        u = units[uid]
        persons = sum(f.size for f, _ in group)
        if any(not fx for _, fx in group) and persons > u.beds:
            problems.append(f"unit {uid}: {persons} persons for {u.beds} beds")

    problems += _check_numbers(inst, sol)
    return problems


def _check_numbers(inst: Instance, sol: Solution) -> list[str]:
    out = []
    if sol.status not in STATUSES:
        out.append(f"status {sol.status!r} is not one of {', '.join(STATUSES)}")
    if sol.status == "INFEASIBLE":
        out.append("status INFEASIBLE, but leaving every family unplaced is always feasible")
    obj = objective(inst, sol.placements)
    scale = max(1.0, abs(obj))
    if abs(sol.objective - obj) > OBJ_REL_TOL * scale:
        out.append(f"objective {sol.objective:.6f} differs from the recomputed {obj:.6f}")
    if sol.bound > sol.objective + OBJ_REL_TOL * max(1.0, abs(sol.objective)):
        out.append(f"bound {sol.bound:.6f} exceeds the objective {sol.objective:.6f}")
    if sol.bound > obj + OBJ_REL_TOL * scale:
        out.append(f"bound {sol.bound:.6f} exceeds the recomputed objective {obj:.6f}")
    if not (0.0 <= sol.gap):
        out.append(f"gap {sol.gap} is negative")
    want_gap = expected_gap(sol.objective, sol.bound)
    if abs(sol.gap - want_gap) > GAP_TOL:
        out.append(f"gap {sol.gap:.9f} is not (objective − bound) / objective = {want_gap:.9f}")
    if sol.status == "OPTIMAL" and abs(sol.objective - sol.bound) > OBJ_REL_TOL * max(1.0, abs(sol.objective)):
        out.append(f"status OPTIMAL but bound {sol.bound:.6f} is below the objective {sol.objective:.6f}")
    if sol.wall_s < 0:
        out.append(f"wall_s {sol.wall_s} is negative")
    return out


@dataclass(frozen=True, slots=True)
class Stats:
    """Plain figures about a solution, for the bench table and reports."""

    families_with_hosts: int
    persons_with_hosts: int
    families_in_units: int
    persons_in_units: int
    families_unplaced: int
    persons_unplaced: int
    schooled_children: int
    children_within_limit: int
    school_km_total: float
    no_common_language: int


def stats(inst: Instance, sol: Solution) -> Stats:
    """Persons with hosts / in units / unplaced, children within the school limit, total school km."""
    hosts = {h.id: h for h in inst.hosts}
    units = {u.id: u for u in inst.units}
    fams = {f.id: f for f in inst.families}
    schools = rules.schools_by_id(inst)
    fh = ph = fu = pu = within = nolang = 0
    km_total = 0.0
    placed: set[str] = set()
    for p in sol.placements:
        f = fams.get(p.family_id)
        place = hosts.get(p.host_id) if p.host_id is not None else units.get(p.unit_id)  # type: ignore[arg-type]
        if f is None or place is None or f.id in placed:
            continue
        placed.add(f.id)
        if p.host_id is not None:
            fh, ph = fh + 1, ph + f.size
            nolang += not rules.shares_language(place, f)  # type: ignore[arg-type]
        else:
            fu, pu = fu + 1, pu + f.size
        for km in rules.child_km(place, f, schools):
            if km is not None:
                km_total += km
                within += km <= inst.params.max_school_km + rules.KM_TOLERANCE
    unplaced = [f for f in inst.families if f.id not in placed]
    schooled = sum(1 for f in inst.families for c in f.children if c.school_id is not None)
    return Stats(fh, ph, fu, pu, len(unplaced), sum(f.size for f in unplaced), schooled, within, km_total, nolang)
