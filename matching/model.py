"""The exact matcher: min-cost flow with pricing, Benders over the unit knapsack, CP-SAT where beds bind.

Stage 1 solves the relaxation R in which each host takes at most `max_families` families of a size
that fits its free beds, and units take any number (a family's fallback is its cheapest unit or being
unplaced). R is an assignment problem: OR-Tools' min-cost flow solves it on a candidate subset, node
potentials of the residual graph give LP duals, and every left-out pair is priced with NumPy (families
without a schooled child class by class), adding the negative ones until none is left. Whatever pairs
the flow saw, potentials give a valid lower bound for the whole instance, because each family's term
is minimised over every feasible pair.

When R's solution fits the units' beds (and no multi-family host's beds can bind), it is optimal.
When unit beds bind, Benders decomposition over "who goes to which unit": the master (CP-SAT, a
knapsack) works against cuts from flow potentials (some from Lagrange prices on unit beds), and the
assignment for the master's choice is a feasible solution; equal bounds prove optimality. When a
multi-family host's beds can bind, CP-SAT solves the joint model on the pairs whose reduced cost is
within the gap, and its proof counts only when no left-out pair could beat the incumbent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from matching import candidates as C
from matching.geo import haversine_km
from matching.schema import Instance, Placement, Solution, Unplaced

Progress = Callable[[float, str, "float | None"], None]

_INF = np.int64(1) << np.int64(60)
FULL_PAIRS = 150_000          # up to this many pairs in all, no pricing: every pair is listed
K_SCHOOLED = 10               # first candidates per family with a schooled child
K_NS = 8                      # first candidates per family without one
ADD_PER_FAMILY = 16            # pairs added per family and pricing round
OPTIMAL_REL_TOL = 1e-7        # OPTIMAL: the true bound, all rounding counted, is this close (validate allows 1e-6)


@dataclass
class _R:
    """One solve of the relaxation R: assignment, duals and a valid bound."""

    fam_host: np.ndarray      # host per family, -1: fallback
    cost: int                 # R's value on the arcs it had
    D_h: np.ndarray           # host potentials (>= 0); v_h = -D_h
    m_f: np.ndarray           # per family min over all its columns of c + D_h (incl. fallback)
    lb: int                   # valid lower bound on R (scaled units), for the whole instance
    certified: bool           # no negative reduced cost left: cost == lb


class _Universe:
    """Every column of the instance: listed pairs, classes for the rest, and the restricted set in use."""

    def __init__(self, prep: C.Prep, scale: float, rng: np.random.Generator):
        self.p = prep
        self.S = scale
        self.rng = rng
        self.nF, self.nH = prep.n_fam, prep.n_host
        w = prep.inst.params.weights
        self.sch = C.schooled_pairs(prep)
        self.sch_c = self.to_int(self.sch.cost)
        self.sch_seg = np.unique(self.sch.f, return_index=True)
        self.cls = C.ns_classes(prep)
        self.lang_int = int(self.to_int(np.array([w.no_common_language]))[0])
        self.ns_count = C.count_ns_pairs(self.cls)
        self.full = len(self.sch) + self.ns_count <= FULL_PAIRS
        self.cap = np.maximum(prep.h_slots, 0)
        self.unplaced_int = self.to_int(prep.unplaced_cost)
        self.u_int = np.where(np.isfinite(prep.u_cost), self.to_int(np.where(np.isfinite(prep.u_cost),
                                                                               prep.u_cost, 0.0)), _INF)
        # ns class bookkeeping for pricing
        cls = self.cls
        self.fc_of = np.full(self.nF, -1, dtype=np.int64)
        self.fc_of[cls.fams] = cls.fam_class
        self.cnt_cheap = (cls.compat & ~cls.nolang).sum(axis=1)
        self.cnt_dear = (cls.compat & cls.nolang).sum(axis=1)
        self.hc_sorted = np.argsort(cls.host_class, kind="stable")
        hcs = cls.host_class[self.hc_sorted]
        first = np.searchsorted(hcs, 0)
        self.hc_hosts = self.hc_sorted[first:]
        self.hc_start = np.searchsorted(hcs[first:], np.arange(cls.compat.shape[1]))

        if self.full:
            ns = C.ns_pairs_for(prep, cls)
            self.sch_in = np.ones(len(self.sch), dtype=bool)
            self._set(np.concatenate([self.sch.f, ns.f]), np.concatenate([self.sch.h, ns.h]),
                      np.concatenate([self.sch_c, self.to_int(ns.cost)]),
                      np.concatenate([self.sch.cost, ns.cost]))
        else:
            # Cheapest K per schooled family, K per other family from the cheapest classes.
            f = self.sch.f
            order = np.lexsort((self.sch_c, f))
            start = np.searchsorted(f[order], f[order])
            rank = np.arange(len(f)) - start
            self.sch_in = np.zeros(len(f), dtype=bool)
            self.sch_in[order[rank < K_SCHOOLED]] = True
            ns = C.ns_pairs_for(prep, cls, host_limit=K_NS, rng=rng)
            self._set(np.concatenate([self.sch.f[self.sch_in], ns.f]),
                      np.concatenate([self.sch.h[self.sch_in], ns.h]),
                      np.concatenate([self.sch_c[self.sch_in], self.to_int(ns.cost)]),
                      np.concatenate([self.sch.cost[self.sch_in], ns.cost]))

    def to_int(self, x: np.ndarray) -> np.ndarray:
        """Costs in the solver's integer units."""
        return np.rint(np.asarray(x, dtype=float) * self.S).astype(np.int64)

    def _set(self, f, h, c, cf) -> None:
        self.af, self.ah, self.ac, self.acf = f, h, c, cf

    def add(self, f, h, c, cf) -> None:
        """Add pairs to the restricted set."""
        self._set(np.concatenate([self.af, f]), np.concatenate([self.ah, h]),
                  np.concatenate([self.ac, c]), np.concatenate([self.acf, cf]))


def _scale(prep: C.Prep) -> float:
    """A power of ten so that integer costs, and their sums, stay exact in a double and in min-cost flow.

    At most 10**6 per unit (a millimetre per km): CP-SAT's LP mis-proved bounds with 10**9. With
    extreme weights it falls below 1: the rounding is then accounted for in the bound (`_rounding`).
    """
    w = prep.inst.params.weights
    kids = max([sum(c for _, c in sc) for sc in prep.f_schools] or [0])
    worst = max([1.0, float(prep.unplaced_cost.max(initial=0.0)),
                 float(np.where(np.isfinite(prep.u_cost), prep.u_cost, 0).max(initial=0.0)),
                 w.school_km * prep.inst.params.max_school_km * kids + w.no_common_language])
    k = math.floor(math.log10(2.0 ** 52 / (worst * max(1, prep.n_fam + prep.n_host + 2))))
    return 10.0 ** max(-12, min(6, k))


