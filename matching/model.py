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

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model

from matching import candidates as C
from matching.geo import haversine_km
from matching.schema import Instance, Placement, Solution, Unplaced

Progress = Callable[[float, str, "float | None"], None]

_INF = np.int64(1) << np.int64(60)
FULL_PAIRS = 150_000          # up to this many pairs in all, no pricing: every pair is listed
K_SCHOOLED = 10               # first candidates per family with a schooled child
K_NS = 8                      # first candidates per family without one
ADD_PER_FAMILY = 16            # pairs added per family and pricing round
CPSAT_MAX_PAIRS = 400_000     # CP-SAT is not given larger models (see the solver notes)


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
    """A power of ten so that integer costs, and their sum, stay exact in a double.

    At most 10**6 per unit (a millimetre per km): CP-SAT's LP mis-proved bounds with 10**9.
    """
    w = prep.inst.params.weights
    kids = max([sum(c for _, c in sc) for sc in prep.f_schools] or [0])
    worst = max([1.0, float(prep.unplaced_cost.max(initial=0.0)),
                 float(np.where(np.isfinite(prep.u_cost), prep.u_cost, 0).max(initial=0.0)),
                 w.school_km * prep.inst.params.max_school_km * kids + w.no_common_language])
    k = math.floor(math.log10(2.0 ** 52 / (worst * max(1, prep.n_fam + 1))))
    return 10.0 ** max(0, min(6, k))


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
    u = np.minimum(D_f, fb)
    added = 0
    sch = U.sch
    if len(sch):
        neg = (~U.sch_in) & (U.sch_c + D_h[sch.h] < u[sch.f])
        idx = np.flatnonzero(neg)
        if len(idx):
            # At most ADD_PER_FAMILY per family, the most negative first.
            r = (U.sch_c + D_h[sch.h] - u[sch.f])[idx]
            o = np.lexsort((r, sch.f[idx]))
            idx = idx[o]
            start = np.searchsorted(sch.f[idx], sch.f[idx])
            idx = idx[(np.arange(len(idx)) - start) < ADD_PER_FAMILY]
            U.sch_in[idx] = True
            U.add(sch.f[idx], sch.h[idx], U.sch_c[idx], sch.cost[idx])
            added += len(idx)
    cls = U.cls
    if len(cls.fams) and cls.compat.shape[1]:
        hmin = _class_min_D(U, D_h)
        mfc = _class_row_min(U, hmin)
        viol = cls.fams[u[cls.fams] > mfc[cls.fam_class]]
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
    if added:
        o = np.argsort(U.af, kind="stable")
        U._set(U.af[o], U.ah[o], U.ac[o], U.acf[o])
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


