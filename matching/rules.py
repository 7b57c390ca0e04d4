"""The hard rules and the cost of each placement, exactly as docs/matching-format.md states them.

One scalar function per rule, so that the validator, the greedy baseline, the tests and the web app
("which rule breaks if I move this family here?") all read the same definition. The solver may
vectorise these rules; the validator checks its output against the scalar versions here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from matching.geo import haversine_km
from matching.schema import Family, Host, Instance, School, Unit

# Distances are compared with this slack so that a NumPy and a scalar haversine of the same pair,
# which may differ in the last bits, agree on a family that sits exactly on the school limit.
KM_TOLERANCE = 1e-9

RULE_NAMES: tuple[str, ...] = (
    "capacity",
    "children",
    "step_free",
    "pets",
    "smoking",
    "availability",
    "school",
    "forbidden",
)
UNIT_RULE_NAMES: tuple[str, ...] = ("unit_beds", "unit_step_free")

RULE_TEXT: dict[str, str] = {
    "capacity": "the host has too few free beds, or already takes as many families as it may",
    "children": "the host does not accept children",
    "step_free": "the family needs a step-free home and the host's is not",
    "pets": "the family has a pet allergy and the host has pets",
    "smoking": "the family needs a non-smoking home and the host smokes",
    "availability": "the host is not available from the family's arrival for the minimum stay",
    "school": "a child would live farther from its school than the limit",
    "forbidden": "this pair was declined or vetoed before",
    "unit_beds": "the unit has too few free beds",
    "unit_step_free": "the family needs a step-free home and the unit is not",
}


# --------------------------------------------------------------------------- lookups


def schools_by_id(inst: Instance) -> dict[str, School]:
    """The instance's schools keyed by id."""
    return {s.id: s for s in inst.schools}


def forbidden_pairs(inst: Instance) -> frozenset[tuple[str, str]]:
    """The instance's forbidden pairs as a set of (family_id, host_id)."""
    return frozenset((x.family_id, x.host_id) for x in inst.forbidden)


# Host and unit cost functions take only (inst, place, family); rebuilding the school lookup on
# every call would make a city-scale validation quadratic, so the last instance's lookup is kept.
_cache: dict[str, tuple[Instance, object]] = {}


def _schools(inst: Instance) -> dict[str, School]:
    hit = _cache.get("schools")
    if hit is None or hit[0] is not inst:
        hit = (inst, schools_by_id(inst))
        _cache["schools"] = hit
    return hit[1]  # type: ignore[return-value]


def _forbidden(inst: Instance) -> frozenset[tuple[str, str]]:
    hit = _cache.get("forbidden")
    if hit is None or hit[0] is not inst:
        hit = (inst, forbidden_pairs(inst))
        _cache["forbidden"] = hit
    return hit[1]  # type: ignore[return-value]


def _size(x: Family | int) -> int:
    return x if isinstance(x, int) else x.size


# --------------------------------------------------------------------------- hard rules (hosts)


def capacity_ok(host: Host, families_at_host: Sequence[Family | int], max_families: int) -> bool:
    """Rule 1: all families at the host (sizes add up) fit its beds, and there are at most max_families."""
    return sum(_size(f) for f in families_at_host) <= host.beds and len(families_at_host) <= max_families


def children_ok(host: Host, family: Family) -> bool:
    """Rule 2: a family with any child needs a host that accepts children."""
    return host.accepts_children or not family.children


def step_free_ok(host: Host, family: Family) -> bool:
    """Rule 3a: a family that needs step-free access needs a step-free host."""
    return host.step_free or not family.needs_step_free


def pets_ok(host: Host, family: Family) -> bool:
    """Rule 3b: a family with a pet allergy cannot live with pets."""
    return not (family.pet_allergy and host.has_pets)


def smoking_ok(host: Host, family: Family) -> bool:
    """Rule 3c: a family that needs a non-smoking home cannot live with a smoker."""
    return not (family.needs_non_smoking and host.smoking)


def needs_ok(host: Host, family: Family) -> bool:
    """Rule 3: step-free, pets and smoking together."""
    return step_free_ok(host, family) and pets_ok(host, family) and smoking_ok(host, family)


def availability_ok(host: Host, family: Family, min_stay_days: int) -> bool:
    """Rule 4: available_from <= arrival, and available_until is None or >= arrival + min_stay_days."""
    if host.available_from is not None and host.available_from > family.arrival:
        return False
    return host.available_until is None or host.available_until >= family.arrival + dt.timedelta(days=min_stay_days)


