"""Plain-word reasons why a family got no place: the hard rules walked in order, counting the hosts left."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from matching.geo import haversine_km_np
from matching.schema import Family, Instance, Solution

KM_TOLERANCE = 1e-9
_cache: dict[str, tuple[Instance, Any]] = {}


class _Hosts:
    """The hosts as arrays, built once per instance."""

    def __init__(self, inst: Instance):
        hs = inst.hosts
        self.ids = [h.id for h in hs]
        self.beds = np.array([h.beds for h in hs], dtype=np.int64)
        self.slots = np.array([inst.max_families(h) for h in hs], dtype=np.int64)
        self.acc = np.array([h.accepts_children for h in hs], dtype=bool)
        self.sf = np.array([h.step_free for h in hs], dtype=bool)
        self.pets = np.array([h.has_pets for h in hs], dtype=bool)
        self.smoke = np.array([h.smoking for h in hs], dtype=bool)
        self.lat = np.array([h.lat for h in hs], dtype=float)
        self.lon = np.array([h.lon for h in hs], dtype=float)
        self.af = np.array([h.available_from.toordinal() if h.available_from else -10**9 for h in hs], np.int64)
        self.au = np.array([h.available_until.toordinal() if h.available_until else 10**9 for h in hs], np.int64)
        self.index = {h.id: i for i, h in enumerate(hs)}
        self.schools = {s.id: s for s in inst.schools}
        self.forbidden: dict[str, set[str]] = {}
        for x in inst.forbidden:
            self.forbidden.setdefault(x.family_id, set()).add(x.host_id)


def _hosts(inst: Instance) -> _Hosts:
    hit = _cache.get("hosts")
    if hit is None or hit[0] is not inst:
        hit = (inst, _Hosts(inst))
        _cache["hosts"] = hit
    return hit[1]


def _where(solution_or_assignment: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(family -> host, family -> unit) from a Solution, an object with host_of/unit_of, or a mapping."""
    x = solution_or_assignment
    if isinstance(x, Solution):
        return ({p.family_id: p.host_id for p in x.placements if p.host_id is not None},
                {p.family_id: p.unit_id for p in x.placements if p.unit_id is not None})
    if hasattr(x, "host_of"):
        return dict(x.host_of), dict(getattr(x, "unit_of", {}))
    if isinstance(x, Mapping):
        return dict(x), {}
    return {}, {}


def _state(inst: Instance, x: Any) -> tuple[dict, dict, np.ndarray, np.ndarray, dict]:
    """Who is where, beds and slots used per host, beds used per unit: once per solution object."""
    hit = _cache.get("state")
    if hit is not None and hit[0] is inst and hit[1][0] is x:
        return hit[1][1]
    H = _hosts(inst)
    host_of, unit_of = _where(x)
    used_beds = np.zeros(len(H.ids), dtype=np.int64)
    used_slots = np.zeros(len(H.ids), dtype=np.int64)
    sizes = {fam.id: fam.size for fam in inst.families}
    for fid, hid in host_of.items():
        if hid in H.index:
            used_beds[H.index[hid]] += sizes.get(fid, 0)
            used_slots[H.index[hid]] += 1
    unit_used: dict[str, int] = {}
    for fid, uid in unit_of.items():
        unit_used[uid] = unit_used.get(uid, 0) + sizes.get(fid, 0)
    out = (host_of, unit_of, used_beds, used_slots, unit_used)
    _cache["state"] = (inst, (x, out))
    return out


def _hosts_word(n: int) -> str:
    return "1 host" if n == 1 else f"{n} hosts"


def explain_unplaced(inst: Instance, solution_or_assignment: Any, family: Family) -> list[str]:
    """Reasons, in plain words, why `family` has no host (and no unit) in the given solution."""
    return [r["text"] for r in explain_details(inst, solution_or_assignment, family)]