def _cpsat(U: _Universe, arcs: np.ndarray, hint: tuple[np.ndarray, np.ndarray], time_limit: float,
           workers: int, lower: int) -> tuple[str, np.ndarray, np.ndarray, int, int] | None:
    """Joint model over the given restricted arcs and every unit column; returns status, solution, value, bound."""
    p = U.p
    nF = U.nF
    m = cp_model.CpModel()
    af, ah, ac = U.af[arcs], U.ah[arcs], U.ac[arcs]
    x = [m.new_bool_var("") for _ in range(len(arcs))]
    fu_f, fu_u = np.nonzero(U.u_int < U.unplaced_int[:, None])
    z = [m.new_bool_var("") for _ in range(len(fu_f))]
    by_f: list[list] = [[] for _ in range(nF)]
    for i, f in enumerate(af.tolist()):
        by_f[f].append(x[i])
    for i, f in enumerate(fu_f.tolist()):
        by_f[f].append(z[i])
    for lits in by_f:
        if len(lits) > 1:
            m.add_at_most_one(lits)
    order = np.argsort(ah, kind="stable")
    hs, starts = np.unique(ah[order], return_index=True)
    ends = np.append(starts[1:], len(order)) if len(starts) else starts
    for h, a, b in zip(hs.tolist(), starts.tolist(), ends.tolist(), strict=True):
        idx = order[a:b]
        sz = p.f_size[af[idx]]
        if p.h_slots[h] < len(idx):
            if p.h_slots[h] == 1:
                m.add_at_most_one([x[i] for i in idx.tolist()])
            else:
                m.add(sum(x[i] for i in idx.tolist()) <= int(p.h_slots[h]))
        if np.sort(sz)[::-1][:max(0, int(p.h_slots[h]))].sum() > p.h_beds[h]:
            m.add(sum(int(s) * x[i] for s, i in zip(sz.tolist(), idx.tolist(), strict=True)) <= int(p.h_beds[h]))
    for u in range(len(p.u_beds)):
        sel = np.flatnonzero(fu_u == u)
        if p.f_size[fu_f[sel]].sum() > p.u_beds[u]:
            m.add(sum(int(p.f_size[fu_f[i]]) * z[i] for i in sel.tolist()) <= int(p.u_beds[u]))
    base = int(U.unplaced_int.sum())
    coef_x = (ac - U.unplaced_int[af]).tolist()
    coef_z = (U.u_int[fu_f, fu_u] - U.unplaced_int[fu_f]).tolist()
    obj = sum(c * v for c, v in zip(coef_x, x, strict=True)) + sum(c * v for c, v in zip(coef_z, z, strict=True))
    m.minimize(obj)
    hh, hu = hint
    hint_arc = {(int(f), int(h)) for f, h in enumerate(hh.tolist()) if h >= 0}
    for i, (f, h) in enumerate(zip(af.tolist(), ah.tolist(), strict=True)):
        m.add_hint(x[i], (f, h) in hint_arc)
    for i, (f, u) in enumerate(zip(fu_f.tolist(), fu_u.tolist(), strict=True)):
        m.add_hint(z[i], hh[f] < 0 and hu[f] == u)
    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = max(0.5, time_limit)
    s.parameters.num_workers = max(1, workers)
    if workers == 2:
        # The default 2-worker portfolio has no max_lp worker and never closes the bound.
        for name in ("default_lp", "max_lp"):
            s.parameters.subsolvers.append(name)
    elif workers <= 1:
        s.parameters.linearization_level = 2
    st = s.solve(m)
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    fam_host = np.full(nF, -1, dtype=np.int64)
    fam_unit = np.full(nF, -1, dtype=np.int64)
    xv = np.array([s.boolean_value(v) for v in x], dtype=bool) if x else np.zeros(0, bool)
    zv = np.array([s.boolean_value(v) for v in z], dtype=bool) if z else np.zeros(0, bool)
    fam_host[af[xv]] = ah[xv]
    fam_unit[fu_f[zv]] = fu_u[zv]
    value = base + int(round(s.objective_value))
    bound = base + int(math.ceil(s.best_objective_bound - 1e-9))
    return ("OPTIMAL" if st == cp_model.OPTIMAL else "FEASIBLE"), fam_host, fam_unit, value, bound


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
        elif not _host_beds_may_bind(U):
            fam_host, fam_unit, value, bound_int, status = _benders(U, r, end, workers, progress)
        else:
            fam_host, fam_unit, value, bound_int, status = _joint(U, r, lam, end, workers, progress)
    _report(progress, 0.95, "writing the solution", None)
    return _assemble(inst, U, fam_host, fam_unit, value, bound_int, status, t0)


def _host_beds_may_bind(U: _Universe) -> bool:
    """True when some host may take several families whose sizes together could exceed its beds."""
    p = U.p
    multi = np.flatnonzero(p.h_slots >= 2)
    if not len(multi) or not U.nF:
        return False
    sizes = np.sort(p.f_size)
    # The biggest family that fits each host, times its slots, against its beds.
    k = np.searchsorted(sizes, p.h_beds[multi], side="right") - 1
    biggest = np.where(k >= 0, sizes[np.maximum(k, 0)], 0)
    return bool(np.any(biggest * np.minimum(p.h_slots[multi], U.nF) > p.h_beds[multi]))