def _rounding(U: _Universe) -> float:
    """An upper bound, in the spec's units, on how far the integer costs of any solution can be from its
    real costs: each family's largest rounding error over all its options, summed."""
    def err(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.abs(x * U.S - np.rint(x * U.S)) / U.S

    p = U.p
    per = err(p.unplaced_cost)
    if len(U.sch):
        np.maximum.at(per, U.sch.f, err(U.sch.cost))
    if len(U.cls.fams):
        lang = float(err(np.array([p.inst.params.weights.no_common_language]))[0])
        per[U.cls.fams] = np.maximum(per[U.cls.fams], lang)
    if p.u_cost.shape[1]:
        per = np.maximum(per, np.where(np.isfinite(p.u_cost), err(np.where(np.isfinite(p.u_cost), p.u_cost, 0)),
                                       0).max(axis=1))
    # Float sums of the real costs are themselves inexact: a relative 1e-15 per term is ample.
    return float(per.sum()) * (1 + 1e-9) + 1e-15 * float(p.unplaced_cost.sum() + abs(p.fixed_cost))


# --------------------------------------------------------------------------- flow and duals


def _flow(U: _Universe, fb: np.ndarray, active: np.ndarray | None = None,
          costs: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Solve R on the restricted pairs; returns the arc index per family (-1: fallback) and the cost."""
    ac = U.ac if costs is None else costs
    nF, nH = U.nF, U.nH
    act = np.ones(nF, dtype=np.int64) if active is None else active.astype(np.int64)
    m = len(U.af)
    T = nF + nH
    used_h = np.unique(U.ah)
    smcf = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([U.af, np.arange(nF), nF + used_h]).astype(np.int32)
    heads = np.concatenate([nF + U.ah, np.full(nF, T), np.full(len(used_h), T)]).astype(np.int32)
    caps = np.concatenate([np.ones(m + nF, dtype=np.int64), U.cap[used_h]])
    arc_costs = np.concatenate([ac, fb, np.zeros(len(used_h), dtype=np.int64)])
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, arc_costs)
    sup = np.zeros(T + 1, dtype=np.int64)
    sup[:nF] = act
    sup[T] = -int(act.sum())
    smcf.set_nodes_supplies(np.arange(T + 1, dtype=np.int32), sup)
    st = smcf.solve()
    if st != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {st}")
    fl = smcf.flows(np.arange(m, dtype=np.int32))
    fam_arc = np.full(nF, -1, dtype=np.int64)
    sel = np.flatnonzero(fl > 0)
    fam_arc[U.af[sel]] = sel
    fb_used = (fam_arc < 0) & (act > 0)
    return fam_arc, int(ac[sel].sum() + fb[fb_used].sum())


def _potentials(U: _Universe, fb: np.ndarray, fam_arc: np.ndarray,
                costs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Shortest distances to the sink in R's residual graph: D_f per family, D_h per host (Bellman-Ford)."""
    nF, nH = U.nF, U.nH
    ac_all = U.ac if costs is None else costs
    assigned = np.zeros(len(U.af), dtype=bool)
    assigned[fam_arc[fam_arc >= 0]] = True
    load = np.bincount(U.ah[assigned], minlength=nH)
    full = load >= U.cap
    D_h = np.where(full & (load > 0), _INF, 0).astype(np.int64)
    bypassed = fam_arc < 0
    D_f = np.where(bypassed, _INF, fb).astype(np.int64)
    ua = np.flatnonzero(~assigned)
    uf, uh, uc = U.af[ua], U.ah[ua], ac_all[ua]       # sorted by family already (U keeps it sorted)
    o = np.argsort(uf, kind="stable")
    uf, uh, uc = uf[o], uh[o], uc[o]
    seg_f, seg_start = np.unique(uf, return_index=True)
    ai = np.flatnonzero(assigned)
    af, ah, ac = U.af[ai], U.ah[ai], ac_all[ai]
    full_arc = full[ah]
    af, ah, ac = af[full_arc], ah[full_arc], ac[full_arc]
    for _ in range(nF + nH + 2):
        if len(uf):
            val = np.minimum(uc + D_h[uh], _INF)
            best = np.minimum.reduceat(val, seg_start)
            new_f = D_f.copy()
            new_f[seg_f] = np.minimum(D_f[seg_f], best)
        else:
            new_f = D_f
        new_h = D_h.copy()
        if len(af):
            np.minimum.at(new_h, ah, np.minimum(new_f[af] - ac, _INF))
        if np.array_equal(new_f, D_f) and np.array_equal(new_h, D_h):
            break
        D_f, D_h = new_f, new_h
    return D_f, np.maximum(D_h, 0)


def _column_min(U: _Universe, fb: np.ndarray, D_h: np.ndarray) -> np.ndarray:
    """Per family, the least c + D_h over every feasible host of the whole instance, and the fallback."""
    m = fb.copy()
    sch = U.sch
    if len(sch):
        val = U.sch_c + D_h[sch.h]
        seg_f, seg_start = U.sch_seg
        m[seg_f] = np.minimum(m[seg_f], np.minimum.reduceat(val, seg_start))
    cls = U.cls
    if len(cls.fams) and cls.compat.shape[1]:
        hmin = _class_min_D(U, D_h)
        val = _class_row_min(U, hmin)
        m[cls.fams] = np.minimum(m[cls.fams], val[cls.fam_class])
    return m


def _column_min_mu(U: _Universe, fb: np.ndarray, D_h: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """As _column_min, with host beds priced at mu per person (Lagrange prices for multi-family hosts)."""
    if not mu.any():
        return _column_min(U, fb, D_h)
    p = U.p
    m = fb.copy()
    sch = U.sch
    if len(sch):
        val = U.sch_c + D_h[sch.h] + mu[sch.h] * p.f_size[sch.f]
        seg_f, seg_start = U.sch_seg
        m[seg_f] = np.minimum(m[seg_f], np.minimum.reduceat(val, seg_start))
    cls = U.cls
    if len(cls.fams) and cls.compat.shape[1]:
        fc_size = np.array([p.f_size[mem[0]] for mem in cls.fc_members], dtype=np.int64)
        best = np.full(len(fc_size), _INF, dtype=np.int64)
        for size in np.unique(fc_size).tolist():
            hmin = _class_min_D(U, D_h + mu * size)
            rows = fc_size == size
            best[rows] = _class_row_min(U, hmin)[rows]
        m[cls.fams] = np.minimum(m[cls.fams], best[cls.fam_class])
    return m


def _class_row(U: _Universe, fc: int, hmin: np.ndarray) -> np.ndarray:
    """c + min D over each host class for family class fc (_INF where incompatible)."""
    cls = U.cls
    return np.where(cls.compat[fc], np.where(cls.nolang[fc], U.lang_int, 0) + hmin, _INF)


def _class_row_min(U: _Universe, hmin: np.ndarray) -> np.ndarray:
    """Per family class, the least c + min D over its compatible host classes.

    Most host classes keep a free host (min D = 0), so only the others are looked at column by column;
    the rest is answered by counts of cheap and dear compatible classes taken once.
    """
    cls = U.cls
    n_fc, n_hc = cls.compat.shape
    P = np.flatnonzero(hmin > 0)
    if len(P) * 2 > n_hc:
        out = np.full(n_fc, _INF, dtype=np.int64)
        step = max(1, 2_000_000 // max(1, n_hc))
        for a in range(0, n_fc, step):
            blk = np.where(cls.nolang[a:a + step], U.lang_int, 0) + hmin[None, :]
            out[a:a + step] = np.where(cls.compat[a:a + step], blk, _INF).min(axis=1)
        return out
    cp, nlp = cls.compat[:, P], cls.nolang[:, P]
    cheap_left = U.cnt_cheap - (cp & ~nlp).sum(axis=1)
    dear_left = U.cnt_dear - (cp & nlp).sum(axis=1)
    base = np.where(cheap_left > 0, 0, np.where(dear_left > 0, U.lang_int, _INF)).astype(np.int64)
    if len(P):
        pm = np.where(cp, np.where(nlp, U.lang_int, 0) + hmin[P][None, :], _INF).min(axis=1)
        base = np.minimum(base, pm)
    return base


def _class_min_D(U: _Universe, D_h: np.ndarray) -> np.ndarray:
    n_hc = U.cls.compat.shape[1]
    out = np.full(n_hc, _INF, dtype=np.int64)
    if len(U.hc_hosts):
        nonempty = np.flatnonzero(np.diff(np.append(U.hc_start, len(U.hc_hosts))) > 0)
        red = np.minimum.reduceat(D_h[U.hc_hosts], U.hc_start[nonempty])
        out[nonempty] = red
    return out


def _price(U: _Universe, D_f: np.ndarray, fb: np.ndarray, D_h: np.ndarray) -> int:
    """Add left-out pairs with a negative reduced cost; returns how many were added."""
    return _price_at(U, np.minimum(D_f, fb), D_h, None)


def _price_at(U: _Universe, u: np.ndarray, D_h: np.ndarray, mu: np.ndarray | None, tol: int = 0) -> int:
    """Add left-out pairs whose cost plus host prices (D_h per family, mu per person) is below u - tol."""
    added = 0
    sch = U.sch
    size = U.p.f_size
    if len(sch):
        price = D_h[sch.h] if mu is None else D_h[sch.h] + mu[sch.h] * size[sch.f]
        neg = (~U.sch_in) & (U.sch_c + price < u[sch.f] - tol)
        idx = np.flatnonzero(neg)
        if len(idx):
            # At most ADD_PER_FAMILY per family, the most negative first.
            r = (U.sch_c + price - u[sch.f])[idx]
            o = np.lexsort((r, sch.f[idx]))
            idx = idx[o]
            start = np.searchsorted(sch.f[idx], sch.f[idx])
            idx = idx[(np.arange(len(idx)) - start) < ADD_PER_FAMILY]
            U.sch_in[idx] = True
            U.add(sch.f[idx], sch.h[idx], U.sch_c[idx], sch.cost[idx])
            added += len(idx)
    cls = U.cls
    if len(cls.fams) and cls.compat.shape[1]:
        if mu is None or not mu.any():
            added += _price_ns(U, u - tol, D_h, cls.fams)
        else:
            for s_ in np.unique(size[cls.fams]).tolist():
                added += _price_ns(U, u - tol, D_h + mu * s_, cls.fams[size[cls.fams] == s_])
    if added:
        o = np.argsort(U.af, kind="stable")
        U._set(U.af[o], U.ah[o], U.ac[o], U.acf[o])
    return added


def _price_ns(U: _Universe, u: np.ndarray, D_h: np.ndarray, fams: np.ndarray) -> int:
    """Pricing for families without a schooled child (`fams`), class by class; returns pairs added."""
    cls = U.cls
    added = 0
    hmin = _class_min_D(U, D_h)
    mfc = _class_row_min(U, hmin)
    viol = fams[u[fams] > mfc[U.fc_of[fams]]]
    w_lang = U.p.inst.params.weights.no_common_language
    present = set((U.af[np.isin(U.af, viol)] * U.nH + U.ah[np.isin(U.af, viol)]).tolist()) if len(viol) else set()
    fs, hs, cs, cfs = [], [], [], []
    for f in viol.tolist():
        fc = U.fc_of[f]
        vf = _class_row(U, fc, hmin)
        hcs = np.flatnonzero(vf < u[f])
        if not len(hcs):
            continue
        # The best classes (ties broken at random), one improving host from each, picked at random
        # so that families of one kind do not all queue for the same hosts.
        if len(hcs) > 2 * ADD_PER_FAMILY:
            hcs = hcs[np.argpartition(vf[hcs] + U.rng.random(len(hcs)) * 0.5, 2 * ADD_PER_FAMILY)
                      [:2 * ADD_PER_FAMILY]]
        got = 0
        for c in hcs.tolist():
            mem = cls.hc_members[c]
            cost_c = U.lang_int if cls.nolang[fc, c] else 0
            ok = mem[cost_c + D_h[mem] < u[f]]
            if not len(ok):
                continue
            for h in ok[U.rng.permutation(len(ok))[:2]].tolist():
                if f * U.nH + h in present:
                    continue
                fs.append(f)
                hs.append(h)
                cs.append(cost_c)
                cfs.append(w_lang if cost_c else 0.0)
                got += 1
            if got >= ADD_PER_FAMILY:
                break
    if fs:
        U.add(np.array(fs, dtype=np.int64), np.array(hs, dtype=np.int64), np.array(cs, dtype=np.int64),
              np.array(cfs, dtype=float))
        added += len(fs)
    return added


def _solve_R(U: _Universe, fb: np.ndarray, deadline: float, progress, frac: tuple[float, float],
             active: np.ndarray | None = None, max_rounds: int = 10_000) -> _R:
    """R to optimality by pricing (or until the deadline), with its bound for the whole instance.

    Families not `active` (already placed in units) take no part; the bound then leaves them out.
    """
    rounds = 0
    act = np.ones(U.nF, dtype=bool) if active is None else active
    while True:
        rounds += 1
        fam_arc, cost = _flow(U, fb, act)
        D_f, D_h = _potentials(U, fb, fam_arc)
        if U.full:
            added = 0
        else:
            added = _price(U, np.where(act, D_f, -_INF), fb, D_h)
        _report(progress, frac[0] + (frac[1] - frac[0]) * min(0.9, rounds / 6),
                f"assignment round {rounds}: {len(U.af)} pairs, {added} added", None)
        if added == 0 or time.perf_counter() > deadline or rounds >= max_rounds:
            break
    m_f = _column_min(U, fb, D_h)
    lb = int(m_f[act].sum() - (U.cap * D_h).sum())
    fam_host = np.where(fam_arc >= 0, U.ah[np.maximum(fam_arc, 0)], -1) if len(U.ah) else np.full(U.nF, -1)
    return _R(fam_host=fam_host, cost=cost, D_h=D_h, m_f=m_f, lb=lb, certified=(added == 0 and lb == cost))


def _report(progress, frac: float, msg: str, best: float | None) -> None:
    if progress is not None:
        try:
            progress(float(frac), msg, best)
        except Exception:  # noqa: S110 - a broken progress callback must not stop the solve
            pass


# --------------------------------------------------------------------------- fallback, feasibility, repair


def _fallback(U: _Universe, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each family's fallback cost with unit beds priced at lam per person, and which unit (-1: unplaced)."""
    fb = U.unplaced_int.copy()
    unit = np.full(U.nF, -1, dtype=np.int64)
    if U.u_int.shape[1]:
        uc = np.where(U.u_int >= _INF, _INF, U.u_int + lam[None, :] * U.p.f_size[:, None])
        best = uc.argmin(axis=1)
        bc = uc[np.arange(U.nF), best]
        take = bc < fb
        fb = np.where(take, bc, fb)
        unit = np.where(take, best, -1)
    return fb.astype(np.int64), unit


def _repair(U: _Universe, fam_host: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A feasible solution from R's: overfull multi-family hosts shed families, units filled by value."""
    p = U.p
    fam_host = fam_host.copy()
    sizes = p.f_size
    load = np.bincount(fam_host[fam_host >= 0], weights=sizes[fam_host >= 0], minlength=U.nH)
    for h in np.flatnonzero((load > 0) & (load > p.h_beds)).tolist():
        fs = np.flatnonzero(fam_host == h)
        for f in fs[np.argsort(-sizes[fs])].tolist():
            if load[h] <= p.h_beds[h]:
                break
            fam_host[f] = -1
            load[h] -= sizes[f]
    fam_unit = np.full(U.nF, -1, dtype=np.int64)
    left = p.u_beds.copy()
    rest = np.flatnonzero(fam_host < 0)
    if len(rest) and U.u_int.shape[1]:
        gain = U.unplaced_int[rest][:, None] - U.u_int[rest]
        best = gain.max(axis=1)
        order = rest[np.argsort(-best / sizes[rest], kind="stable")]
        for f in order.tolist():
            cand = np.flatnonzero((U.u_int[f] < U.unplaced_int[f]) & (left >= sizes[f]))
            if len(cand):
                u = int(cand[np.argmin(U.u_int[f, cand])])
                fam_unit[f] = u
                left[u] -= sizes[f]
    return fam_host, fam_unit


def _value(U: _Universe, fam_host: np.ndarray, fam_unit: np.ndarray) -> int:
    """The integer objective (free families only) of a solution given by host and unit per family."""
    pos = _arc_lookup(U, fam_host)
    tot = int(U.ac[pos[fam_host >= 0]].sum())
    un = (fam_host < 0) & (fam_unit >= 0)
    tot += int(U.u_int[np.flatnonzero(un), fam_unit[un]].sum())
    tot += int(U.unplaced_int[(fam_host < 0) & (fam_unit < 0)].sum())
    return tot


def _arc_lookup(U: _Universe, fam_host: np.ndarray) -> np.ndarray:
    """Index in the restricted set of each family's (family, host) pair; -1 when unhosted."""
    key = U.af * U.nH + U.ah
    o = np.argsort(key)
    want = np.arange(U.nF) * U.nH + np.maximum(fam_host, 0)
    pos = np.searchsorted(key[o], want)
    pos = np.minimum(pos, len(key) - 1) if len(key) else pos
    out = np.where(fam_host >= 0, o[pos] if len(key) else -1, -1)
    return out


def _overfull(U: _Universe, fam_host: np.ndarray, fam_unit: np.ndarray) -> bool:
    p = U.p
    hl = np.bincount(fam_host[fam_host >= 0], weights=p.f_size[fam_host >= 0], minlength=U.nH)
    if ((hl > 0) & (hl > p.h_beds)).any():
        return True
    if len(p.u_beds):
        ul = np.bincount(fam_unit[fam_unit >= 0], weights=p.f_size[fam_unit >= 0], minlength=len(p.u_beds))
        return bool(((ul > 0) & (ul > p.u_beds)).any())
    return False


# --------------------------------------------------------------------------- CP-SAT on the joint model


# --------------------------------------------------------------------------- the solver


def solve(inst: Instance, time_limit_s: float = 60.0, workers: int = 2, progress: Progress | None = None) -> Solution:
    """Solve the matching instance; OPTIMAL only with a proof for the whole instance, else an honest bound."""
    t0 = time.perf_counter()
    deadline = t0 + max(0.1, time_limit_s)
    _report(progress, 0.0, "preparing", None)
    prep = C.prepare(inst)
    S = _scale(prep)
    U = _Universe(prep, S, np.random.default_rng(12345))
    nF = U.nF
    _report(progress, 0.1, f"{len(U.sch)} school pairs, {U.ns_count} other pairs", None)

    status, bound_int, fam_host, fam_unit, value = "FEASIBLE", 0, None, None, None
    if nF == 0:
        status, fam_host, fam_unit, value, bound_int = "OPTIMAL", np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 0
    else:
        lam = np.zeros(len(prep.u_beds), dtype=np.int64)
        fb, fb_unit = _fallback(U, lam)
        # A little time is kept back for writing the solution and the reasons.
        end = deadline - min(2.0, 0.05 * time_limit_s)
        r = _solve_R(U, fb, end, progress, (0.1, 0.5))
        bound_int = r.lb
        fam_host = r.fam_host
        fam_unit = np.where(fam_host < 0, fb_unit, -1)
        if not _overfull(U, fam_host, fam_unit):
            value = r.cost
            status = "OPTIMAL" if r.certified else "FEASIBLE"
        else:
            fam_host, fam_unit, value, bound_int, status = _exact_multi(U, r, end, workers, progress)
        if status != "OPTIMAL":
            # Whatever stopped the search, no single insertion or simple swap is left undone.
            fam_host, fam_unit = _improve(U, fam_host, fam_unit)
            value = _value(U, fam_host, fam_unit)
            if value <= bound_int:
                status, bound_int = "OPTIMAL", value
    _report(progress, 0.95, "writing the solution", None)
    return _assemble(inst, U, fam_host, fam_unit, value, bound_int, status, t0)


def _as_float(U: _Universe, v: int) -> float:
    return v / U.S + U.p.fixed_cost


def _assemble(inst: Instance, U: _Universe, fam_host, fam_unit, value, bound_int, status, t0) -> Solution:
    """Placements, unplaced with reasons, and the objective recomputed exactly in the spec's units."""
    from matching.explain import explain_unplaced

    p = U.p
    placements = list(p.fixed_placements)
    unplaced_idx = []
    obj = p.fixed_cost
    pos = _arc_lookup(U, fam_host) if U.nF else np.zeros(0, np.int64)
    schools = {s.id: s for s in inst.schools}
    for f in range(U.nF):
        fam = p.family(f)
        h, u = int(fam_host[f]), int(fam_unit[f])
        if h >= 0:
            host = inst.hosts[h]
            placements.append(Placement(family_id=fam.id, host_id=host.id, child_km=_kms(host, fam, schools)))
            obj += float(U.acf[pos[f]])
        elif u >= 0:
            unit = inst.units[u]
            placements.append(Placement(family_id=fam.id, unit_id=unit.id, child_km=_kms(unit, fam, schools)))
            obj += float(p.u_cost[f, u])
        else:
            unplaced_idx.append(f)
            obj += float(p.unplaced_cost[f])
    where = _Assignment(U, (fam_host, fam_unit))
    unplaced = tuple(Unplaced(family_id=p.family(f).id, reasons=tuple(explain_unplaced(inst, where, p.family(f))))
                     for f in unplaced_idx)
    # The bound is on integer-rounded costs: widen it by every rounding, so it stays a true bound, and
    # call the solution optimal only when that true bound is within the tolerance the format allows.
    bound = min(obj, bound_int / U.S + p.fixed_cost - _rounding(U)) if U.nF else obj
    if status == "OPTIMAL" and obj - bound > OPTIMAL_REL_TOL * max(1.0, abs(obj)):
        status = "FEASIBLE"
    gap = (obj - bound) / obj if obj > 0 else 0.0
    order = {f.id: i for i, f in enumerate(inst.families)}
    placements.sort(key=lambda x: order[x.family_id])
    return Solution(status=status, objective=obj, bound=bound, gap=max(0.0, gap),
                    wall_s=time.perf_counter() - t0, placements=tuple(placements), unplaced=unplaced)


def _kms(place, fam, schools) -> tuple[float | None, ...]:
    return tuple(None if c.school_id is None else
                 haversine_km(place.lat, place.lon, schools[c.school_id].lat, schools[c.school_id].lon)
                 for c in fam.children)


class _Assignment:
    """Who sits where, by id, for explain_unplaced (hosts and units in use)."""

    def __init__(self, U: _Universe, sol: tuple[np.ndarray, np.ndarray]):
        inst, p = U.p.inst, U.p
        self.host_of: dict[str, str] = {}
        self.unit_of: dict[str, str] = {}
        for x in inst.fixed:
            if x.host_id is not None:
                self.host_of[x.family_id] = x.host_id
            else:
                self.unit_of[x.family_id] = x.unit_id  # type: ignore[assignment]
        fam_host, fam_unit = sol
        for f in range(U.nF):
            fid = p.family(f).id
            if fam_host[f] >= 0:
                self.host_of[fid] = inst.hosts[int(fam_host[f])].id
            elif fam_unit[f] >= 0:
                self.unit_of[fid] = inst.units[int(fam_unit[f])].id


# --------------------------------------------------------------------------- several families per host: LP prices


LP_ROUNDS = 60                # column-generation rounds at most (a work limit, not a clock)
STAGE_NODES = 400             # branch-and-bound nodes for each quick stage of the exact model
MIP_PAIRS = 120_000           # the exact model over the pairs within the gap takes at most this many


@dataclass
class _Prices:
    """Non-negative prices from the LP relaxation and the valid lower bound they give for the whole instance."""

    slot: np.ndarray          # per family taking a slot at each host
    bed: np.ndarray           # per person in a host's beds
    unit: np.ndarray          # per person in a unit's beds
    fam_min: np.ndarray       # per family: least priced cost over every option (hosts, units, unplaced)
    bound: int
    lp_x: np.ndarray | None   # host-pair values of the last LP (aligned with the restricted pairs)
    fam_value: np.ndarray | None = None   # the LP's value of each family's "exactly one place"


def _bound_at(U: _Universe, slot: np.ndarray, bed: np.ndarray, unit: np.ndarray) -> tuple[np.ndarray, int]:
    """The Lagrangian bound at the given prices: every family takes its cheapest priced option, anywhere."""
    p = U.p
    fallback, _ = _fallback(U, unit)
    fam_min = _column_min_mu(U, fallback, slot, bed)
    bound = int(fam_min.sum() - (U.cap * slot).sum() - (bed * p.h_beds).sum() - (unit * p.u_beds).sum())
    return fam_min, bound


def _restricted_lp(U: _Universe, uf: np.ndarray, uu: np.ndarray):
    """The LP relaxation on the restricted host pairs and unit pairs (HiGHS through SciPy); None if it fails."""
    from scipy import sparse
    from scipy.optimize import linprog

    p = U.p
    n_fam, n_host, n_unit = U.nF, U.nH, len(p.u_beds)
    m, k = len(U.af), len(uf)
    n_col = m + k + n_fam
    cost = np.concatenate([U.ac, U.u_int[uf, uu], U.unplaced_int]).astype(float) / U.S
    fam = np.concatenate([U.af, uf, np.arange(n_fam)])
    a_eq = sparse.csr_matrix((np.ones(n_col), (fam, np.arange(n_col))), shape=(n_fam, n_col))
    hosts = np.unique(U.ah)
    multi = hosts[p.h_slots[hosts] >= 2]
    is_multi = np.isin(U.ah, multi)
    rows = np.concatenate([np.searchsorted(hosts, U.ah), len(hosts) + np.searchsorted(multi, U.ah[is_multi]),
                           len(hosts) + len(multi) + uu])
    cols = np.concatenate([np.arange(m), np.flatnonzero(is_multi), m + np.arange(k)])
    vals = np.concatenate([np.ones(m), p.f_size[U.af[is_multi]], p.f_size[uf]]).astype(float)
    n_ub = len(hosts) + len(multi) + n_unit
    a_ub = sparse.csr_matrix((vals, (rows, cols)), shape=(n_ub, n_col)) if n_ub else None
    b_ub = np.concatenate([U.cap[hosts], p.h_beds[multi], p.u_beds]).astype(float) if n_ub else None
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n_fam), bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    marg = -res.ineqlin.marginals * U.S if n_ub else np.zeros(0)
    slot = np.zeros(n_host, dtype=np.int64)
    bed = np.zeros(n_host, dtype=np.int64)
    slot[hosts] = np.maximum(0, np.rint(marg[:len(hosts)])).astype(np.int64)
    bed[multi] = np.maximum(0, np.rint(marg[len(hosts):len(hosts) + len(multi)])).astype(np.int64)
    unit = np.maximum(0, np.rint(marg[len(hosts) + len(multi):])).astype(np.int64)
    fam_value = np.rint(res.eqlin.marginals * U.S).astype(np.int64)
    return res.x[:m], slot, bed, unit, fam_value


def _lp_prices(U: _Universe, deadline: float, progress) -> _Prices:
    """Column generation: the restricted LP, then every left-out pair priced, until none would lower it."""
    p = U.p
    n_fam, n_unit = U.nF, len(p.u_beds)
    unit_ok = (U.u_int < U.unplaced_int[:, None]) if n_unit else np.zeros((n_fam, 0), dtype=bool)
    in_lp = np.zeros_like(unit_ok)
    if n_unit:
        # Each family's two cheapest units to start with; the others come in by pricing.
        first = np.argsort(np.where(unit_ok, U.u_int, _INF), axis=1, kind="stable")[:, :2]
        rows = np.repeat(np.arange(n_fam), first.shape[1])
        in_lp[rows, first.ravel()] = True
        in_lp &= unit_ok
    tol = max(1, int(1e-7 * float(U.unplaced_int.max(initial=0))))
    best: _Prices | None = None
    for rnd in range(LP_ROUNDS):
        uf, uu = np.nonzero(in_lp)
        lp = _restricted_lp(U, uf, uu)
        if lp is None:
            break
        x, slot, bed, unit, fam_value = lp
        fam_min, bound = _bound_at(U, slot, bed, unit)
        if best is None or bound > best.bound:
            best = _Prices(slot, bed, unit, fam_min, bound, x)
        best.lp_x = x if len(x) == len(U.af) else None
        best.fam_value = fam_value
        _report(progress, 0.5 + 0.02 * min(10, rnd), f"LP round {rnd + 1}: bound {_as_float(U, bound):.3f}", None)
        added = _price_at(U, fam_value, slot, bed, tol)
        if n_unit:
            red = np.where(unit_ok & ~in_lp, U.u_int + unit[None, :] * p.f_size[:, None], _INF)
            new = red < (fam_value - tol)[:, None]
            in_lp |= new
            added += int(new.sum())
        if added:
            best.lp_x = None
        _report(progress, 0.5 + 0.02 * min(10, rnd), f"LP round {rnd + 1}: {added} pairs added", None)
        if not added or time.perf_counter() > deadline:
            break
    if best is None:
        z = np.zeros(U.nH, dtype=np.int64)
        fam_min, bound = _bound_at(U, z, z, np.zeros(n_unit, dtype=np.int64))
        best = _Prices(z, z, np.zeros(n_unit, dtype=np.int64), fam_min, bound, None)
    return best


def _exact_multi(U: _Universe, r: _R, deadline: float, workers: int, progress):
    """Host beds may bind: LP prices, a bound with whole host and unit choices, a good solution, then the
    exact model on the pairs within the gap.

    A solution that uses a pair whose reduced cost (at the family values) exceeds `incumbent - bound`
    costs more than the incumbent, so a model holding every pair within that gap, solved to optimality,
    is optimal for the whole instance.
    """
    t_start = time.perf_counter()
    budget = max(0.0, deadline - t_start)
    pr = _lp_prices(U, t_start + 0.4 * budget, progress)
    lb = pr.bound
    lag = None
    if pr.fam_value is not None:
        lag = _family_lagrange(U, pr.fam_value)
        lb = max(lb, lag.bound)
    # A first solution: the LP's whole pairs, repaired, then the cheap improvements.
    if pr.lp_x is not None:
        fam_host = np.full(U.nF, -1, dtype=np.int64)
        sel = np.flatnonzero(pr.lp_x > 0.5)
        fam_host[U.af[sel]] = U.ah[sel]
    else:
        fam_host = r.fam_host
    best_h, best_u = _repair(U, fam_host)
    best_h, best_u = _improve(U, best_h, best_u)
    ub = _value(U, best_h, best_u)
    _report(progress, 0.75, f"bound {_as_float(U, lb):.3f}", _as_float(U, ub))
    if ub <= lb or lag is None:
        return best_h, best_u, ub, min(lb, ub), ("OPTIMAL" if ub <= lb else "FEASIBLE")
    # First each family's nearest pairs (quick, good solutions), then every pair within the gap.
    for stage, per_family in enumerate((16, 40, None)):
        remaining = deadline - time.perf_counter()
        if remaining < 0.3 or ub <= lb:
            break
        final = per_family is None
        gap = ub - lb
        complete = _add_within_lagrange(U, lag, gap, MIP_PAIRS) if final else False
        red, _ = _pair_reduced(U, lag)
        unit_ok = _unit_reduced(U, lag) <= gap
        arcs = np.flatnonzero(red <= gap) if final else _nearest(U, red, gap, per_family)
        hint_pos = _arc_lookup(U, best_h)
        arcs = np.union1d(arcs, hint_pos[hint_pos >= 0])
        if len(arcs) > MIP_PAIRS:
            arcs = np.union1d(arcs[np.argsort(red[arcs], kind="stable")[:MIP_PAIRS]], hint_pos[hint_pos >= 0])
            complete = False
        on_unit = (best_h < 0) & (best_u >= 0)
        unit_ok[np.flatnonzero(on_unit), best_u[on_unit]] = True
        _report(progress, 0.8 + 0.05 * stage, f"exact model on {len(arcs)} pairs", _as_float(U, ub))
        # Work limits (branch-and-bound nodes) for the quick stages, so that load cannot change them;
        # the clock only guards the time limit.
        res = _milp(U, arcs, deadline, unit_ok, node_limit=None if final else STAGE_NODES)
        if res is None:
            continue
        st, h3, u3, v3, b3 = res
        if v3 < ub:
            best_h, best_u = _improve(U, h3, u3)
            ub = _value(U, best_h, best_u)
        if final and complete:
            if b3 is not None:
                lb = max(lb, min(b3, ub))
            if st == "OPTIMAL":
                lb = max(lb, min(v3, ub))
    status = "FEASIBLE"
    if ub <= lb:
        status, lb = "OPTIMAL", ub
    return best_h, best_u, ub, lb, status


def _nearest(U: _Universe, red: np.ndarray, gap: int, per_family: int) -> np.ndarray:
    """Each family's `per_family` pairs of least reduced cost (within the gap), ties broken at random:
    many hosts tie at zero for families without a school, and they should not all queue for the same."""
    tie = np.random.default_rng(7).random(len(red))
    o = np.lexsort((tie, red, U.af))
    start = np.searchsorted(U.af[o], U.af[o])
    sel = o[((np.arange(len(o)) - start) < per_family) & (red[o] <= gap)]
    return np.sort(sel)


# --------------------------------------------------------------------------- the improvement pass


def _host_options(U: _Universe, f: int, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """Every host family f may go to (whole instance) and the integer cost of each."""
    if U.p.f_schooled[f]:
        seg_f, seg_start = U.sch_seg
        i = int(np.searchsorted(seg_f, f))
        if i >= len(seg_f) or seg_f[i] != f:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        end = seg_start[i + 1] if i + 1 < len(seg_start) else len(U.sch)
        return U.sch.h[seg_start[i]:end], U.sch_c[seg_start[i]:end]
    fc = int(U.fc_of[f])
    hit = cache.get(fc)
    if hit is None:
        cls = U.cls
        hcs = np.flatnonzero(cls.compat[fc]).tolist()
        hs = [cls.hc_members[c] for c in hcs]
        cs = [np.full(len(cls.hc_members[c]), U.lang_int if cls.nolang[fc, c] else 0, dtype=np.int64) for c in hcs]
        hit = cache[fc] = ((np.concatenate(hs), np.concatenate(cs)) if hs else
                           (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    return hit


def _improve(U: _Universe, fam_host: np.ndarray, fam_unit: np.ndarray,
             rounds: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Local search: insert families that have no host into host room where that is cheaper, then
    one-for-one ejections (a family gives up its host to one without, and moves to its own next best).

    Whatever this returns admits no single insertion of an unhosted family into a host's remaining
    room, or into a unit's remaining beds, that would lower the total cost.
    """
    p = U.p
    size = p.f_size
    fam_host, fam_unit = fam_host.copy(), np.where(fam_host >= 0, -1, fam_unit)
    n_unit = len(p.u_beds)
    cache: dict = {}
    beds_left = p.h_beds - np.bincount(fam_host[fam_host >= 0], weights=size[fam_host >= 0],
                                       minlength=U.nH).astype(np.int64)
    slots_left = p.h_slots - np.bincount(fam_host[fam_host >= 0], minlength=U.nH)
    unit_left = (p.u_beds - np.bincount(fam_unit[fam_unit >= 0], weights=size[fam_unit >= 0],
                                        minlength=n_unit).astype(np.int64)) if n_unit else np.zeros(0, np.int64)
    new_pairs: list[tuple[int, int, int]] = []

    def cur_cost(f: int) -> int:
        if fam_unit[f] >= 0:
            return int(U.u_int[f, fam_unit[f]])
        return int(U.unplaced_int[f])

    def host_cost(f: int, h: int) -> int:
        hs, cs = _host_options(U, f, cache)
        return int(cs[np.flatnonzero(hs == h)[0]])

    def best_elsewhere(g: int, banned: int) -> tuple[int, int, int]:
        """g's cheapest option with room now other than host `banned`: (cost, host, unit)."""
        best = (int(U.unplaced_int[g]), -1, -1)
        hs, cs = _host_options(U, g, cache)
        ok = (hs != banned) & (slots_left[hs] >= 1) & (beds_left[hs] >= size[g])
        if ok.any():
            i = int(np.argmin(np.where(ok, cs, _INF)))
            if cs[i] < best[0]:
                best = (int(cs[i]), int(hs[i]), -1)
        if n_unit:
            ok_u = (U.u_int[g] < _INF) & (unit_left >= size[g])
            if ok_u.any():
                j = int(np.argmin(np.where(ok_u, U.u_int[g], _INF)))
                if U.u_int[g, j] < best[0]:
                    best = (int(U.u_int[g, j]), -1, j)
        return best

    def move(f: int, h: int, u: int) -> None:
        if fam_host[f] >= 0:
            beds_left[fam_host[f]] += size[f]
            slots_left[fam_host[f]] += 1
        if fam_unit[f] >= 0:
            unit_left[fam_unit[f]] += size[f]
        fam_host[f], fam_unit[f] = h, u
        if h >= 0:
            beds_left[h] -= size[f]
            slots_left[h] -= 1
            new_pairs.append((f, h, host_cost(f, h)))
        if u >= 0:
            unit_left[u] -= size[f]

    for _ in range(rounds):
        changed = False
        # Insertions, the biggest saving first.
        while True:
            rest = np.flatnonzero(fam_host < 0)
            best_gain, best_move = 0, None
            for f in rest.tolist():
                c, h, u = best_elsewhere(f, -1)
                gain = cur_cost(f) - c
                if gain > best_gain and (h >= 0 or u != fam_unit[f]):
                    best_gain, best_move = gain, (f, h, u)
            if best_move is None:
                break
            move(*best_move)
            changed = True
        # Ejections: f takes g's place at a host where f fits once g leaves; g goes to its next best.
        for f in np.flatnonzero(fam_host < 0).tolist():
            hs, cs = _host_options(U, f, cache)
            if not len(hs):
                continue
            order = np.argsort(cs, kind="stable")[:20]
            for i in order.tolist():
                h, c = int(hs[i]), int(cs[i])
                if c >= cur_cost(f):
                    break
                done = False
                for g in np.flatnonzero(fam_host == h).tolist():
                    if beds_left[h] + size[g] < size[f]:
                        continue
                    c_g = host_cost(g, h)
                    alt_c, alt_h, alt_u = best_elsewhere(g, h)
                    if c + alt_c < cur_cost(f) + c_g:
                        move(g, alt_h, alt_u)
                        move(f, h, -1)
                        done = changed = True
                        break
                if done:
                    break
        if not changed:
            break
    if new_pairs:
        have = set((U.af * U.nH + U.ah).tolist())
        add = [(f, h, c) for f, h, c in dict.fromkeys(new_pairs) if f * U.nH + h not in have]
        if add:
            f_, h_, c_ = (np.array(x, dtype=np.int64) for x in zip(*add, strict=True))
            U.add(f_, h_, c_, _float_costs(U, f_, h_))
            o = np.argsort(U.af, kind="stable")
            U._set(U.af[o], U.ah[o], U.ac[o], U.acf[o])
            if len(U.sch):
                key = U.sch.f * U.nH + U.sch.h
                U.sch_in |= np.isin(key, f_ * U.nH + h_)
    return fam_host, fam_unit


def _float_costs(U: _Universe, f: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The spec's (unrounded) cost of pairs (f[i], h[i])."""
    out = np.zeros(len(f))
    sch = U.sch
    key = sch.f * U.nH + sch.h
    o = np.argsort(key, kind="stable")
    want = f * U.nH + h
    pos = np.searchsorted(key[o], want)
    found = (pos < len(key)) & (key[o][np.minimum(pos, max(len(key) - 1, 0))] == want) if len(key) else \
        np.zeros(len(f), bool)
    out[found] = sch.cost[o[pos[found]]]
    w_lang = U.p.inst.params.weights.no_common_language
    ns = ~found
    if ns.any():
        out[ns] = np.where(C.no_common_language(U.p, f[ns], h[ns]), w_lang, 0.0)
    return out


def _milp(U: _Universe, arcs: np.ndarray, deadline: float, unit_ok: np.ndarray | None = None,
          node_limit: int | None = None):
    """The exact model over the given pairs and every unit pair, by HiGHS (SciPy); status, solution, value, bound."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    p = U.p
    n_fam, n_unit = U.nF, len(p.u_beds)
    af, ah = U.af[arcs], U.ah[arcs]
    allowed = U.u_int < U.unplaced_int[:, None]
    if unit_ok is not None:
        allowed &= unit_ok
    uf, uu = np.nonzero(allowed) if n_unit else (np.zeros(0, np.int64),) * 2
    m, k = len(af), len(uf)
    n_col = m + k
    cost = np.concatenate([U.ac[arcs] - U.unplaced_int[af], U.u_int[uf, uu] - U.unplaced_int[uf]]).astype(float)
    fam = np.concatenate([af, uf])
    hosts = np.unique(ah)
    multi = hosts[p.h_slots[hosts] >= 2]
    is_multi = np.isin(ah, multi)
    n_h, n_m = len(hosts), len(multi)
    rows = np.concatenate([fam, n_fam + np.searchsorted(hosts, ah), n_fam + n_h + np.searchsorted(multi, ah[is_multi]),
                           n_fam + n_h + n_m + uu])
    cols = np.concatenate([np.arange(n_col), np.arange(m), np.flatnonzero(is_multi), m + np.arange(k)])
    vals = np.concatenate([np.ones(n_col), np.ones(m), p.f_size[af[is_multi]], p.f_size[uf]]).astype(float)
    n_row = n_fam + n_h + n_m + n_unit
    a = sparse.csr_matrix((vals, (rows, cols)), shape=(n_row, n_col))
    upper = np.concatenate([np.ones(n_fam), U.cap[hosts], p.h_beds[multi], p.u_beds]).astype(float)
    opts = {"time_limit": max(0.2, deadline - time.perf_counter()), "mip_rel_gap": 0.0, "presolve": True}
    if node_limit is not None:
        opts["node_limit"] = node_limit
    res = milp(cost / U.S, integrality=np.ones(n_col), bounds=Bounds(0, 1),
               constraints=LinearConstraint(a, -np.inf, upper), options=opts)
    if res.x is None:
        return None
    x = res.x > 0.5
    fam_host = np.full(n_fam, -1, dtype=np.int64)
    fam_unit = np.full(n_fam, -1, dtype=np.int64)
    fam_host[af[x[:m]]] = ah[x[:m]]
    fam_unit[uf[x[m:]]] = uu[x[m:]]
    base = int(U.unplaced_int.sum())
    value = _value(U, fam_host, fam_unit)
    dual = getattr(res, "mip_dual_bound", None)
    # HiGHS works in floating point: its bound is taken with a margin for its tolerances.
    bound = base + int(math.floor((dual if dual is not None else -np.inf) * U.S * (1 + 1e-9) - 1)) \
        if dual is not None and np.isfinite(dual) else None
    return ("OPTIMAL" if res.status == 0 else "FEASIBLE"), fam_host, fam_unit, value, bound


# --------------------------------------------------------------------------- a bound with whole host and unit choices


def _best_subset(vals: np.ndarray, sizes: np.ndarray, slots: int, beds: int) -> tuple[int, np.ndarray]:
    """The least sum of values (all negative) of at most `slots` items whose sizes fit in `beds`, and the
    table: [k, b] the least sum of exactly k items within b beds."""
    big = np.iinfo(np.int64).max // 4
    slots, beds = max(0, min(slots, len(vals))), max(0, min(beds, int(sizes.sum()) if len(sizes) else 0))
    dp = np.full((slots + 1, beds + 1), big, dtype=np.int64)
    dp[0, :] = 0
    for v, s_ in zip(vals.tolist(), sizes.tolist(), strict=True):
        if s_ > beds or slots == 0:
            continue
        prev = dp[:-1, :beds + 1 - s_]
        cand = np.where(prev < big, prev + v, big)
        dp[1:, s_:] = np.minimum(dp[1:, s_:], cand)
    return int(min(0, dp.min())), dp


def _knapsack_min(vals: np.ndarray, sizes: np.ndarray, beds: int) -> np.ndarray:
    """Per capacity b = 0..cap, the least sum of values (all negative) of items whose sizes fit in b;
    cap is the lesser of `beds` and all the items' sizes (more beds change nothing)."""
    beds = max(0, min(beds, int(sizes.sum())))
    dp = np.zeros(beds + 1, dtype=np.int64)
    for v, s_ in zip(vals.tolist(), sizes.tolist(), strict=True):
        if s_ <= beds:
            new = dp.copy()
            new[s_:] = np.minimum(dp[s_:], dp[:beds + 1 - s_] + v)
            dp = new
    return dp


@dataclass
class _Lagrange:
    """The bound at family values u, with what reduced-cost fixing needs."""

    bound: int
    u: np.ndarray
    host_best: np.ndarray                  # per host: value of its best set of families
    host_table: dict[int, np.ndarray]      # multi-family hosts: [k, b] least value of k families in b beds
    unit_table: list[np.ndarray]           # per unit: [b] least value within b beds


def _family_lagrange(U: _Universe, u: np.ndarray) -> _Lagrange:
    """A lower bound for the whole instance from a value u_f per family: each family's "exactly one place"
    is priced at u_f, and every host then takes its best set of families (slots and beds respected) and
    every unit its best set (beds respected), each solved exactly.
    """
    p = U.p
    size = p.f_size
    n_host = U.nH
    total = int(u.sum()) + int(np.minimum(0, U.unplaced_int - u).sum())
    slots, beds = U.cap, np.maximum(p.h_beds, 0)
    # Families with a schooled child: their pairs, listed, that gain at u.
    sch = U.sch
    v = U.sch_c - u[sch.f] if len(sch) else np.zeros(0, np.int64)
    neg = np.flatnonzero(v < 0)
    s_h, s_v, s_s = sch.h[neg], v[neg], size[sch.f[neg]]
    o = np.lexsort((s_v, s_h))
    s_h, s_v, s_s = s_h[o], s_v[o], s_s[o]
    s_start = np.searchsorted(s_h, np.arange(n_host + 1))
    single_best = np.zeros(n_host, dtype=np.int64)
    if len(s_h):
        first = s_start[:-1][s_start[:-1] < s_start[1:]]
        single_best[s_h[first]] = s_v[first]
    # Families without one, by class: each class's three highest u (members are interchangeable).
    cls = U.cls
    ns_items: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if len(cls.fams) and cls.compat.shape[1]:
        n_fc, n_hc = cls.compat.shape
        k_top = max(1, int(slots.max(initial=1)))
        top = np.full((n_fc, k_top), -_INF, dtype=np.int64)
        fc_size = np.zeros(n_fc, dtype=np.int64)
        for fc, mem in enumerate(cls.fc_members):
            if len(mem):
                uu = np.sort(u[mem])[::-1][:k_top]
                top[fc, :len(uu)] = uu
                fc_size[fc] = size[mem[0]]
        lang = np.where(cls.nolang, U.lang_int, 0)
        hc_single = np.zeros(n_hc, dtype=np.int64)
        multi_hc = set(cls.host_class[(slots >= 2) & (cls.host_class >= 0)].tolist())
        for hc in range(n_hc):
            ok = cls.compat[:, hc]
            if not ok.any():
                continue
            vals = (lang[ok, hc][:, None] - top[ok])
            hc_single[hc] = min(0, int(vals[:, 0].min()))
            if hc in multi_hc:
                vv, ss = vals.ravel(), np.repeat(fc_size[ok], k_top)
                keep = vv < 0
                vv, ss = vv[keep], ss[keep]
                # A host uses at most k_top families of one size: each size's k_top best are enough.
                o2 = np.lexsort((vv, ss))
                vv, ss = vv[o2], ss[o2]
                rank = np.arange(len(ss)) - np.searchsorted(ss, ss)
                ns_items[hc] = (vv[rank < k_top], ss[rank < k_top])
        has = cls.host_class >= 0
        single_best[has] = np.minimum(single_best[has], hc_single[cls.host_class[has]])
    one = slots == 1
    host_best = np.where(one, single_best, 0)
    host_table: dict[int, np.ndarray] = {}
    total += int(host_best.sum())
    for h in np.flatnonzero(slots >= 2).tolist():
        a, b = s_start[h], s_start[h + 1]
        vals, sizes = s_v[a:b], s_s[a:b]
        hc = int(cls.host_class[h]) if len(cls.host_class) else -1
        if hc in ns_items:
            vals = np.concatenate([vals, ns_items[hc][0]])
            sizes = np.concatenate([sizes, ns_items[hc][1]])
        if len(vals) and int(slots[h]) < len(vals):
            # Only each size's `slots` best can be in the best set.
            o3 = np.lexsort((vals, sizes))
            vals, sizes = vals[o3], sizes[o3]
            rank = np.arange(len(sizes)) - np.searchsorted(sizes, sizes)
            keep = rank < int(slots[h])
            vals, sizes = vals[keep], sizes[keep]
        best, table = _best_subset(vals, sizes, int(slots[h]), int(beds[h]))
        host_best[h] = best
        host_table[h] = table
        total += best
    unit_table = []
    for k in range(len(p.u_beds)):
        vu = np.where(U.u_int[:, k] < _INF, U.u_int[:, k] - u, 0)
        sel = np.flatnonzero(vu < 0)
        table = _knapsack_min(vu[sel], size[sel], int(p.u_beds[k]))
        unit_table.append(table)
        total += int(table[-1])
    return _Lagrange(total, u, host_best, host_table, unit_table)


def _host_extra(U: _Universe, lag: _Lagrange, f_size: int) -> np.ndarray:
    """Per host: the least cost, at the family values, of the rest of its set when one family of
    `f_size` persons is in it, less the host's best set (a lower bound on what taking it forgoes)."""
    p = U.p
    extra = -lag.host_best.copy()
    extra[(U.cap < 1) | (p.h_beds < f_size)] = _INF
    for h, table in lag.host_table.items():
        if p.h_beds[h] >= f_size:
            rows = min(int(U.cap[h]), table.shape[0])
            col = min(int(p.h_beds[h]) - f_size, table.shape[1] - 1)
            extra[h] = int(table[:rows, col].min()) - lag.host_best[h]
    return extra


def _pair_reduced(U: _Universe, lag: _Lagrange) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Reduced cost of every restricted pair at the family values, and the per-size host terms used."""
    size = U.p.f_size
    extras = {s_: _host_extra(U, lag, s_) for s_ in np.unique(size).tolist()}
    red = U.ac - lag.u[U.af]
    for s_, ex in extras.items():
        sel = size[U.af] == s_
        red[sel] += ex[U.ah[sel]]
    return red, extras


def _add_within_lagrange(U: _Universe, lag: _Lagrange, gap: int, limit: int) -> bool:
    """Bring in every pair of the instance whose reduced cost is at most `gap`; False when over `limit`."""
    size = U.p.f_size
    extras = {s_: _host_extra(U, lag, s_) for s_ in np.unique(size).tolist()}
    sch = U.sch
    n_new = 0
    if len(sch):
        ex = np.zeros(len(sch), dtype=np.int64)
        for s_, e in extras.items():
            sel = size[sch.f] == s_
            ex[sel] = e[sch.h[sel]]
        red = U.sch_c - lag.u[sch.f] + ex
        idx = np.flatnonzero((~U.sch_in) & (red <= gap))
        n_new += len(idx)
        if len(U.af) + n_new > limit:
            return False
        if len(idx):
            U.sch_in[idx] = True
            U.add(sch.f[idx], sch.h[idx], U.sch_c[idx], sch.cost[idx])
    cls = U.cls
    if not U.full and len(cls.fams) and cls.compat.shape[1]:
        w_lang = U.p.inst.params.weights.no_common_language
        present = set((U.af * U.nH + U.ah).tolist())
        fs, hs, cs = [], [], []
        mins = {s_: _class_min_D(U, np.minimum(e, _INF)) for s_, e in extras.items()}
        for fc, members in enumerate(cls.fc_members):
            if not len(members):
                continue
            s_ = int(size[members[0]])
            ex, hmin = extras[s_], mins[s_]
            top = int(lag.u[members].max())
            lang = np.where(cls.nolang[fc], U.lang_int, 0)
            for c in np.flatnonzero(cls.compat[fc] & (lang + hmin - top <= gap)).tolist():
                mem = cls.hc_members[c]
                base = lang[c] + ex[mem]
                for f in members.tolist():
                    hit = mem[base - lag.u[f] <= gap]
                    for h in hit.tolist():
                        if f * U.nH + h not in present:
                            fs.append(f)
                            hs.append(h)
                            cs.append(int(lang[c]))
                    if len(U.af) + len(fs) > limit:
                        return False
        if fs:
            c_arr = np.array(cs, dtype=np.int64)
            U.add(np.array(fs, dtype=np.int64), np.array(hs, dtype=np.int64), c_arr,
                  np.where(c_arr > 0, w_lang, 0.0))
    o = np.argsort(U.af, kind="stable")
    U._set(U.af[o], U.ah[o], U.ac[o], U.acf[o])
    return True


def _unit_reduced(U: _Universe, lag: _Lagrange) -> np.ndarray:
    """Reduced cost of each family in each unit at the family values (_INF where not allowed)."""
    p = U.p
    out = np.full(U.u_int.shape, _INF, dtype=np.int64)
    for k, table in enumerate(lag.unit_table):
        cap = len(table) - 1
        ok = (U.u_int[:, k] < _INF) & (p.f_size <= p.u_beds[k])
        rest = table[np.clip(p.u_beds[k] - p.f_size, 0, cap)]
        out[:, k] = np.where(ok, U.u_int[:, k] - lag.u + rest - table[cap], _INF)
    return out
