"""The greedy baseline: what a coordinator with a spreadsheet does, and the number to beat.

Each family, in arrival order (ties by id), goes to its cheapest free host that meets every hard
rule, else to the cheapest unit with room, else stays unplaced. Ties between equally cheap hosts go
to the one with the fewest spare beds, so that big homes are not used up by single adults.
Host rules are evaluated as NumPy masks over host arrays, and the school rule through a KD-tree
ball around each school, so that a city-scale instance takes seconds, not hours.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.spatial import cKDTree

from matching import rules
from matching.geo import haversine_km_np, km_to_chord, to_unit_xyz
from matching.schema import Family, Instance, Placement, Solution, Unplaced

_NEVER = np.iinfo(np.int64).max
_ALWAYS = np.iinfo(np.int64).min


class HostArrays:
    """The instance's hosts as NumPy arrays, with the school rule cached per school."""

    def __init__(self, inst: Instance):
        """Build the arrays for `inst`."""
        hs = inst.hosts
        self.inst = inst
        self.n = len(hs)
        self.lat = np.array([h.lat for h in hs], dtype=float)
        self.lon = np.array([h.lon for h in hs], dtype=float)
        self.beds = np.array([h.beds for h in hs], dtype=np.int64)
        self.max_families = np.array([inst.max_families(h) for h in hs], dtype=np.int64)
        self.accepts_children = np.array([h.accepts_children for h in hs], dtype=bool)
        self.step_free = np.array([h.step_free for h in hs], dtype=bool)
        self.has_pets = np.array([h.has_pets for h in hs], dtype=bool)
        self.smoking = np.array([h.smoking for h in hs], dtype=bool)
        self.from_ord = np.array(
            [h.available_from.toordinal() if h.available_from else _ALWAYS for h in hs], dtype=np.int64
        )
        self.until_ord = np.array(
            [h.available_until.toordinal() if h.available_until else _NEVER for h in hs], dtype=np.int64
        )
        self.index = {h.id: i for i, h in enumerate(hs)}
        langs = sorted({x for h in hs for x in h.languages})
        self.lang = {x: np.zeros(self.n, dtype=bool) for x in langs}
        for i, h in enumerate(hs):
            for x in h.languages:
                self.lang[x][i] = True
        self.forbidden: dict[str, list[int]] = {}
        for x in inst.forbidden:
            self.forbidden.setdefault(x.family_id, []).append(self.index[x.host_id])
        self.schools = rules.schools_by_id(inst)
        self._tree: cKDTree | None = None
        self._ball: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def school_ball(self, school_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted indices of the hosts within the school limit of `school_id`, and their km."""
        hit = self._ball.get(school_id)
        if hit is None:
            if self._tree is None:
                self._tree = cKDTree(to_unit_xyz(self.lat, self.lon))
            s = self.schools[school_id]
            max_km = self.inst.params.max_school_km
            # The chord radius is widened a little; the exact haversine below decides.
            idx = np.array(
                sorted(
                    self._tree.query_ball_point(to_unit_xyz(s.lat, s.lon), km_to_chord(max_km) * (1 + 1e-6) + 1e-12)
                ),
                dtype=np.int64,
            )
            km = haversine_km_np(s.lat, s.lon, self.lat[idx], self.lon[idx]) if len(idx) else np.zeros(0)
            keep = km <= max_km + rules.KM_TOLERANCE
            hit = (idx[keep], km[keep])
            self._ball[school_id] = hit
        return hit

    def candidates(self, fam: Family, free_beds: np.ndarray, free_slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the hosts that may take `fam` now, and the family's total school km at each."""
        schooled = [c.school_id for c in fam.children if c.school_id is not None]
        if schooled:
            idx, km = self.school_ball(schooled[0])
            for sid in schooled[1:]:
                sidx, skm = self.school_ball(sid)
                idx, a, b = np.intersect1d(idx, sidx, assume_unique=True, return_indices=True)
                km = km[a] + skm[b]
            sel: np.ndarray | slice = idx
        else:
            # A slice gives views: fancy-indexing every host array would dominate the city-scale run.
            sel = slice(None)
        p = self.inst.params
        arrival = fam.arrival.toordinal()
        m = (free_beds[sel] >= fam.size) & (free_slots[sel] >= 1)
        m &= self.from_ord[sel] <= arrival
        m &= self.until_ord[sel] >= arrival + p.min_stay_days
        if fam.children:
            m &= self.accepts_children[sel]
        if fam.needs_step_free:
            m &= self.step_free[sel]
        if fam.pet_allergy:
            m &= ~self.has_pets[sel]
        if fam.needs_non_smoking:
            m &= ~self.smoking[sel]
        if not schooled:
            idx = np.flatnonzero(m)
            km = np.zeros(len(idx))
            m = np.ones(len(idx), dtype=bool)
        if fam.id in self.forbidden:
            m &= ~np.isin(idx, self.forbidden[fam.id])
        return idx[m], km[m]

    def shares_language(self, fam: Family, idx: np.ndarray) -> np.ndarray:
        """Whether each host in `idx` shares a language with `fam`."""
        out = np.zeros(len(idx), dtype=bool)
        for x in fam.languages:
            if x in self.lang:
                out |= self.lang[x][idx]
        return out


def greedy(inst: Instance) -> Solution:
    """Place each family in arrival order with its cheapest free feasible host, else a unit, else nowhere."""
    t0 = time.perf_counter()
    arr = HostArrays(inst)
    w = inst.params.weights
    hosts, units = inst.hosts, inst.units
    unit_index = {u.id: i for i, u in enumerate(units)}
    free_beds = arr.beds.copy()
    free_slots = arr.max_families.copy()
    unit_free = np.array([u.beds for u in units], dtype=np.int64)
    where: dict[str, tuple[str, int]] = {}

    # Fixed placements are kept as given and use up capacity before anyone else is placed.
    fams = {f.id: f for f in inst.families}
    for x in inst.fixed:
        f = fams[x.family_id]
        if x.host_id is not None:
            i = arr.index[x.host_id]
            free_beds[i] -= f.size
            free_slots[i] -= 1
            where[f.id] = ("host", i)
        else:
            j = unit_index[x.unit_id]  # type: ignore[index]
            unit_free[j] -= f.size
            where[f.id] = ("unit", j)

    reasons: dict[str, tuple[str, ...]] = {}
    for f in sorted(inst.families, key=lambda f: (f.arrival, f.id)):
        if f.id in where:
            continue
        idx, km = arr.candidates(f, free_beds, free_slots)
        if len(idx):
            cost = w.school_km * km + np.where(arr.shares_language(f, idx), 0.0, w.no_common_language)
            # Cheapest first, then fewest spare beds, then host order (idx is ascending).
            top = idx[cost == cost.min()]
            best = top[np.argmin(free_beds[top])]
            free_beds[best] -= f.size
            free_slots[best] -= 1
            where[f.id] = ("host", int(best))
            continue
        best_u, best_c = -1, float("inf")
        for j, u in enumerate(units):
            if unit_free[j] >= f.size and rules.unit_step_free_ok(u, f):
                c = rules.unit_cost(inst, u, f)
                if c < best_c:
                    best_u, best_c = j, c
        if best_u >= 0:
            unit_free[best_u] -= f.size
            where[f.id] = ("unit", best_u)
        else:
            reasons[f.id] = _reasons(inst, arr, f, units, unit_free)

    placements, unplaced, obj = [], [], 0.0
    for f in inst.families:
        if f.id not in where:
            unplaced.append(Unplaced(family_id=f.id, reasons=reasons.get(f.id, ())))
            obj += rules.unplaced_cost(inst, f)
            continue
        kind, i = where[f.id]
        place = hosts[i] if kind == "host" else units[i]
        km = rules.child_km(place, f, arr.schools)
        if kind == "host":
            obj += rules.host_cost(inst, hosts[i], f)
            placements.append(Placement(family_id=f.id, host_id=hosts[i].id, child_km=km))
        else:
            obj += rules.unit_cost(inst, units[i], f)
            placements.append(Placement(family_id=f.id, unit_id=units[i].id, child_km=km))
    # Costs are never negative, so 0 is a valid (if weak) bound: greedy proves nothing more.
    return Solution(
        status="FEASIBLE",
        objective=obj,
        bound=0.0,
        gap=1.0 if obj > 0 else 0.0,
        wall_s=time.perf_counter() - t0,
        placements=tuple(placements),
        unplaced=tuple(unplaced),
    )


def _reasons(inst: Instance, arr: HostArrays, f: Family, units, unit_free: np.ndarray) -> tuple[str, ...]:
    persons = f"{f.size} person" + ("s" if f.size != 1 else "")
    could, _ = arr.candidates(f, arr.beds, arr.max_families)
    if len(could):
        host = (
            f"the {len(could)} host{'s' if len(could) != 1 else ''} that meet every rule for this family "
            f"({persons}) were already taken by families who arrived earlier"
        )
    elif not (arr.beds >= f.size).any():
        host = f"no host has {f.size} beds"
    else:
        host = f"no host meets every rule for this family ({persons})"
    if not units:
        unit = "there are no municipal units"
    elif f.needs_step_free and not any(u.step_free for u in units):
        unit = "no municipal unit is step-free"
    else:
        unit = f"no suitable municipal unit had {f.size} free bed{'s' if f.size != 1 else ''} left"
    return host, unit