def _narrow(U: _Universe, r: _R, keep: int = 6) -> _Universe:
    """A view of U on the pairs that matter most at R's duals: each family's `keep` lowest reduced costs.

    Used only to make cuts and incumbents quickly: cuts stay valid whatever pairs the flow saw, because
    their family terms are minimised over every pair of the instance.
    """
    red = U.ac + r.D_h[U.ah] - r.m_f[U.af]
    o = np.lexsort((red, U.af))
    start = np.searchsorted(U.af[o], U.af[o])
    sel = np.zeros(len(U.af), dtype=bool)
    sel[o[(np.arange(len(o)) - start) < keep]] = True
    sel |= red <= 0
    on = r.fam_host >= 0
    sel[_arc_lookup(U, r.fam_host)[on]] = True
    V = copy.copy(U)
    idx = np.flatnonzero(sel)
    V._set(U.af[idx], U.ah[idx], U.ac[idx], U.acf[idx])
    V.full = True
    return V


def _benders(U: _Universe, r: _R, deadline: float, workers: int, progress):
    """Units bind, hosts take one family each (or beds cannot bind): Benders over who goes to units.

    For any set Z of families in units, the rest is an assignment problem V(Z), and every pair of
    potentials (D_h >= 0, u_f = min(unplaced_f, min_h c_fh + D_h)) gives the cut
    V(Z) >= sum_{f not in Z} u_f - sum_h cap_h D_h. The master picks Z under the unit beds against
    all cuts so far (a lower bound); the assignment for its Z is a feasible solution (an upper bound).
    """
    p = U.p
    nF, n_u = U.nF, len(p.u_beds)
    b = U.unplaced_int
    best_h, best_u = _repair(U, r.fam_host)
    ub = _value(U, best_h, best_u)
    lb = r.lb
    cuts: list[tuple[int, np.ndarray]] = []

    def add_cut(D_h: np.ndarray) -> None:
        m = _column_min(U, b, D_h)
        cuts.append((int(m.sum() - (U.cap * D_h).sum()), m))

    add_cut(r.D_h)
    unit_min = U.u_int.min(axis=1) if n_u else np.full(nF, _INF)
    # Lagrange prices on unit beds: each R(lam) gives potentials for a sharper cut.
    lam = np.zeros(n_u, dtype=np.int64)
    step_scale, cur, best_l = 1.0, r, r.lb
    t_sub = 0.0
    V = _narrow(U, r) if not U.full else U
    # At most about a third of the time left goes to the prices; the rest to the Benders rounds.
    lag_end = time.perf_counter() + 0.35 * max(0.0, deadline - time.perf_counter())
    for _ in range(8):
        if time.perf_counter() > lag_end or step_scale < 0.1:
            break
        fb, fb_unit = _fallback(U, lam)
        sel = (cur.fam_host < 0) & (fb_unit >= 0)
        g = np.bincount(fb_unit[sel], weights=p.f_size[sel], minlength=n_u) - p.u_beds
        g = np.where((lam <= 0) & (g < 0), 0, g)
        if not np.any(g):
            break
        lam = np.maximum(0, lam + np.rint(step_scale * (ub - best_l) / float((g ** 2).sum()) * g)).astype(np.int64)
        fb, fb_unit = _fallback(U, lam)
        t_r = time.perf_counter()
        cur = _solve_R(V, fb, deadline, None, (0.5, 0.5), max_rounds=1)
        t_sub = time.perf_counter() - t_r
        l_val = cur.lb - int((lam * p.u_beds).sum())
        if l_val > best_l:
            best_l = l_val
        else:
            step_scale *= 0.5
        add_cut(cur.D_h)
        h2, u2 = _repair(U, cur.fam_host)
        v2 = _value(U, h2, u2)
        if v2 < ub:
            ub, best_h, best_u = v2, h2, u2
    lb = max(lb, best_l)
    it = 0
    while ub > lb and time.perf_counter() < deadline:
        it += 1
        mk = np.max(np.stack([c[1] for c in cuts]), axis=0)
        cand = np.flatnonzero(mk > unit_min)
        # Time is kept for the assignment that turns the master's choice into a solution.
        res = _master(U, cuts, cand, deadline - time.perf_counter() - 1.5 * t_sub, workers,
                      np.where(best_h < 0, best_u, -1))
        if res is None:
            break
        fam_unit, m_val, m_bound, m_opt = res
        lb = max(lb, m_bound)
        _report(progress, min(0.9, 0.5 + 0.05 * it), f"units round {it}: bound {_as_float(U, lb):.3f}",
                _as_float(U, ub))
        if ub <= lb:
            break
        active = fam_unit < 0
        # The narrow view first; if that does not close the gap, the full pair set with pricing.
        rs = _solve_R(V if it == 1 else U, b, deadline, None, (0.5, 0.5), active=active,
                      max_rounds=1 if it == 1 else 3)
        fam_host = np.where(active, rs.fam_host, -1)
        h2, u2 = _fill_units(U, fam_host, fam_unit)
        v2 = _value(U, h2, u2)
        if v2 < ub:
            ub, best_h, best_u = v2, h2, u2
        add_cut(rs.D_h)
        if not m_opt:
            break
    status = "OPTIMAL" if ub <= lb else "FEASIBLE"
    return best_h, best_u, ub, min(lb, ub), status