def child_km(place: Host | Unit, family: Family, schools: Mapping[str, School]) -> tuple[float | None, ...]:
    """Each child's km from `place` to its school, in the family's child order (None: no school)."""
    out: list[float | None] = []
    for c in family.children:
        if c.school_id is None:
            out.append(None)
        else:
            s = schools[c.school_id]
            out.append(haversine_km(place.lat, place.lon, s.lat, s.lon))
    return tuple(out)


def school_ok(host: Host, family: Family, schools_by_id: Mapping[str, School], max_school_km: float) -> bool:
    """Rule 5: every child with a school lives within max_school_km of it."""
    return all(km is None or km <= max_school_km + KM_TOLERANCE for km in child_km(host, family, schools_by_id))


def not_forbidden(host: Host, family: Family, forbidden_pairs: Iterable[tuple[str, str]]) -> bool:
    """Rule 6: the pair (family, host) is not forbidden."""
    return (family.id, host.id) not in forbidden_pairs


def host_pair_ok(inst: Instance, host: Host, family: Family) -> bool:
    """Rules 2–6 together: the pair is allowed, leaving capacity aside."""
    return not violated_pair_rules(inst, host, family)


def violated_pair_rules(inst: Instance, host: Host, family: Family) -> list[str]:
    """Names of rules 2–6 broken by the pair (capacity left aside)."""
    p = inst.params
    checks = (
        ("children", children_ok(host, family)),
        ("step_free", step_free_ok(host, family)),
        ("pets", pets_ok(host, family)),
        ("smoking", smoking_ok(host, family)),
        ("availability", availability_ok(host, family, p.min_stay_days)),
        ("school", school_ok(host, family, _schools(inst), p.max_school_km)),
        ("forbidden", not_forbidden(host, family, _forbidden(inst))),
    )
    return [name for name, ok in checks if not ok]


def _with(family: Family, others: Iterable[Family]) -> list[Family]:
    # Callers may pass the group with or without the family itself; count it exactly once.
    return [f for f in others if f.id != family.id] + [family]


def violated_rules(inst: Instance, host: Host, family: Family, families_at_host: Iterable[Family] = ()) -> list[str]:
    """Names (from RULE_NAMES) of the hard rules broken by placing `family` with `host`.

    `families_at_host` are the families already with the host, with or without `family` itself.
    """
    group = _with(family, families_at_host)
    out = [] if capacity_ok(host, group, inst.max_families(host)) else ["capacity"]
    return out + violated_pair_rules(inst, host, family)


# --------------------------------------------------------------------------- units


def unit_beds_ok(unit: Unit, family: Family, families_in_unit: Iterable[Family]) -> bool:
    """The unit's beds hold `family` together with the families in it (with or without `family`)."""
    return sum(f.size for f in _with(family, families_in_unit)) <= unit.beds


def unit_step_free_ok(unit: Unit, family: Family) -> bool:
    """A family that needs step-free access needs a step-free unit."""
    return unit.step_free or not family.needs_step_free


def unit_ok(unit: Unit, family: Family, families_in_unit: Iterable[Family] = ()) -> bool:
    """A family may go to the unit: beds allow (with or without `family` listed) and step-free if needed."""
    return unit_beds_ok(unit, family, families_in_unit) and unit_step_free_ok(unit, family)


def violated_unit_rules(unit: Unit, family: Family, families_in_unit: Iterable[Family] = ()) -> list[str]:
    """Names (from UNIT_RULE_NAMES) of the unit rules broken by placing `family` in `unit`."""
    out = [] if unit_beds_ok(unit, family, families_in_unit) else ["unit_beds"]
    return out + ([] if unit_step_free_ok(unit, family) else ["unit_step_free"])


# --------------------------------------------------------------------------- costs


def shares_language(host: Host, family: Family) -> bool:
    """True when the host and the family have at least one language in common."""
    return not set(host.languages).isdisjoint(family.languages)


def school_km_total(place: Host | Unit, family: Family, schools: Mapping[str, School]) -> float:
    """Sum over the family's children with a school of the km from `place` to it."""
    return sum(km for km in child_km(place, family, schools) if km is not None)


def host_cost(inst: Instance, host: Host, family: Family) -> float:
    """Cost of `family` with `host`: school_km × total school km + no_common_language if none shared."""
    w = inst.params.weights
    cost = w.school_km * school_km_total(host, family, _schools(inst))
    return cost if shares_language(host, family) else cost + w.no_common_language


def unit_cost(inst: Instance, unit: Unit, family: Family) -> float:
    """Cost of `family` in `unit`: unit_per_person × size + school_km × total school km."""
    w = inst.params.weights
    return w.unit_per_person * family.size + w.school_km * school_km_total(unit, family, _schools(inst))


def unplaced_cost(inst: Instance, family: Family) -> float:
    """Cost of leaving `family` unplaced: unplaced_per_person × size."""
    return inst.params.weights.unplaced_per_person * family.size