def explain_details(inst: Instance, solution_or_assignment: Any, family: Family) -> list[dict]:
    """The same reasons with structure: {"rule", "text", "hosts_left", "params"} each, rules in the format's order.

    "params" holds what a translation needs to say the same thing in another language (JSON-friendly):
    for the hard-rule chain {"size", "hosts", "steps": [{"count", "rule", "arg"}, ...], "arg"} where
    "hosts" is the number of hosts with the beds, "steps" the rules that narrowed them (in order, only
    those that removed a host) and "arg" the failing rule's argument (availability: {"date", "days"};
    school: {"school", "km"}; otherwise {}); for "capacity" {"size"} (and "hosts": 0 when there are
    no hosts at all); for "taken" {"n"}; for "cost"
    {"n", "r"}; for "unit_beds" {"size", "free"}; for the other unit reasons {"size"}.
    """
    H = _hosts(inst)
    p = inst.params
    f = family
    out: list[dict] = []
    if not H.ids:
        out.append({"rule": "capacity", "text": "there are no hosts", "hosts_left": 0,
                    "params": {"size": f.size, "hosts": 0}})
        return out + _unit_reason(inst, solution_or_assignment, f)
    alive = (H.beds >= f.size) & (H.slots >= 1)
    n = int(alive.sum())
    if n == 0:
        out.append({"rule": "capacity", "text": f"no host has {f.size} {_beds(f.size)}", "hosts_left": 0,
                    "params": {"size": f.size}})
        return out + _unit_reason(inst, solution_or_assignment, f)
    what = f"{_hosts_word(n)} with {f.size} {_beds(f.size)}"
    chain: dict[str, Any] = {"size": f.size, "hosts": n, "steps": []}
    arrival = f.arrival.toordinal()
    stay = (f.arrival + dt.timedelta(days=p.min_stay_days)).toordinal()
    steps = []
    if f.children:
        steps.append(("children", H.acc, "accepts children", "that accept children", {}))
    if f.needs_step_free:
        steps.append(("step_free", H.sf, "has step-free access", "with step-free access", {}))
    if f.pet_allergy:
        steps.append(("pets", ~H.pets, "is free of pets (pet allergy)", "without pets", {}))
    if f.needs_non_smoking:
        steps.append(("smoking", ~H.smoke, "is non-smoking", "that are non-smoking", {}))
    steps.append(("availability", (H.af <= arrival) & (H.au >= stay),
                  f"is available from {f.arrival.isoformat()} for {p.min_stay_days} days",
                  f"available from {f.arrival.isoformat()} for {p.min_stay_days} days",
                  {"date": f.arrival.isoformat(), "days": p.min_stay_days}))
    for sid in dict.fromkeys(c.school_id for c in f.children if c.school_id is not None):
        s = H.schools[sid]
        km = haversine_km_np(s.lat, s.lon, H.lat, H.lon)
        steps.append(("school", km <= p.max_school_km + KM_TOLERANCE,
                      f"is within {p.max_school_km:g} km of {sid}", f"within {p.max_school_km:g} km of {sid}",
                      {"school": sid, "km": p.max_school_km}))
    forb = H.forbidden.get(f.id, set())
    if forb:
        m = np.ones(len(H.ids), dtype=bool)
        for hid in forb:
            m[H.index[hid]] = False
        steps.append(("forbidden", m, "was not declined or vetoed for this family", "not declined or vetoed", {}))
    for rule, mask, none_text, adj, arg in steps:
        nxt = alive & mask
        k = int(nxt.sum())
        if k == 0:
            out.append({"rule": rule, "text": f"of the {what}, none {none_text}", "hosts_left": 0,
                        "params": {**chain, "arg": arg}})
            return out + _unit_reason(inst, solution_or_assignment, f)
        alive = nxt
        if k != n:
            what = f"{what}, {k} {adj}"
            chain["steps"].append({"count": k, "rule": rule, "arg": arg})
        n = k
    host_of, _, used_beds, used_slots, _ = _state(inst, solution_or_assignment)
    here = host_of.get(f.id)
    if here in H.index:
        # The family itself does not take its own room.
        used_beds = used_beds.copy()
        used_slots = used_slots.copy()
        used_beds[H.index[here]] -= f.size
        used_slots[H.index[here]] -= 1
    room = alive & (H.beds - used_beds >= f.size) & (H.slots - used_slots >= 1)
    r = int(room.sum())
    if r == 0:
        text = (f"{_hosts_word(n)} fit; all were used for other families" if n > 1
                else "1 host fits; it was used for another family")
        out.append({"rule": "taken", "text": text, "hosts_left": 0, "params": {"n": n}})
    else:
        out.append({"rule": "cost", "text": f"{_hosts_word(n)} fit and {r} still had room, but placing the family "
                    "there would not lower the total cost", "hosts_left": r, "params": {"n": n, "r": r}})
    return out + _unit_reason(inst, solution_or_assignment, f)


def _unit_reason(inst: Instance, solution_or_assignment: Any, f: Family) -> list[dict]:
    if not inst.units:
        return [{"rule": "unit", "text": "there are no municipal units", "hosts_left": 0, "params": {"size": f.size}}]
    ok = [u for u in inst.units if u.step_free or not f.needs_step_free]
    if not ok:
        return [{"rule": "unit_step_free", "text": "needs step-free access: no municipal unit has it",
                 "hosts_left": 0, "params": {"size": f.size}}]
    _, unit_of, _, _, used = _state(inst, solution_or_assignment)
    own = unit_of.get(f.id)
    free = max(u.beds - used.get(u.id, 0) + (f.size if u.id == own else 0) for u in ok)
    if free < f.size:
        text = f"no municipal unit has {f.size} free {_beds(f.size)} (most free: {max(free, 0)})"
        return [{"rule": "unit_beds", "text": text, "hosts_left": 0, "params": {"size": f.size, "free": max(free, 0)}}]
    return [{"rule": "unit_cost", "text": "a municipal unit had room, but it would cost more than leaving the "
             "family unplaced", "hosts_left": 0, "params": {"size": f.size}}]


def _beds(n: int) -> str:
    return "bed" if n == 1 else "beds"


def forget_instance() -> None:
    """Drop the arrays kept for the last instance explained (and the rules' caches), to free memory."""
    from matching import rules

    _cache.clear()
    rules._cache.clear()