def _fill_units(U: _Universe, fam_host: np.ndarray, fam_unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Put unplaced families into leftover unit beds where that is cheaper, biggest saving per bed first."""
    p = U.p
    fam_unit = fam_unit.copy()
    if not len(p.u_beds):
        return fam_host, fam_unit
    used = np.bincount(fam_unit[fam_unit >= 0], weights=p.f_size[fam_unit >= 0], minlength=len(p.u_beds))
    left = p.u_beds - used.astype(np.int64)
    rest = np.flatnonzero((fam_host < 0) & (fam_unit < 0))
    if len(rest):
        gain = (U.unplaced_int[rest][:, None] - U.u_int[rest]).max(axis=1)
        for f in rest[np.argsort(-gain / p.f_size[rest], kind="stable")].tolist():
            cand = np.flatnonzero((U.u_int[f] < U.unplaced_int[f]) & (left >= p.f_size[f]))
            if len(cand):
                u = int(cand[np.argmin(U.u_int[f, cand])])
                fam_unit[f] = u
                left[u] -= p.f_size[f]
    return fam_host, fam_unit


def _master(U: _Universe, cuts: list[tuple[int, np.ndarray]], cand: np.ndarray, time_limit: float,
            workers: int, hint: np.ndarray) -> tuple[np.ndarray, int, int, bool] | None:
    """Benders master: which candidate families go to which unit, under the unit beds and every cut."""
    p = U.p
    m = cp_model.CpModel()
    ff, uu = np.nonzero(U.u_int[cand] < _INF) if len(cand) else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    ff = cand[ff]
    z = [m.new_bool_var("") for _ in range(len(ff))]
    by_f: dict[int, list] = {}
    for i, f in enumerate(ff.tolist()):
        by_f.setdefault(f, []).append(z[i])
    for lits in by_f.values():
        if len(lits) > 1:
            m.add_at_most_one(lits)
    for u in range(len(p.u_beds)):
        sel = np.flatnonzero(uu == u)
        if len(sel) and p.f_size[ff[sel]].sum() > p.u_beds[u]:
            m.add(sum(int(p.f_size[ff[i]]) * z[i] for i in sel.tolist()) <= int(p.u_beds[u]))
    # theta is kept relative to the largest cut constant: CP-SAT's LP loses exactness with huge numbers.
    consts = [c for c, _ in cuts]
    base = max(consts)
    lo = min(consts) - base - max(int(np.abs(mm[cand]).sum()) for _, mm in cuts) - 1
    theta = m.new_int_var(lo, 1, "theta")
    for const, mm in cuts:
        m.add(theta >= const - base - sum(int(mm[f]) * z[i] for i, f in enumerate(ff.tolist())))
    m.minimize(theta + sum(int(U.u_int[f, u]) * z[i] for i, (f, u) in enumerate(zip(ff.tolist(), uu.tolist(),
                                                                                      strict=True))))
    for i, (f, u) in enumerate(zip(ff.tolist(), uu.tolist(), strict=True)):
        m.add_hint(z[i], bool(hint[f] == u))
    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = max(0.2, time_limit)
    s.parameters.num_workers = max(1, workers)
    if workers == 2:
        for name in ("default_lp", "max_lp"):
            s.parameters.subsolvers.append(name)
    elif workers <= 1:
        s.parameters.linearization_level = 2
    st = s.solve(m)
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    fam_unit = np.full(U.nF, -1, dtype=np.int64)
    for i, (f, u) in enumerate(zip(ff.tolist(), uu.tolist(), strict=True)):
        if s.boolean_value(z[i]):
            fam_unit[f] = u
    return (fam_unit, base + int(round(s.objective_value)), base + int(math.ceil(s.best_objective_bound - 1e-6)),
            st == cp_model.OPTIMAL)


def _joint(U: _Universe, r: _R, lam: np.ndarray, deadline: float, workers: int, progress):
    """Beds bind: Lagrange prices on unit beds for the bound, then CP-SAT on the pairs within the gap."""
    p = U.p
    best_h, best_u = _repair(U, r.fam_host)
    ub = _value(U, best_h, best_u)
    lb, lb_D, lb_m = r.lb, r.D_h, r.m_f
    _report(progress, 0.5, "beds bind: pricing unit and host beds", _as_float(U, ub))
    n_u = len(p.u_beds)
    multi = p.h_slots >= 2
    mu = np.zeros(U.nH, dtype=np.int64)
    lb_mu = mu.copy()
    step_scale = 1.0
    fam_host = r.fam_host
    fb, fb_unit = _fallback(U, lam)
    # Subgradient steps on the prices of unit beds (lam) and multi-family host beds (mu); each flow on
    # the current pairs gives potentials, and the bound minimises every family over all its pairs.
    lag_end = time.perf_counter() + 0.4 * max(0.0, deadline - time.perf_counter())
    for it in range(400):
        if time.perf_counter() > lag_end or step_scale < 0.01 or ub <= lb:
            break
        off = (fam_host < 0) & (fb_unit >= 0)
        g_u = np.bincount(fb_unit[off], weights=p.f_size[off], minlength=n_u) - p.u_beds
        g_u = np.where((lam <= 0) & (g_u < 0), 0, g_u)
        on = fam_host >= 0
        g_h = np.bincount(fam_host[on], weights=p.f_size[on], minlength=U.nH) - p.h_beds
        g_h = np.where(multi & ((mu > 0) | (g_h > 0)), g_h, 0)
        norm = float((g_u.astype(float) ** 2).sum() + (g_h.astype(float) ** 2).sum())
        if norm == 0:
            break
        # Polyak step towards a target a little above the bound (the repaired incumbent can be poor).
        target = min(ub, lb + max(abs(lb) // 50, int(U.S)))
        step = step_scale * (target - lb) / norm
        lam = np.maximum(0, lam + np.rint(step * g_u)).astype(np.int64)
        mu = np.maximum(0, mu + np.rint(step * g_h)).astype(np.int64)
        fb, fb_unit = _fallback(U, lam)
        costs = U.ac + mu[U.ah] * p.f_size[U.af]
        fam_arc, _ = _flow(U, fb, costs=costs)
        D_f, D_h = _potentials(U, fb, fam_arc, costs=costs)
        m_f = _column_min_mu(U, fb, D_h, mu)
        cand_lb = int(m_f.sum() - (U.cap * D_h).sum() - (lam * p.u_beds).sum() - (mu * p.h_beds).sum())
        if cand_lb > lb:
            lb, lb_mu, lb_D, lb_m = cand_lb, mu.copy(), D_h, m_f
        else:
            step_scale *= 0.8
        fam_host = np.where(fam_arc >= 0, U.ah[np.maximum(fam_arc, 0)], -1) if len(U.ah) else np.full(U.nF, -1)
        h2, u2 = _repair(U, fam_host)
        v2 = _value(U, h2, u2)
        if v2 < ub:
            ub, best_h, best_u = v2, h2, u2
        _report(progress, 0.6, f"bound round {it + 1}: {_as_float(U, lb):.3f}", _as_float(U, ub))

    # Pairs whose reduced cost (at the best prices) is within the gap: only they can improve on ub.
    gap = ub - lb
    red = U.ac + lb_mu[U.ah] * p.f_size[U.af] + lb_D[U.ah] - lb_m[U.af]
    arcs = np.flatnonzero(red <= gap)
    # Leaving mu out below only lowers reduced costs, so the test stays on the safe side.
    complete = _outside_exceeds(U, lb_D, lb_m, gap)
    hint_pos = _arc_lookup(U, best_h)
    arcs = np.union1d(arcs, hint_pos[hint_pos >= 0])
    if len(arcs) > CPSAT_MAX_PAIRS:
        keep = np.argsort(red[arcs], kind="stable")[:CPSAT_MAX_PAIRS]
        arcs = np.union1d(arcs[keep], hint_pos[hint_pos >= 0])
        complete = False
    remaining = deadline - time.perf_counter()
    status = "FEASIBLE"
    if remaining > 0.2 and ub > lb:
        _report(progress, 0.7, f"CP-SAT on {len(arcs)} pairs", _as_float(U, ub))
        res = _cpsat(U, arcs, (best_h, best_u), remaining, workers, lb)
        if res is not None:
            st, h3, u3, v3, b3 = res
            if v3 <= ub:
                ub, best_h, best_u = v3, h3, u3
            if complete:
                # Every pair outside the model has reduced cost above ub - lb: the model's bound holds.
                lb = max(lb, min(b3, ub))
                if st == "OPTIMAL":
                    lb = ub
    if ub <= lb:
        status, lb = "OPTIMAL", ub
    return best_h, best_u, ub, lb, status


def _outside_exceeds(U: _Universe, D_h: np.ndarray, m_f: np.ndarray, gap: int) -> bool:
    """True when every pair not in the restricted set has reduced cost above `gap`."""
    sch = U.sch
    if len(sch):
        out = ~U.sch_in
        if np.any(U.sch_c[out] + D_h[sch.h[out]] - m_f[sch.f[out]] <= gap):
            return False
    if U.full:
        return True
    cls = U.cls
    if len(cls.fams) and cls.compat.shape[1]:
        # Any host within the gap for a family that the restricted set does not already cover fully.
        hmin = _class_min_D(U, D_h)
        mfc = _class_row_min(U, hmin)
        thr = m_f[cls.fams] + gap
        for i, f in enumerate(cls.fams.tolist()):
            fc = cls.fam_class[i]
            if mfc[fc] > thr[i]:
                continue
            hcs = np.flatnonzero(_class_row(U, fc, hmin) <= thr[i])
            if not len(hcs):
                continue
            n_in = int((U.af == f).sum())
            tot = sum(int(np.sum((U.lang_int if cls.nolang[fc, c] else 0) + D_h[cls.hc_members[c]] <= thr[i]))
                      for c in hcs.tolist())
            if tot > n_in:
                return False
    return True


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
    # The bound is on integer-rounded costs: widen it by the rounding, so it stays a true bound.
    if status == "OPTIMAL":
        bound = obj
    else:
        bound = min(obj, bound_int / U.S + p.fixed_cost - 0.5 * (U.nF + 1) / U.S)
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
