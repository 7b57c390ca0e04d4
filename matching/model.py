"""The exact matcher.

The model
---------
Choose for every free family exactly one of: a host, a municipal unit, or "unplaced".

- Objective (minimise): the sum of the families' costs (docs/matching-format.md): a host costs the school km
  of its children times `school_km`, plus `no_common_language` when they share no language; a unit
  costs `unit_per_person` times the family size plus the school km; "unplaced" costs
  `unplaced_per_person` times the size. Fixed placements are kept and their cost added.
- Pairs: a family may go to a host only when the pair rules hold (children, step-free access, pets,
  smoking, availability, school distance, not forbidden) and the host's beds hold the family.
- Host constraints: at most `max_families` families (its slots) and at most its beds in persons.
- Unit constraints: at most the unit's beds in persons.

Costs are rounded to integers at a power-of-ten scale (`_scale`; min-cost flow alone may see them
coarser, `_flow_div`); the reported bound is widened by every rounding (`_rounding`), so OPTIMAL is a
claim about the real costs, not the rounded ones. With extreme weights the costs are first capped at a
known solution's value (`_cap_costs`): that keeps the same optima and lets the scale be fine.

How it is solved
----------------
1. The relaxation: hosts keep their slots, units and beds are ignored; a family's fallback is its
   cheapest unit or being unplaced. That is an assignment problem: OR-Tools' min-cost flow solves it
   on a restricted set of pairs, and every left-out pair is priced (families without a schooled child
   class by class) until none would lower it. If that answer also fits every host's and unit's beds,
   it is optimal for the whole instance.
2. Otherwise beds bind. Column generation on the LP relaxation (HiGHS through SciPy), with two valid
   rows more at hosts taking several families (a family too big to share counts for every slot;
   families over half the beds exclude each other), gives a value u_f for each family's "exactly one
   place". With those values every host chooses its best set of families (slots and beds, solved
   exactly) and every unit its best set (a knapsack, solved exactly); the sum is a lower bound for
   the whole instance (`_family_lagrange`), tighter than the LP's.
3. A first solution comes from the LP's whole pairs and units, repaired and improved (`_improve`:
   insertions into free room, one-for-one ejections, until neither finds anything). HiGHS then solves
   the exact model on the LP's own pairs and on each family's 4 nearest pairs (quick stages with
   branch-and-bound node limits), and finally on every column of the instance whose reduced cost is
   within the gap between the best solution and the bound, families without a schooled child counted
   by class (`_aggregated_model`): no other column can be in a better solution, so that model's bound
   is the instance's, and HiGHS stops once it proves OPTIMAL (`_proof_gap`). When that model is too
   big, each family's 16 nearest pairs instead.

Work is limited by counts (rounds, nodes), not by the clock, so the same input gives the same answer
under any machine load; the clock only stops a search that would overrun the time limit.

Names: `cols` holds the columns (family–host pairs in use, costs in integers at `cols.scale`);
`host_price` is the price of a host's slot, `bed_price` of a host's bed, `unit_price` of a unit's
bed, `fallback` a family's cost when it has no host.

The model in words and maths, with the solver's stages: docs/matching-model.md.
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
OPTIMAL_REL_TOL = 1e-6        # OPTIMAL: the true bound, all rounding counted, is this close (as validate allows)


@dataclass
class _Relaxation:
    """One solve of the relaxation R: assignment, duals and a valid bound."""

    fam_host: np.ndarray      # host per family, -1: fallback
    cost: int                 # R's value on the arcs it had
    host_price: np.ndarray    # price of a slot at each host (>= 0): minus the host's flow potential
    fam_min: np.ndarray       # per family: least cost + host_price over all its options (fallback included)
    lb: int                   # valid lower bound on R (scaled units), for the whole instance
    certified: bool           # no negative reduced cost left: cost == lb


class _Columns:
    """Every column of the instance: listed pairs, classes for the rest, and the restricted set in use."""

    def __init__(self, prep: C.Prep, scale: float, rng: np.random.Generator):
        self.p = prep
        self.scale = scale
        self.cap = math.inf       # every cost is taken as at most this (`recost`); never below a known solution
        self.flow_div = _flow_div(prep, scale)
        self.rng = rng
        self.n_fam, self.n_host = prep.n_fam, prep.n_host
        w = prep.inst.params.weights
        self.sch = C.schooled_pairs(prep)
        self.sch_c = self.to_int(self.sch.cost)
        # The pairs come sorted by family: each family's first pair, without another sort.
        starts = np.flatnonzero(np.r_[True, self.sch.f[1:] != self.sch.f[:-1]]) if len(self.sch) else \
            np.zeros(0, np.int64)
        self.sch_seg = (self.sch.f[starts], starts)
        self.cls = C.ns_classes(prep)
        self.lang_int = int(self.to_int(np.array([w.no_common_language]))[0])
        self.ns_count = C.count_ns_pairs(self.cls)
        self.full = len(self.sch) + self.ns_count <= FULL_PAIRS
        self.slots = np.maximum(prep.h_slots, 0)
        self.unplaced_int = self.to_int(prep.unplaced_cost)
        self.u_int = np.where(np.isfinite(prep.u_cost), self.to_int(np.where(np.isfinite(prep.u_cost),
                                                                               prep.u_cost, 0.0)), _INF)
        # ns class bookkeeping for pricing
        cls = self.cls
        self.fc_of = np.full(self.n_fam, -1, dtype=np.int64)
        self.fc_of[cls.fams] = cls.fam_class
        self.cnt_dear = np.zeros(cls.compat.shape[0], dtype=np.int64)
        step = max(1, 4_000_000 // max(1, cls.compat.shape[1]))
        for a in range(0, cls.compat.shape[0], step):
            self.cnt_dear[a:a + step] = np.count_nonzero(cls.compat[a:a + step] & cls.nolang[a:a + step], axis=1)
        self.cnt_cheap = np.count_nonzero(cls.compat, axis=1) - self.cnt_dear
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
            # Sorted by family, then cost: one key when it fits (a plain sort is much faster than lexsort).
            top_c = int(self.sch_c.max(initial=0)) + 1
            if top_c * max(1, self.n_fam) < 2 ** 62:
                order = np.argsort(f * top_c + self.sch_c, kind="stable")
            else:
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
        """Costs in the solver's integer units (capped at `cap`)."""
        return np.rint(np.minimum(np.asarray(x, dtype=float), self.cap) * self.scale).astype(np.int64)

    def recost(self, cap: float) -> None:
        """Cap every cost at `cap` (in the format's units) and choose the scale again for the capped costs.

        Costs are never negative, so with `cap` above the value of some solution, no option dearer than
        `cap` can be in an optimal one: the capped problem has the same optima, and any bound for it is a
        bound for the real one (capping only lowers costs). With extreme weights this keeps the integer
        scale as fine as the objective needs, instead of as coarse as the dearest option demands.
        """
        p = self.p
        self.cap = cap
        self.scale = _scale(p, cap)
        self.flow_div = _flow_div(p, self.scale, cap)
        self.sch_c = self.to_int(self.sch.cost)
        self.lang_int = int(self.to_int(np.array([p.inst.params.weights.no_common_language]))[0])
        self.unplaced_int = self.to_int(p.unplaced_cost)
        self.u_int = np.where(np.isfinite(p.u_cost), self.to_int(np.where(np.isfinite(p.u_cost), p.u_cost, 0.0)),
                              _INF)
        self.pair_cost = self.to_int(self.pair_real)

    def _set(self, f, h, c, cf) -> None:
        self.pair_fam, self.pair_host, self.pair_cost, self.pair_real = f, h, c, cf

    def add(self, f, h, c, cf) -> None:
        """Add pairs to the restricted set."""
        self._set(np.concatenate([self.pair_fam, f]), np.concatenate([self.pair_host, h]),
                  np.concatenate([self.pair_cost, c]), np.concatenate([self.pair_real, cf]))


def _scale(prep: C.Prep, cap: float = math.inf) -> float:
    """A power of ten so that integer costs, and the sum of every family's dearest option, stay far below
    int64's range (and the solver's `_INF`).

    At most 10**6 per unit (a millimetre per km). With extreme weights it is coarser, unless the costs
    are capped at a known solution's value (`_Columns.recost`): the rounding is always accounted for in
    the bound (`_rounding`).
    """
    worst = _worst_cost(prep, cap)
    k = math.floor(math.log10(2.0 ** 58 / (worst * max(1, prep.n_fam))))
    return 10.0 ** max(-12, min(6, k, _flow_exponent(prep, cap) + 6))


def _flow_div(prep: C.Prep, scale: float, cap: float = math.inf) -> int:
    """By how much min-cost flow coarsens the costs at `scale` to stay within its cost range (1: not at all)."""
    k = round(math.log10(scale))
    return 10 ** max(0, k - max(-12, min(6, _flow_exponent(prep, cap))))


def _worst_cost(prep: C.Prep, cap: float = math.inf) -> float:
    """The dearest option of any family (at least 1), or `cap` if that is less."""
    w = prep.inst.params.weights
    kids = max([sum(c for _, c in sc) for sc in prep.f_schools] or [0])
    worst = max([1.0, float(prep.unplaced_cost.max(initial=0.0)),
                 float(np.where(np.isfinite(prep.u_cost), prep.u_cost, 0).max(initial=0.0)),
                 w.school_km * prep.inst.params.max_school_km * kids + w.no_common_language])
    return max(1.0, min(worst, cap))


def _flow_exponent(prep: C.Prep, cap: float = math.inf) -> int:
    """The finest power of ten at which min-cost flow accepts the costs."""
    worst = _worst_cost(prep, cap)
    # Min-cost flow reports BAD_COST_RANGE unless costs times path length times node count fit in int64;
    # an augmenting path alternates between families and hosts, so it has at most 2 n_fam + 1 arcs.
    return math.floor(math.log10(2.0 ** 61 / (worst * (2 * prep.n_fam + 1) * (prep.n_fam + prep.n_host + 2))))


def _rounding(cols: _Columns) -> float:
    """An upper bound on how far the integer costs of any solution can be above its real costs.

    In the file format's units (docs/matching-format.md): each family's largest rounding error over all
    its options, summed, and a margin for the floating-point sums of real costs. Costs the solver sees
    capped (`_Columns.recost`) are at most their real value, so capping adds nothing here.
    """
    def capped(x: np.ndarray) -> np.ndarray:
        return np.minimum(np.asarray(x, dtype=float), cols.cap)

    def err(x: np.ndarray) -> np.ndarray:
        x = capped(x)
        return np.abs(x * cols.scale - np.rint(x * cols.scale)) / cols.scale

    p = cols.p
    per = err(p.unplaced_cost)
    top = capped(p.unplaced_cost)
    if len(cols.sch):
        np.maximum.at(per, cols.sch.f, err(cols.sch.cost))
        np.maximum.at(top, cols.sch.f, capped(cols.sch.cost))
    if len(cols.cls.fams):
        w_lang = np.array([p.inst.params.weights.no_common_language])
        per[cols.cls.fams] = np.maximum(per[cols.cls.fams], float(err(w_lang)[0]))
        top[cols.cls.fams] = np.maximum(top[cols.cls.fams], float(capped(w_lang)[0]))
    if p.u_cost.shape[1]:
        u_real = np.where(np.isfinite(p.u_cost), p.u_cost, 0)
        per = np.maximum(per, np.where(np.isfinite(p.u_cost), err(u_real), 0).max(axis=1))
        top = np.maximum(top, capped(u_real).max(axis=1))
    # Float sums of real costs are themselves inexact: at most a relative n * 2**-53 for a sum of n terms,
    # each at most its family's dearest (capped) option.
    magnitude = float(top.sum()) + abs(p.fixed_cost)
    return float(per.sum()) * (1 + 1e-9) + 2.0 ** -52 * (cols.n_fam + 2) * magnitude


# --------------------------------------------------------------------------- flow and duals


def _flow(cols: _Columns, fallback: np.ndarray, active: np.ndarray | None = None,
          costs: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Solve R on the restricted pairs; returns the arc index per family (-1: fallback) and the cost."""
    ac = cols.pair_cost if costs is None else costs
    n_fam, n_host = cols.n_fam, cols.n_host
    act = np.ones(n_fam, dtype=np.int64) if active is None else active.astype(np.int64)
    m = len(cols.pair_fam)
    sink = n_fam + n_host
    used_h = np.unique(cols.pair_host)
    fine_ac, fine_fb = ac, fallback
    ac, fallback = _coarse(cols, ac), _coarse(cols, fallback)
    smcf = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([cols.pair_fam, np.arange(n_fam), n_fam + used_h]).astype(np.int32)
    heads = np.concatenate([n_fam + cols.pair_host, np.full(n_fam, sink), np.full(len(used_h), sink)]).astype(np.int32)
    caps = np.concatenate([np.ones(m + n_fam, dtype=np.int64), cols.slots[used_h]])
    arc_costs = np.concatenate([ac, fallback, np.zeros(len(used_h), dtype=np.int64)])
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, arc_costs)
    sup = np.zeros(sink + 1, dtype=np.int64)
    sup[:n_fam] = act
    sup[sink] = -int(act.sum())
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), sup)
    st = smcf.solve()
    if st != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {st}")
    fl = smcf.flows(np.arange(m, dtype=np.int32))
    fam_arc = np.full(n_fam, -1, dtype=np.int64)
    sel = np.flatnonzero(fl > 0)
    fam_arc[cols.pair_fam[sel]] = sel
    fb_used = (fam_arc < 0) & (act > 0)
    return fam_arc, int(fine_ac[sel].sum() + fine_fb[fb_used].sum())


def _coarse(cols: _Columns, x: np.ndarray) -> np.ndarray:
    """Integer costs as min-cost flow sees them (rounded to a multiple of `flow_div`, in its units)."""
    if cols.flow_div == 1:
        return x
    return np.where(x >= _INF, _INF, (x + cols.flow_div // 2) // cols.flow_div)


def _fine(cols: _Columns, x: np.ndarray) -> np.ndarray:
    """Prices from min-cost flow's units back to the solver's (any price gives a valid bound)."""
    if cols.flow_div == 1:
        return x
    return np.where(x >= _INF // cols.flow_div, _INF, x * cols.flow_div)


def _potentials(cols: _Columns, fallback: np.ndarray, fam_arc: np.ndarray,
                costs: np.ndarray | None = None, deadline: float = math.inf) -> tuple[np.ndarray, np.ndarray]:
    """Shortest distances to the sink in R's residual graph: fam_dist per family, host_price per host (Bellman-Ford)."""
    n_fam, n_host = cols.n_fam, cols.n_host
    # In min-cost flow's units, where its answer is optimal, so the residual graph has no negative cycle.
    ac_all = _coarse(cols, cols.pair_cost if costs is None else costs)
    fallback = _coarse(cols, fallback)
    assigned = np.zeros(len(cols.pair_fam), dtype=bool)
    assigned[fam_arc[fam_arc >= 0]] = True
    load = np.bincount(cols.pair_host[assigned], minlength=n_host)
    full = load >= cols.slots
    host_price = np.where(full & (load > 0), _INF, 0).astype(np.int64)
    bypassed = fam_arc < 0
    fam_dist = np.where(bypassed, _INF, fallback).astype(np.int64)
    ua = np.flatnonzero(~assigned)
    uf, uh, uc = cols.pair_fam[ua], cols.pair_host[ua], ac_all[ua]
    o = np.argsort(uf, kind="stable")
    uf, uh, uc = uf[o], uh[o], uc[o]
    seg_f, seg_start = np.unique(uf, return_index=True)
    ai = np.flatnonzero(assigned)
    af, ah, ac = cols.pair_fam[ai], cols.pair_host[ai], ac_all[ai]
    full_arc = full[ah]
    af, ah, ac = af[full_arc], ah[full_arc], ac[full_arc]
    for _ in range(n_fam + n_host + 2):
        # Stopped early, the prices are only less useful: any prices give a valid bound.
        if time.perf_counter() > deadline:
            break
        if len(uf):
            val = np.minimum(uc + host_price[uh], _INF)
            best = np.minimum.reduceat(val, seg_start)
            new_f = fam_dist.copy()
            new_f[seg_f] = np.minimum(fam_dist[seg_f], best)
        else:
            new_f = fam_dist
        new_h = host_price.copy()
        if len(af):
            np.minimum.at(new_h, ah, np.minimum(new_f[af] - ac, _INF))
        if np.array_equal(new_f, fam_dist) and np.array_equal(new_h, host_price):
            break
        fam_dist, host_price = new_f, new_h
    return _fine(cols, fam_dist), _fine(cols, np.maximum(host_price, 0))


def _column_min(cols: _Columns, fallback: np.ndarray, host_price: np.ndarray) -> np.ndarray:
    """Per family, the least c + host_price over every feasible host of the whole instance, and the fallback."""
    m = fallback.copy()
    sch = cols.sch
    if len(sch):
        val = cols.sch_c + host_price[sch.h]
        seg_f, seg_start = cols.sch_seg
        m[seg_f] = np.minimum(m[seg_f], np.minimum.reduceat(val, seg_start))
    cls = cols.cls
    if len(cls.fams) and cls.compat.shape[1]:
        hmin = _class_min_price(cols, host_price)
        val = _class_row_min(cols, hmin)
        m[cls.fams] = np.minimum(m[cls.fams], val[cls.fam_class])
    return m


def _column_min_mu(cols: _Columns, fallback: np.ndarray, host_price: np.ndarray, bed_price: np.ndarray) -> np.ndarray:
    """As _column_min, with host beds priced at bed_price per person (Lagrange prices for multi-family hosts)."""
    if not bed_price.any():
        return _column_min(cols, fallback, host_price)
    p = cols.p
    m = fallback.copy()
    sch = cols.sch
    if len(sch):
        val = cols.sch_c + host_price[sch.h] + bed_price[sch.h] * p.f_size[sch.f]
        seg_f, seg_start = cols.sch_seg
        m[seg_f] = np.minimum(m[seg_f], np.minimum.reduceat(val, seg_start))
    cls = cols.cls
    if len(cls.fams) and cls.compat.shape[1]:
        fc_size = np.array([p.f_size[mem[0]] for mem in cls.fc_members], dtype=np.int64)
        best = np.full(len(fc_size), _INF, dtype=np.int64)
        for size in np.unique(fc_size).tolist():
            hmin = _class_min_price(cols, host_price + bed_price * size)
            rows = fc_size == size
            best[rows] = _class_row_min(cols, hmin)[rows]
        m[cls.fams] = np.minimum(m[cls.fams], best[cls.fam_class])
    return m


def _class_row(cols: _Columns, fc: int, hmin: np.ndarray) -> np.ndarray:
    """c + min D over each host class for family class fc (_INF where incompatible)."""
    cls = cols.cls
    return np.where(cls.compat[fc], np.where(cls.nolang[fc], cols.lang_int, 0) + hmin, _INF)


def _class_row_min(cols: _Columns, hmin: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Per family class (or per family class in `rows`), the least c + min D over its compatible host classes.

    Most host classes keep a free host (min D = 0), so only the others are looked at column by column;
    the rest is answered by counts of cheap and dear compatible classes taken once.
    """
    cls = cols.cls
    compat, nolang = cls.compat, cls.nolang
    cnt_cheap, cnt_dear = cols.cnt_cheap, cols.cnt_dear
    if rows is not None:
        compat, nolang, cnt_cheap, cnt_dear = compat[rows], nolang[rows], cnt_cheap[rows], cnt_dear[rows]
    n_fc, n_hc = compat.shape
    P = np.flatnonzero(hmin > 0)
    if len(P) * 2 > n_hc:
        out = np.full(n_fc, _INF, dtype=np.int64)
        step = max(1, 2_000_000 // max(1, n_hc))
        for a in range(0, n_fc, step):
            blk = np.where(nolang[a:a + step], cols.lang_int, 0) + hmin[None, :]
            out[a:a + step] = np.where(compat[a:a + step], blk, _INF).min(axis=1)
        return out
    cp, nlp = compat[:, P], nolang[:, P]
    cheap_left = cnt_cheap - (cp & ~nlp).sum(axis=1)
    dear_left = cnt_dear - (cp & nlp).sum(axis=1)
    base = np.where(cheap_left > 0, 0, np.where(dear_left > 0, cols.lang_int, _INF)).astype(np.int64)
    if len(P):
        pm = np.where(cp, np.where(nlp, cols.lang_int, 0) + hmin[P][None, :], _INF).min(axis=1)
        base = np.minimum(base, pm)
    return base


def _class_min_price(cols: _Columns, host_price: np.ndarray) -> np.ndarray:
    n_hc = cols.cls.compat.shape[1]
    out = np.full(n_hc, _INF, dtype=np.int64)
    if len(cols.hc_hosts):
        nonempty = np.flatnonzero(np.diff(np.append(cols.hc_start, len(cols.hc_hosts))) > 0)
        red = np.minimum.reduceat(host_price[cols.hc_hosts], cols.hc_start[nonempty])
        out[nonempty] = red
    return out


def _price(cols: _Columns, fam_dist: np.ndarray, fallback: np.ndarray, host_price: np.ndarray) -> int:
    """Add left-out pairs with a negative reduced cost; returns how many were added."""
    return _price_at(cols, np.minimum(fam_dist, fallback), host_price, None)


def _price_at(cols: _Columns, u: np.ndarray, host_price: np.ndarray, bed_price: np.ndarray | None, tol: int = 0) -> int:
    """Add left-out pairs whose cost plus host prices (host_price per family, bed_price per person) is below u - tol."""
    added = 0
    sch = cols.sch
    size = cols.p.f_size
    if len(sch):
        price = host_price[sch.h] if bed_price is None else host_price[sch.h] + bed_price[sch.h] * size[sch.f]
        neg = (~cols.sch_in) & (cols.sch_c + price < u[sch.f] - tol)
        idx = np.flatnonzero(neg)
        if len(idx):
            # At most ADD_PER_FAMILY per family, the most negative first.
            r = (cols.sch_c + price - u[sch.f])[idx]
            o = np.lexsort((r, sch.f[idx]))
            idx = idx[o]
            start = np.searchsorted(sch.f[idx], sch.f[idx])
            idx = idx[(np.arange(len(idx)) - start) < ADD_PER_FAMILY]
            cols.sch_in[idx] = True
            cols.add(sch.f[idx], sch.h[idx], cols.sch_c[idx], sch.cost[idx])
            added += len(idx)
    cls = cols.cls
    if len(cls.fams) and cls.compat.shape[1]:
        if bed_price is None or not bed_price.any():
            added += _price_ns(cols, u - tol, host_price, cls.fams)
        else:
            for s_ in np.unique(size[cls.fams]).tolist():
                added += _price_ns(cols, u - tol, host_price + bed_price * s_, cls.fams[size[cls.fams] == s_])
    if added:
        o = np.argsort(cols.pair_fam, kind="stable")
        cols._set(cols.pair_fam[o], cols.pair_host[o], cols.pair_cost[o], cols.pair_real[o])
    return added


def _price_ns(cols: _Columns, u: np.ndarray, host_price: np.ndarray, fams: np.ndarray) -> int:
    """Pricing for families without a schooled child (`fams`), class by class; returns pairs added."""
    cls = cols.cls
    added = 0
    hmin = _class_min_price(cols, host_price)
    # Only the classes of `fams` (one family size at a time when beds are priced) are looked at.
    fcs = np.unique(cols.fc_of[fams])
    mfc = np.full(cls.compat.shape[0], _INF, dtype=np.int64)
    mfc[fcs] = _class_row_min(cols, hmin, fcs if len(fcs) < cls.compat.shape[0] else None)
    viol = fams[u[fams] > mfc[cols.fc_of[fams]]]
    w_lang = cols.p.inst.params.weights.no_common_language
    mine = np.isin(cols.pair_fam, viol)
    present = set((cols.pair_fam[mine] * cols.n_host + cols.pair_host[mine]).tolist())
    fs, hs, cs, cfs = [], [], [], []
    for f in viol.tolist():
        fc = cols.fc_of[f]
        vf = _class_row(cols, fc, hmin)
        hcs = np.flatnonzero(vf < u[f])
        if not len(hcs):
            continue
        # The best classes (ties broken at random), one improving host from each, picked at random
        # so that families of one kind do not all queue for the same hosts.
        if len(hcs) > 2 * ADD_PER_FAMILY:
            hcs = hcs[np.argpartition(vf[hcs] + cols.rng.random(len(hcs)) * 0.5, 2 * ADD_PER_FAMILY)
                      [:2 * ADD_PER_FAMILY]]
        got = 0
        for c in hcs.tolist():
            mem = cls.hc_members[c]
            cost_c = cols.lang_int if cls.nolang[fc, c] else 0
            ok = mem[cost_c + host_price[mem] < u[f]]
            if not len(ok):
                continue
            for h in ok[cols.rng.permutation(len(ok))[:2]].tolist():
                if f * cols.n_host + h in present:
                    continue
                fs.append(f)
                hs.append(h)
                cs.append(cost_c)
                cfs.append(w_lang if cost_c else 0.0)
                got += 1
            if got >= ADD_PER_FAMILY:
                break
    if fs:
        cols.add(np.array(fs, dtype=np.int64), np.array(hs, dtype=np.int64), np.array(cs, dtype=np.int64),
              np.array(cfs, dtype=float))
        added += len(fs)
    return added


def _solve_relaxation(cols: _Columns, fallback: np.ndarray, deadline: float, progress, frac: tuple[float, float],
             active: np.ndarray | None = None, max_rounds: int = 10_000,
             fallback_unit: np.ndarray | None = None) -> _Relaxation:
    """R to optimality by pricing (or until the deadline), with its bound for the whole instance.

    Families not `active` (already placed in units) take no part; the bound then leaves them out.
    Given `fallback_unit` (each family's unit when it has no host), pricing stops early once R's answer
    overfills beds and a round adds fewer than 1 % more pairs: stage 2 follows anyway, and its own
    pricing brings in what is missing.
    """
    rounds = 0
    act = np.ones(cols.n_fam, dtype=bool) if active is None else active
    while True:
        rounds += 1
        t_round = time.perf_counter()
        fam_arc, cost = _flow(cols, fallback, act)
        fam_dist, host_price = _potentials(cols, fallback, fam_arc, deadline=deadline)
        # Read the hosts now: pricing below adds pairs and reorders them, so arc indices go stale.
        fam_host = (np.where(fam_arc >= 0, cols.pair_host[np.maximum(fam_arc, 0)], -1) if len(cols.pair_host)
                    else np.full(cols.n_fam, -1))
        if cols.full or time.perf_counter() > deadline:
            added = 0
        else:
            added = _price(cols, np.where(act, fam_dist, -_INF), fallback, host_price)
        _report(progress, frac[0] + (frac[1] - frac[0]) * min(0.9, rounds / 6),
                f"assignment round {rounds}: {len(cols.pair_fam)} pairs, {added} added", None)
        last = time.perf_counter() - t_round
        # A round that would end past the deadline is not started (the clock only matters at the limit).
        if added == 0 or time.perf_counter() + last > deadline or rounds >= max_rounds:
            break
        # A count, not the clock: the same input stops after the same round under any load.
        if (fallback_unit is not None and rounds >= 2 and added * 100 < len(cols.pair_fam)
                and _overfull(cols, fam_host, np.where(fam_host < 0, fallback_unit, -1))):
            break
    fam_min = _column_min(cols, fallback, host_price)
    lb = int(fam_min[act].sum() - (cols.slots * host_price).sum())
    return _Relaxation(fam_host=fam_host, cost=cost, host_price=host_price, fam_min=fam_min, lb=lb,
                       certified=(added == 0 and lb == cost))


def _report(progress, frac: float, msg: str, best: float | None) -> None:
    if progress is not None:
        try:
            progress(float(frac), msg, best)
        except Exception:  # noqa: S110 - a broken progress callback must not stop the solve
            pass


# --------------------------------------------------------------------------- fallback, feasibility, repair


def _fallback(cols: _Columns, unit_price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each family's fallback cost with unit beds priced at unit_price per person, and which unit (-1: unplaced)."""
    fallback = cols.unplaced_int.copy()
    unit = np.full(cols.n_fam, -1, dtype=np.int64)
    if cols.u_int.shape[1]:
        uc = np.where(cols.u_int >= _INF, _INF, cols.u_int + unit_price[None, :] * cols.p.f_size[:, None])
        best = uc.argmin(axis=1)
        bc = uc[np.arange(cols.n_fam), best]
        take = bc < fallback
        fallback = np.where(take, bc, fallback)
        unit = np.where(take, best, -1)
    return fallback.astype(np.int64), unit


def _repair(cols: _Columns, fam_host: np.ndarray, unit_hint: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A feasible solution from R's (or the LP's): overfull multi-family hosts shed families; units take
    the families the hint puts there while they fit, then the others by value."""
    p = cols.p
    fam_host = fam_host.copy()
    sizes = p.f_size
    load = np.bincount(fam_host[fam_host >= 0], weights=sizes[fam_host >= 0], minlength=cols.n_host)
    for h in np.flatnonzero((load > 0) & (load > p.h_beds)).tolist():
        fs = np.flatnonzero(fam_host == h)
        for f in fs[np.argsort(-sizes[fs])].tolist():
            if load[h] <= p.h_beds[h]:
                break
            fam_host[f] = -1
            load[h] -= sizes[f]
    fam_unit = np.full(cols.n_fam, -1, dtype=np.int64)
    left = p.u_beds.copy()
    if unit_hint is not None:
        for f in np.flatnonzero((fam_host < 0) & (unit_hint >= 0)).tolist():
            u = int(unit_hint[f])
            if left[u] >= sizes[f] and cols.u_int[f, u] < cols.unplaced_int[f]:
                fam_unit[f] = u
                left[u] -= sizes[f]
    rest = np.flatnonzero((fam_host < 0) & (fam_unit < 0))
    if len(rest) and cols.u_int.shape[1]:
        gain = cols.unplaced_int[rest][:, None] - cols.u_int[rest]
        best = gain.max(axis=1)
        order = rest[np.argsort(-best / sizes[rest], kind="stable")]
        for f in order.tolist():
            cand = np.flatnonzero((cols.u_int[f] < cols.unplaced_int[f]) & (left >= sizes[f]))
            if len(cand):
                u = int(cand[np.argmin(cols.u_int[f, cand])])
                fam_unit[f] = u
                left[u] -= sizes[f]
    return fam_host, fam_unit


def _value(cols: _Columns, fam_host: np.ndarray, fam_unit: np.ndarray) -> int:
    """The integer objective (free families only) of a solution given by host and unit per family."""
    pos = _arc_lookup(cols, fam_host)
    tot = int(cols.pair_cost[pos[fam_host >= 0]].sum())
    un = (fam_host < 0) & (fam_unit >= 0)
    tot += int(cols.u_int[np.flatnonzero(un), fam_unit[un]].sum())
    tot += int(cols.unplaced_int[(fam_host < 0) & (fam_unit < 0)].sum())
    return tot


def _arc_lookup(cols: _Columns, fam_host: np.ndarray) -> np.ndarray:
    """Index in the restricted set of each family's (family, host) pair; -1 when unhosted."""
    key = cols.pair_fam * cols.n_host + cols.pair_host
    o = np.argsort(key)
    want = np.arange(cols.n_fam) * cols.n_host + np.maximum(fam_host, 0)
    pos = np.searchsorted(key[o], want)
    pos = np.minimum(pos, len(key) - 1) if len(key) else pos
    out = np.where(fam_host >= 0, o[pos] if len(key) else -1, -1)
    return out


def _overfull(cols: _Columns, fam_host: np.ndarray, fam_unit: np.ndarray) -> bool:
    p = cols.p
    hl = np.bincount(fam_host[fam_host >= 0], weights=p.f_size[fam_host >= 0], minlength=cols.n_host)
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
    scale = _scale(prep)
    cols = _Columns(prep, scale, np.random.default_rng(12345))
    n_fam = cols.n_fam
    _report(progress, 0.1, f"{len(cols.sch)} school pairs, {cols.ns_count} other pairs", None)

    status, bound_int, fam_host, fam_unit, value = "FEASIBLE", 0, None, None, None
    if n_fam == 0:
        status, fam_host, fam_unit, value, bound_int = "OPTIMAL", np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 0
    else:
        unit_price = np.zeros(len(prep.u_beds), dtype=np.int64)
        fallback, fallback_unit = _fallback(cols, unit_price)
        # A little time is kept back for writing the solution and the reasons; at city scale also for
        # what the process does around the solve (reading the instance, writing the answer: 2-3 s).
        end = deadline - (min(3.0, 0.2 * time_limit_s) if _at_scale(cols) else min(2.0, 0.05 * time_limit_s))
        known = _cap_costs(cols, end) if cols.scale < FINE_SCALE else None
        if known is not None:
            fallback, fallback_unit = _fallback(cols, unit_price)
        r = _solve_relaxation(cols, fallback, end, progress, (0.1, 0.5),
                              fallback_unit=fallback_unit if _at_scale(cols) else None)
        bound_int = r.lb
        fam_host = r.fam_host
        fam_unit = np.where(fam_host < 0, fallback_unit, -1)
        improved = False
        if not _overfull(cols, fam_host, fam_unit):
            value = r.cost
            status = "OPTIMAL" if r.certified else "FEASIBLE"
        else:
            # Stage 2 starts from each family's few best pairs at R's prices: the LP over R's whole
            # restricted set takes far longer at city scale, and pricing brings in what it lacks.
            _lp_start(cols, r)
            # Every solution stage 2 keeps has been through the improvement pass already.
            fam_host, fam_unit, value, bound_int, status = _exact_multi(cols, r, end, workers, progress)
            improved = True
            # R's bound holds for the whole instance too.
            if r.lb > bound_int:
                bound_int = min(r.lb, value)
                if value <= bound_int:
                    status = "OPTIMAL"
        if status != "OPTIMAL" and not improved:
            # Whatever stopped the search, no single insertion or simple swap is left undone.
            fam_host, fam_unit = _improve(cols, fam_host, fam_unit, end)
            value = _value(cols, fam_host, fam_unit)
            if value <= bound_int:
                status, bound_int = "OPTIMAL", value
        if known is not None and known[0] < _real_value(cols, fam_host, fam_unit):
            # The solution the costs were capped at is better in real costs than what the capped search
            # kept (which can only happen when that search used a capped option): keep it.
            fam_host, fam_unit = known[1], known[2]
            value, status = _value(cols, fam_host, fam_unit), "FEASIBLE"
            bound_int = min(bound_int, value)
    _report(progress, 0.95, "writing the solution", None)
    return _assemble(inst, cols, fam_host, fam_unit, value, bound_int, status, t0)


LP_START = 2                 # pairs per family stage 2's LP starts with (at scale), besides R's own
LARGE_PAIRS = 20_000_000     # "at scale": more pairs than this in the instance (city: 209 million, mid: 2 million)


def _at_scale(cols: _Columns) -> bool:
    """Whether the instance is large enough for the city path: stage 2 starts from few pairs, its LP is
    re-solved from the last basis, and R stops pricing early once beds are overfull."""
    return len(cols.sch) + cols.ns_count > LARGE_PAIRS


def _lp_start(cols: _Columns, r: _Relaxation) -> None:
    """Shrink the restricted set to each family's LP_START pairs of least reduced cost at R's prices, and
    the pairs R's answer uses (nothing is lost: pricing brings back whatever the LP needs)."""
    if cols.full or not _at_scale(cols):
        return
    red = cols.pair_cost + r.host_price[cols.pair_host] - r.fam_min[cols.pair_fam]
    tie = np.random.default_rng(7).random(len(red))
    o = np.lexsort((tie, red, cols.pair_fam))
    start = np.searchsorted(cols.pair_fam[o], cols.pair_fam[o])
    keep = o[(np.arange(len(o)) - start) < LP_START]
    pos = _arc_lookup(cols, r.fam_host)
    keep = np.union1d(keep, pos[pos >= 0])
    cols._set(cols.pair_fam[keep], cols.pair_host[keep], cols.pair_cost[keep], cols.pair_real[keep])
    if len(cols.sch):
        sch_key = cols.sch.f * cols.n_host + cols.sch.h
        want = cols.pair_fam * cols.n_host + cols.pair_host
        if len(sch_key) < 2 or bool((sch_key[1:] > sch_key[:-1]).all()):
            pos = np.minimum(np.searchsorted(sch_key, want), len(sch_key) - 1)
            cols.sch_in[:] = False
            cols.sch_in[pos[sch_key[pos] == want]] = True
        else:
            cols.sch_in = np.isin(sch_key, want)


FINE_SCALE = 10.0 ** 6        # below this scale (extreme weights), costs are capped at a known solution's value
CAP_ROUNDS = 2                # pricing rounds of the relaxation that finds that solution (a work limit)


def _cap_costs(cols: _Columns, deadline: float) -> tuple[float, np.ndarray, np.ndarray] | None:
    """With extreme weights: a first solution at the coarse scale (the relaxation on few pairs, repaired and
    improved), then every cost capped just above its real value (`_Columns.recost`), so that the rest of
    the solve works at a scale fine enough for the objective. Returns that solution and its real value,
    or None when capping would not make the scale finer."""
    fallback, fallback_unit = _fallback(cols, np.zeros(len(cols.p.u_beds), dtype=np.int64))
    r = _solve_relaxation(cols, fallback, deadline, None, (0.1, 0.1), max_rounds=CAP_ROUNDS)
    fam_host, fam_unit = _repair(cols, r.fam_host, np.where(r.fam_host < 0, fallback_unit, -1))
    fam_host, fam_unit = _improve(cols, fam_host, fam_unit, deadline)
    known = _real_value(cols, fam_host, fam_unit)
    # Just above the known value, with room for every family's rounding at any scale down to 1.
    cap = known * (1 + 1e-6) + cols.n_fam + 1.0
    if _scale(cols.p, cap) <= cols.scale:
        return None
    cols.recost(cap)
    return known, fam_host, fam_unit


def _real_value(cols: _Columns, fam_host: np.ndarray, fam_unit: np.ndarray) -> float:
    """The objective of the free families in the format's units, from the real (uncapped, unrounded) costs."""
    p = cols.p
    pos = _arc_lookup(cols, fam_host)
    hosted = fam_host >= 0
    un = ~hosted & (fam_unit >= 0)
    return float(cols.pair_real[pos[hosted]].sum() + p.u_cost[np.flatnonzero(un), fam_unit[un]].sum()
                 + p.unplaced_cost[~hosted & (fam_unit < 0)].sum())


def _as_float(cols: _Columns, v: int) -> float:
    return v / cols.scale + cols.p.fixed_cost


def _assemble(inst: Instance, cols: _Columns, fam_host, fam_unit, value, bound_int, status, t0) -> Solution:
    """Placements, unplaced with reasons, and the objective recomputed exactly.

    The objective is in the file format's units (docs/matching-format.md).
    """
    from matching.explain import explain_unplaced

    p = cols.p
    placements = list(p.fixed_placements)
    unplaced_idx = []
    obj = p.fixed_cost
    pos = _arc_lookup(cols, fam_host) if cols.n_fam else np.zeros(0, np.int64)
    schools = {s.id: s for s in inst.schools}
    for f in range(cols.n_fam):
        fam = p.family(f)
        h, u = int(fam_host[f]), int(fam_unit[f])
        if h >= 0:
            host = inst.hosts[h]
            placements.append(Placement(family_id=fam.id, host_id=host.id, child_km=_kms(host, fam, schools)))
            obj += float(cols.pair_real[pos[f]])
        elif u >= 0:
            unit = inst.units[u]
            placements.append(Placement(family_id=fam.id, unit_id=unit.id, child_km=_kms(unit, fam, schools)))
            obj += float(p.u_cost[f, u])
        else:
            unplaced_idx.append(f)
            obj += float(p.unplaced_cost[f])
    where = _Assignment(cols, (fam_host, fam_unit))
    unplaced = tuple(Unplaced(family_id=p.family(f).id, reasons=tuple(explain_unplaced(inst, where, p.family(f))))
                     for f in unplaced_idx)
    # The bound is on integer-rounded costs: widen it by every rounding, so it stays a true bound, and
    # call the solution optimal only when that true bound is within the tolerance the format allows.
    bound = min(obj, bound_int / cols.scale + p.fixed_cost - _rounding(cols)) if cols.n_fam else obj
    status = "OPTIMAL" if obj - bound <= OPTIMAL_REL_TOL * max(1.0, abs(obj)) else "FEASIBLE"
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

    def __init__(self, cols: _Columns, sol: tuple[np.ndarray, np.ndarray]):
        inst, p = cols.p.inst, cols.p
        self.host_of: dict[str, str] = {}
        self.unit_of: dict[str, str] = {}
        for x in inst.fixed:
            if x.host_id is not None:
                self.host_of[x.family_id] = x.host_id
            else:
                self.unit_of[x.family_id] = x.unit_id  # type: ignore[assignment]
        fam_host, fam_unit = sol
        for f in range(cols.n_fam):
            fid = p.family(f).id
            if fam_host[f] >= 0:
                self.host_of[fid] = inst.hosts[int(fam_host[f])].id
            elif fam_unit[f] >= 0:
                self.unit_of[fid] = inst.units[int(fam_unit[f])].id


# --------------------------------------------------------------------------- several families per host: LP prices


LP_ROUNDS = 60                # column-generation rounds at most (a work limit, not a clock)
STAGE_NODES = 400             # branch-and-bound nodes for each quick stage of the exact model
STAGES = (0, 4, None, 16)     # pairs per family in the quick stages (0: the LP's own); None: every column within the
                              # gap (when that has too many columns, each family's 16 nearest pairs instead)
QUICK_PAIRS = 60_000          # a quick stage (node-limited model on few pairs per family) only up to this many pairs
MIP_PAIRS = 150_000           # the exact model within the gap is tried only up to this many columns


@dataclass
class _Prices:
    """Non-negative prices from the LP relaxation and the valid lower bound they give for the whole instance."""

    slot: np.ndarray          # per family taking a slot at each host
    bed: np.ndarray           # per person in a host's beds
    unit: np.ndarray          # per person in a unit's beds
    fam_min: np.ndarray       # per family: least priced cost over every option (hosts, units, unplaced)
    bound: int
    lp_host: np.ndarray | None  # the host of each family the last LP puts (> 0.5) at one, else -1
    fam_value: np.ndarray | None = None   # the LP's value of each family's "exactly one place"
    lp_unit: np.ndarray | None = None     # the unit of each family the last LP puts (> 0.5) in one
    lp_support: np.ndarray | None = None  # the last LP's pairs with a positive value, as f * n_host + h


def _bound_at(cols: _Columns, slot: np.ndarray, bed: np.ndarray, unit: np.ndarray) -> tuple[np.ndarray, int]:
    """The Lagrangian bound at the given prices: every family takes its cheapest priced option, anywhere."""
    p = cols.p
    fallback, _ = _fallback(cols, unit)
    fam_min = _column_min_mu(cols, fallback, slot, bed)
    bound = int(fam_min.sum() - (cols.slots * slot).sum() - (bed * p.h_beds).sum() - (unit * p.u_beds).sum())
    return fam_min, bound


def _restricted_lp(cols: _Columns, uf: np.ndarray, uu: np.ndarray, deadline: float = math.inf):
    """The LP relaxation on the restricted host pairs and unit pairs (HiGHS through SciPy); None if it fails."""
    from scipy import sparse
    from scipy.optimize import linprog

    p = cols.p
    n_fam, n_host, n_unit = cols.n_fam, cols.n_host, len(p.u_beds)
    m, k = len(cols.pair_fam), len(uf)
    n_col = m + k + n_fam
    cost = np.concatenate([cols.pair_cost, cols.u_int[uf, uu], cols.unplaced_int]).astype(float) / cols.scale
    fam = np.concatenate([cols.pair_fam, uf, np.arange(n_fam)])
    a_eq = sparse.csr_matrix((np.ones(n_col), (fam, np.arange(n_col))), shape=(n_fam, n_col))
    hosts = np.unique(cols.pair_host)
    multi = hosts[p.h_slots[hosts] >= 2]
    is_multi = np.isin(cols.pair_host, multi)
    # Two valid strengthenings at hosts taking several families (they cut the LP's typical fractional
    # sets, such as a family filling the host at 0.75 beside another at 1): a family too big to share
    # the host counts for all its slots, and families bigger than half its beds exclude each other.
    size = p.f_size[cols.pair_fam]
    s_min = int(p.f_size.min(initial=1))
    slot_coef = np.where(is_multi & (size > p.h_beds[cols.pair_host] - s_min), cols.slots[cols.pair_host], 1)
    big = np.flatnonzero(is_multi & (2 * size > p.h_beds[cols.pair_host]))
    n_base = len(hosts) + len(multi) + n_unit
    rows = np.concatenate([np.searchsorted(hosts, cols.pair_host),
                           len(hosts) + np.searchsorted(multi, cols.pair_host[is_multi]),
                           len(hosts) + len(multi) + uu,
                           n_base + np.searchsorted(multi, cols.pair_host[big])])
    col_idx = np.concatenate([np.arange(m), np.flatnonzero(is_multi), m + np.arange(k), big])
    vals = np.concatenate([slot_coef, p.f_size[cols.pair_fam[is_multi]], p.f_size[uf], np.ones(len(big))]).astype(float)
    n_ub = n_base + len(multi)
    a_ub = sparse.csr_matrix((vals, (rows, col_idx)), shape=(n_ub, n_col)) if n_ub else None
    b_ub = np.concatenate([cols.slots[hosts], p.h_beds[multi], p.u_beds, np.ones(len(multi))]).astype(float) \
        if n_ub else None
    left = deadline - time.perf_counter()
    if left <= 0.1:
        return None
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n_fam), bounds=(0, None), method="highs",
                  options={"time_limit": min(left, 1e9)})
    if res.status != 0:
        return None
    marg = -res.ineqlin.marginals * cols.scale if n_ub else np.zeros(0)
    slot = np.zeros(n_host, dtype=np.int64)
    bed = np.zeros(n_host, dtype=np.int64)
    slot[hosts] = np.maximum(0, np.rint(marg[:len(hosts)])).astype(np.int64)
    bed[multi] = np.maximum(0, np.rint(marg[len(hosts):len(hosts) + len(multi)])).astype(np.int64)
    unit = np.maximum(0, np.rint(marg[len(hosts) + len(multi):n_base])).astype(np.int64)
    fam_value = np.rint(res.eqlin.marginals * cols.scale).astype(np.int64)
    lp_unit = np.full(n_fam, -1, dtype=np.int64)
    on = res.x[m:m + k] > 0.5
    lp_unit[uf[on]] = uu[on]
    return res.x[:m], slot, bed, unit, fam_value, lp_unit


class _IncrementalLP:
    """The LP relaxation of the whole model (with the two strengthening rows of `_restricted_lp`) on a
    growing set of columns, each solve starting from the last basis (HiGHS, SciPy's own copy).

    Rows: one per family (= 1), one slot row per host, a bed row and an exclusion row per host taking
    several families, one bed row per unit. Columns: every family's "unplaced", then pairs and unit
    places as they are added. Re-solving after new columns takes a few simplex steps, not a cold start.
    """

    def __init__(self, cols: _Columns):
        from scipy.optimize._highspy import _core

        self.core, self.cols = _core, cols
        p = cols.p
        n_fam, n_host, n_unit = cols.n_fam, cols.n_host, len(p.u_beds)
        self.h = _core._Highs()
        # A private SciPy object: anything missing here sends the caller back to the cold LP.
        for name in ("addRows", "addCols", "run", "getRunTime", "getModelStatus", "getSolution", "getInfo"):
            getattr(self.h, name)
        _core.HighsModelStatus.kOptimal  # noqa: B018
        for k, v in (("output_flag", False), ("presolve", "on"), ("solver", "simplex"),
                     ("random_seed", 0)):
            self.h.setOptionValue(k, v)
        self.multi = np.flatnonzero(cols.slots >= 2)
        n_multi = len(self.multi)
        self.bed_row = np.full(n_host, -1, dtype=np.int64)
        self.bed_row[self.multi] = n_fam + n_host + np.arange(n_multi)
        self.big_row = np.full(n_host, -1, dtype=np.int64)
        self.big_row[self.multi] = n_fam + n_host + n_multi + np.arange(n_multi)
        self.unit_row0 = n_fam + n_host + 2 * n_multi
        n_row = self.unit_row0 + n_unit
        inf = _core.kHighsInf
        lower = np.concatenate([np.ones(n_fam), np.full(n_row - n_fam, -inf)])
        upper = np.concatenate([np.ones(n_fam), cols.slots, p.h_beds[self.multi], np.ones(n_multi),
                                p.u_beds]).astype(float)
        self.h.addRows(n_row, lower, upper, 0, np.zeros(n_row, np.int32), np.zeros(0, np.int32), np.zeros(0))
        self.s_min = int(p.f_size.min(initial=1))
        self.kind: list[np.ndarray] = []     # 0: unplaced, 1: pair, 2: unit place
        self.who: list[np.ndarray] = []
        self.at: list[np.ndarray] = []
        self.keys = np.zeros(0, dtype=np.int64)   # sorted f * n_host + h of the pairs in the LP
        f = np.arange(n_fam)
        self._add(np.zeros(n_fam, np.int64), f, np.full(n_fam, -1), cols.unplaced_int, f, f,
                  np.ones(n_fam))

    def _add(self, kind, who, at, cost_int, col, row, val) -> None:
        """Columns given by their entries (col: index among the new ones, sorted; row, val)."""
        n = len(kind)
        if not n:
            return
        starts = np.searchsorted(col, np.arange(n)).astype(np.int32)
        inf = self.core.kHighsInf
        self.h.addCols(n, np.asarray(cost_int, dtype=float) / self.cols.scale, np.zeros(n), np.full(n, inf),
                       len(row), starts, np.asarray(row, dtype=np.int32), np.asarray(val, dtype=float))
        self.kind.append(np.asarray(kind, np.int64))
        self.who.append(np.asarray(who, np.int64))
        self.at.append(np.asarray(at, np.int64))

    def add_pairs(self, f: np.ndarray, h: np.ndarray, c: np.ndarray) -> int:
        """Add the pairs not in the LP yet; returns how many were new."""
        cols, p = self.cols, self.cols.p
        key = f * cols.n_host + h
        key, first = np.unique(key, return_index=True)
        new = ~np.isin(key, self.keys, assume_unique=True)
        sel = first[new]
        if not len(sel):
            return 0
        f, h, c = f[sel], h[sel], c[sel]
        self.keys = np.union1d(self.keys, key[new])
        n = len(f)
        size = p.f_size[f]
        multi = self.bed_row[h] >= 0
        slot_coef = np.where(multi & (size > p.h_beds[h] - self.s_min), cols.slots[h], 1)
        big = multi & (2 * size > p.h_beds[h])
        i = np.arange(n)
        col = np.concatenate([i, i, i[multi], i[big]])
        row = np.concatenate([f, cols.n_fam + h, self.bed_row[h[multi]], self.big_row[h[big]]])
        val = np.concatenate([np.ones(n), slot_coef, size[multi], np.ones(int(big.sum()))])
        o = np.argsort(col, kind="stable")
        self._add(np.ones(n, np.int64), f, h, c, col[o], row[o], val[o])
        return n

    def add_units(self, f: np.ndarray, u: np.ndarray) -> None:
        """Add unit places (family f[i] in unit u[i])."""
        cols = self.cols
        n = len(f)
        i = np.arange(n)
        col = np.concatenate([i, i])
        row = np.concatenate([f, self.unit_row0 + u])
        val = np.concatenate([np.ones(n), cols.p.f_size[f]]).astype(float)
        o = np.argsort(col, kind="stable")
        self._add(np.full(n, 2, np.int64), f, u, cols.u_int[f, u], col[o], row[o], val[o])

    def solve(self, deadline: float):
        """Re-solve; the same tuple as `_restricted_lp` but with the LP's pairs listed: (pair_f, pair_h,
        x, slot, bed, unit, fam_value, lp_unit), or None when it did not finish."""
        left = deadline - time.perf_counter()
        if left <= 0.1:
            return None
        # HiGHS counts its time limit from the object's first run, over every run since.
        self.h.setOptionValue("time_limit", float(min(self.h.getRunTime() + left, 1e9)))
        self.h.run()
        if self.h.getModelStatus() != self.core.HighsModelStatus.kOptimal:
            return None
        cols = self.cols
        n_fam, n_host = cols.n_fam, cols.n_host
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value)
        dual = np.asarray(sol.row_dual) * cols.scale
        kind, who, at = np.concatenate(self.kind), np.concatenate(self.who), np.concatenate(self.at)
        pair = kind == 1
        slot = np.maximum(0, np.rint(-dual[n_fam:n_fam + n_host])).astype(np.int64)
        bed = np.zeros(n_host, dtype=np.int64)
        bed[self.multi] = np.maximum(0, np.rint(-dual[self.bed_row[self.multi]])).astype(np.int64)
        unit = np.maximum(0, np.rint(-dual[self.unit_row0:])).astype(np.int64)
        fam_value = np.rint(dual[:n_fam]).astype(np.int64)
        lp_unit = np.full(n_fam, -1, dtype=np.int64)
        on = (kind == 2) & (x > 0.5)
        lp_unit[who[on]] = at[on]
        return who[pair], at[pair], x[pair], slot, bed, unit, fam_value, lp_unit


def _lp_prices(cols: _Columns, progress, hard_end: float = math.inf) -> _Prices:
    """Column generation: the restricted LP, then every left-out pair priced, until none would lower it."""
    p = cols.p
    n_fam, n_unit = cols.n_fam, len(p.u_beds)
    unit_ok = (cols.u_int < cols.unplaced_int[:, None]) if n_unit else np.zeros((n_fam, 0), dtype=bool)
    in_lp = np.zeros_like(unit_ok)
    if n_unit:
        # Each family's two cheapest units to start with; the others come in by pricing.
        first = np.argsort(np.where(unit_ok, cols.u_int, _INF), axis=1, kind="stable")[:, :2]
        rows = np.repeat(np.arange(n_fam), first.shape[1])
        in_lp[rows, first.ravel()] = True
        in_lp &= unit_ok
    tol = max(1, int(1e-7 * float(cols.unplaced_int.max(initial=0))))
    inc: _IncrementalLP | None = None
    if _at_scale(cols):
        try:
            inc = _IncrementalLP(cols)
        except (ImportError, AttributeError):  # SciPy before 1.15 has no HiGHS object of its own: a cold LP
            inc = None
    in_inc = np.zeros_like(in_lp)
    last = None
    best_bound: int | None = None
    for rnd in range(LP_ROUNDS):
        if inc is not None:
            inc.add_pairs(cols.pair_fam, cols.pair_host, cols.pair_cost)
            uf, uu = np.nonzero(in_lp & ~in_inc)
            inc.add_units(uf, uu)
            in_inc |= in_lp
            lp = inc.solve(hard_end)
            if lp is None:
                break
            # New columns leave the last basis primal feasible: the primal simplex goes on from it
            # (presolve helps the first, cold solve, but would throw the basis away).
            inc.h.setOptionValue("simplex_strategy", 4)
            inc.h.setOptionValue("presolve", "off")
            pf, ph, x, slot, bed, unit, fam_value, lp_unit = lp
        else:
            uf, uu = np.nonzero(in_lp)
            lp = _restricted_lp(cols, uf, uu, hard_end)
            if lp is None:
                break
            x, slot, bed, unit, fam_value, lp_unit = lp
            pf, ph = cols.pair_fam, cols.pair_host
        # The LP's whole pairs, read before pricing adds to (and reorders) the restricted set.
        lp_host = np.full(n_fam, -1, dtype=np.int64)
        sel = np.flatnonzero(x > 0.5)
        lp_host[pf[sel]] = ph[sel]
        on = np.flatnonzero(x > 1e-6)
        last = (slot, bed, unit, lp_host, fam_value, lp_unit, pf[on] * cols.n_host + ph[on])
        if inc is None:
            # Below scale the bound is cheap: the best over the rounds is kept.
            fam_min, bound = _bound_at(cols, slot, bed, unit)
            best_bound = bound if best_bound is None else max(bound, best_bound)
        _report(progress, 0.5 + 0.02 * min(10, rnd), f"LP round {rnd + 1}", None)
        if time.perf_counter() > hard_end:
            break  # no LP round follows: pricing (seconds at city scale) would be of no use
        added = _price_at(cols, fam_value, slot, bed, tol)
        if n_unit:
            red = np.where(unit_ok & ~in_lp, cols.u_int + unit[None, :] * p.f_size[:, None], _INF)
            new = red < (fam_value - tol)[:, None]
            in_lp |= new
            added += int(new.sum())
        _report(progress, 0.5 + 0.02 * min(10, rnd), f"LP round {rnd + 1}: {added} pairs added", None)
        # A work limit (rounds), not the clock: the same input prices the same columns under any load.
        if not added:
            break
    if last is None:
        z = np.zeros(cols.n_host, dtype=np.int64)
        fam_min, bound = _bound_at(cols, z, z, np.zeros(n_unit, dtype=np.int64))
        return _Prices(z, z, np.zeros(n_unit, dtype=np.int64), fam_min, bound, None)
    slot, bed, unit, lp_host, fam_value, lp_unit, support = last
    if best_bound is None:
        # At scale each evaluation takes seconds, and the bound with whole choices at the family values
        # (`_family_lagrange`) is the one that counts: this one is left at 0 (all costs are >= 0).
        fam_min, best_bound = fam_value, 0
    return _Prices(slot, bed, unit, fam_min, best_bound, lp_host, fam_value, lp_unit, support)


def _exact_multi(cols: _Columns, r: _Relaxation, deadline: float, workers: int, progress):
    """Host beds may bind: LP prices, a bound with whole host and unit choices, a good solution, then the
    exact model on the pairs within the gap.

    A solution that uses a pair whose reduced cost (at the family values) exceeds `incumbent - bound`
    costs more than the incumbent, so a model holding every pair within that gap, solved to optimality,
    is optimal for the whole instance.
    """
    # Time is kept back for the repair and improvement that follow, which cannot stop midway; at city
    # scale also for the bound with whole choices (5-8 s in all there, at least 3 s).
    left = max(0.0, deadline - time.perf_counter())
    keep = max(min(8.0, 0.25 * left), 3.0) if _at_scale(cols) else min(4.0, 0.25 * left)
    pr = _lp_prices(cols, progress, deadline - keep)
    lb = pr.bound
    lag = None
    if pr.fam_value is not None:
        lag = _family_lagrange(cols, pr.fam_value, deadline)
        if lag is not None:
            lb = max(lb, lag.bound)
    # A first solution: the LP's whole pairs, repaired, then the cheap improvements.
    fam_host = pr.lp_host if pr.lp_host is not None else r.fam_host
    best_h, best_u = _repair(cols, fam_host, pr.lp_unit)
    best_h, best_u = _improve(cols, best_h, best_u, deadline)
    ub = _value(cols, best_h, best_u)
    _report(progress, 0.75, f"bound {_as_float(cols, lb):.3f}", _as_float(cols, ub))
    base = int(cols.unplaced_int.sum())
    if ub <= lb or lag is None:
        return best_h, best_u, ub, min(lb, ub), ("OPTIMAL" if ub <= lb else "FEASIBLE")
    # First each family's nearest pairs (quick, good solutions), then every pair within the gap.
    for stage, per_family in enumerate(STAGES):
        remaining = deadline - time.perf_counter()
        if remaining < 0.3 or ub <= lb:
            break
        final = per_family is None
        gap = ub - lb
        if final:
            # Every column of the instance within the gap, families without a school counted by class:
            # solved to the end, that model's optimum is the instance's.
            mdl = _aggregated_model(cols, lag, gap, best_h, best_u, MIP_PAIRS)
            if mdl is None:
                # Too big: the quick stage on each family's nearest pairs comes next instead.
                continue
            _report(progress, 0.9, f"exact model on {mdl.n_col} columns within the gap", _as_float(cols, ub))
            res_a = _solve_aggregated(cols, mdl, ub - base, deadline, _proof_gap(cols, ub))
            if res_a is None:
                break
            _, h3, u3, b3 = res_a
            if h3 is not None and _value(cols, h3, u3) < ub:
                best_h, best_u = _improve(cols, h3, u3, deadline)
                ub = _value(cols, best_h, best_u)
            if b3 is not None:
                # HiGHS stops once its bound is within the proof gap: the bound, not its solution, counts.
                lb = max(lb, min(base + b3, ub))
            break
        if stage + 1 < len(STAGES) and STAGES[stage + 1] is None and \
                _aggregated_model(cols, lag, gap, best_h, best_u, MIP_PAIRS) is None:
            # This quick stage only prepares the exact model within the gap, which is too big here.
            continue
        red, _ = _pair_reduced(cols, lag)
        unit_ok = _unit_reduced(cols, lag) <= gap
        if per_family == 0:
            # The pairs the LP uses: nearly a solution already (the LP is tight), so this small model
            # turns it into a good whole one quickly.
            if pr.lp_support is None:
                continue
            key = cols.pair_fam * cols.n_host + cols.pair_host
            arcs = np.flatnonzero(np.isin(key, pr.lp_support))
            unit_ok = None
        else:
            arcs = _nearest(cols, red, gap, per_family)
        hint_pos = _arc_lookup(cols, best_h)
        arcs = np.union1d(arcs, hint_pos[hint_pos >= 0])
        if unit_ok is not None:
            on_unit = (best_h < 0) & (best_u >= 0)
            unit_ok[np.flatnonzero(on_unit), best_u[on_unit]] = True
        if len(arcs) > QUICK_PAIRS:
            # HiGHS may overrun its time limit on a model this size (seen at city scale: by 30 s on
            # 133,000 pairs), and within 400 nodes it finds nothing better there.
            continue
        _report(progress, 0.8 + 0.05 * stage, f"exact model on {len(arcs)} pairs", _as_float(cols, ub))
        # Work limits (branch-and-bound nodes) for the quick stages, so that load cannot change them;
        # the clock only guards the time limit.
        res = _milp(cols, arcs, deadline, unit_ok, node_limit=STAGE_NODES)
        if res is None:
            continue
        st, h3, u3, v3, b3 = res
        if v3 < ub:
            best_h, best_u = _improve(cols, h3, u3, deadline)
            ub = _value(cols, best_h, best_u)
    status = "FEASIBLE"
    if ub <= lb:
        status, lb = "OPTIMAL", ub
    return best_h, best_u, ub, lb, status


def _nearest(cols: _Columns, red: np.ndarray, gap: int, per_family: int) -> np.ndarray:
    """Each family's `per_family` pairs of least reduced cost (within the gap), ties broken at random:
    many hosts tie at zero for families without a school, and they should not all queue for the same."""
    tie = np.random.default_rng(7).random(len(red))
    o = np.lexsort((tie, red, cols.pair_fam))
    start = np.searchsorted(cols.pair_fam[o], cols.pair_fam[o])
    sel = o[((np.arange(len(o)) - start) < per_family) & (red[o] <= gap)]
    return np.sort(sel)


# --------------------------------------------------------------------------- the exact model within the gap, aggregated


@dataclass
class _AggModel:
    """The exact model restricted to the columns whose reduced cost is within a gap, with families
    without a schooled child counted by class, and plain one-family hosts they alone can use counted
    by host class (members of a class are interchangeable, so counts lose nothing)."""

    n_col: int
    cost: np.ndarray          # integer, relative to leaving the family unplaced
    upper: np.ndarray         # column upper bounds
    a: object                 # sparse rows
    row_upper: np.ndarray
    kind: np.ndarray          # 0: x(f,h), 1: y(fc,h), 2: Y(fc,hc), 3: z(f,u), 4: W(fc,u), 5: v(h), a kept
                              # one-family host counted in its class
    who: np.ndarray           # family (kinds 0, 3), family class (1, 2, 4), -1 (5)
    where: np.ndarray         # host (0, 1, 5), host class (2) or unit (3, 4)
    agg_hosts: list           # per host class: its aggregated hosts (sorted)


def _aggregated_model(cols: _Columns, lag: _Lagrange, gap: int, keep_h: np.ndarray, keep_u: np.ndarray,
                      limit: int) -> _AggModel | None:
    """Every column of the instance whose reduced cost at the family values is at most `gap` (and the
    given solution's own places); None when there are more than `limit`."""
    from scipy import sparse

    p = cols.p
    size, u = p.f_size, lag.u
    n_fam, n_host, n_unit = cols.n_fam, cols.n_host, len(p.u_beds)
    extras = {s_: _host_extra(cols, lag, s_) for s_ in np.unique(size).tolist()}
    sch = cols.sch
    # Families with a schooled child: their listed pairs within the gap.
    if len(sch):
        ex = np.zeros(len(sch), dtype=np.int64)
        for s_, e in extras.items():
            sel = size[sch.f] == s_
            ex[sel] = e[sch.h[sel]]
        keep = (cols.sch_c - u[sch.f] + ex) <= gap
        keep |= keep_h[sch.f] == sch.h
        si = np.flatnonzero(keep)
    else:
        si = np.zeros(0, np.int64)
    if len(si) > limit:
        return None
    x_f, x_h, x_c = sch.f[si], sch.h[si], cols.sch_c[si]
    # Hosts kept one by one: those of the listed pairs, every host taking several families, and
    # any host the given solution uses; the other one-family hosts are counted per class.
    single = np.zeros(n_host, dtype=bool)
    single[x_h] = True
    single |= cols.slots >= 2
    single[keep_h[keep_h >= 0]] = True
    single &= cols.slots >= 1
    cls = cols.cls
    kind, who, where, cost, upper = [np.zeros(len(si), np.int64)], [x_f], [x_h], [x_c - cols.unplaced_int[x_f]], \
        [np.ones(len(si), np.int64)]
    agg_hosts: list = []
    n_total = len(si)
    n_hc = cls.compat.shape[1] if len(cls.fams) else 0
    one = (cols.slots == 1) & (cls.host_class >= 0) if n_hc else np.zeros(n_host, bool)
    if len(cls.fams) and n_hc:
        hc_of = cls.host_class
        multi_k = np.flatnonzero(single & (cols.slots >= 2) & (hc_of >= 0))
        hc_multi = hc_of[multi_k]
        pooled = one & ~single
        order = np.flatnonzero(pooled)
        order = order[np.argsort(hc_of[order], kind="stable")]
        starts = np.searchsorted(hc_of[order], np.arange(n_hc + 1))
        agg_hosts = [order[starts[c]:starts[c + 1]] for c in range(n_hc)]
        # One-family hosts kept one by one take part in their class's count through a 0/1 column.
        k1 = np.flatnonzero(single & one)
        kind.append(np.full(len(k1), 5, np.int64))
        who.append(np.full(len(k1), -1, np.int64))
        where.append(k1)
        cost.append(np.zeros(len(k1), np.int64))
        upper.append(np.ones(len(k1), np.int64))
        n_total += len(k1)
        one_count = np.bincount(hc_of[one], minlength=n_hc)
        # Per size, the least extra over each class's one-family hosts bounds the extra of any of them.
        emin = {}
        for s_, e in extras.items():
            m_ = np.full(n_hc, _INF, dtype=np.int64)
            np.minimum.at(m_, hc_of[one], np.minimum(e[one], _INF))
            emin[s_] = m_
        for fc, mem in enumerate(cls.fc_members):
            if not len(mem):
                continue
            n_m = len(mem)
            s_ = int(size[mem[0]])
            ex = extras[s_]
            top = int(u[mem].max())
            base = int(cols.unplaced_int[mem[0]])
            lang_row = np.where(cls.nolang[fc], cols.lang_int, 0)
            kh = keep_h[mem]
            kh = kh[kh >= 0]
            # Hosts taking several families, one by one.
            c_ind = lang_row[hc_multi]
            ok = cls.compat[fc, hc_multi] & (ex[multi_k] < _INF) & ((c_ind + ex[multi_k] - top <= gap)
                                                                   | np.isin(multi_k, kh))
            hs = multi_k[ok]
            kind.append(np.ones(len(hs), np.int64))
            who.append(np.full(len(hs), fc, np.int64))
            where.append(hs)
            cost.append(c_ind[ok] - base)
            upper.append(np.minimum(n_m, cols.slots[hs]))
            # One-family hosts, counted per class.
            used = np.zeros(n_hc, dtype=bool)
            used[hc_of[kh[cols.slots[kh] == 1]]] = True
            hcs = np.flatnonzero(cls.compat[fc] & (one_count > 0) & ((lang_row + emin[s_] - top <= gap) | used))
            kind.append(np.full(len(hcs), 2, np.int64))
            who.append(np.full(len(hcs), fc, np.int64))
            where.append(hcs)
            cost.append(lang_row[hcs] - base)
            upper.append(np.minimum(n_m, one_count[hcs]))
            n_total += len(hs) + len(hcs)
            if n_total > limit:
                return None
    # Units.
    if n_unit:
        ured = _unit_reduced(cols, lag)
        allowed = (cols.u_int < cols.unplaced_int[:, None]) & (ured <= gap)
        on_unit = (keep_h < 0) & (keep_u >= 0)
        allowed[np.flatnonzero(on_unit), keep_u[on_unit]] = True
        sf = np.flatnonzero(p.f_schooled)
        uf, uu = np.nonzero(allowed[sf])
        uf = sf[uf]
        kind.append(np.full(len(uf), 3, np.int64))
        who.append(uf)
        where.append(uu)
        cost.append(cols.u_int[uf, uu] - cols.unplaced_int[uf])
        upper.append(np.ones(len(uf), np.int64))
        for fc, mem in enumerate(cls.fc_members if len(cls.fams) else []):
            if not len(mem):
                continue
            uu = np.flatnonzero(allowed[mem].any(axis=0))
            kind.append(np.full(len(uu), 4, np.int64))
            who.append(np.full(len(uu), fc, np.int64))
            where.append(uu)
            cost.append(cols.u_int[mem[0], uu] - cols.unplaced_int[mem[0]])
            upper.append(np.full(len(uu), len(mem), np.int64))
    kind_a, who_a, where_a = np.concatenate(kind), np.concatenate(who), np.concatenate(where)
    cost_a, upper_a = np.concatenate(cost), np.concatenate(upper)
    n_col = len(kind_a)
    if n_col > limit:
        return None
    n_fc = len(cls.fc_members) if len(cls.fams) else 0
    n_hc = cls.compat.shape[1] if len(cls.fams) else 0
    fam_row = np.full(n_fam, -1, np.int64)
    sf = np.flatnonzero(p.f_schooled)
    fam_row[sf] = np.arange(len(sf))
    r_fc = len(sf)                                  # family-class rows
    r_slot = r_fc + n_fc                            # host slot rows (hosts kept one by one)
    host_row = np.full(n_host, -1, np.int64)
    kept = np.flatnonzero(single)
    host_row[kept] = np.arange(len(kept))
    multi = kept[cols.slots[kept] >= 2]
    multi_row = np.full(n_host, -1, np.int64)
    r_bed = r_slot + len(kept)
    multi_row[multi] = r_bed + np.arange(len(multi))
    r_pool = r_bed + len(multi)
    r_unit = r_pool + n_hc
    n_row = r_unit + n_unit
    col = np.arange(n_col)
    is_x, is_y, is_pool, is_z, is_w, is_v = (kind_a == k for k in range(6))
    persons = np.where(is_x | is_z, size[np.where(is_x | is_z, who_a, 0)], 0)
    if n_fc:
        fc_size = np.array([size[m[0]] if len(m) else 0 for m in cls.fc_members], dtype=np.int64)
        persons = np.where(is_y | is_pool | is_w, fc_size[np.where(is_y | is_pool | is_w, who_a, 0)], persons)
    on_host = is_x | is_y | is_v
    bed_col = np.zeros(n_col, dtype=bool)
    hx = np.flatnonzero(is_x | is_y)
    bed_col[hx] = multi_row[where_a[hx]] >= 0
    fam_col = ~is_v
    # The two valid rows of the LP (`_restricted_lp`) at hosts taking several families: a family too big
    # to share the host counts for all its slots, and families bigger than half its beds exclude each
    # other. They keep this model's own LP as tight as the bound the gap was measured from.
    h_at = where_a[bed_col]
    s_min = int(p.f_size.min(initial=1))
    slot_coef = np.ones(n_col)
    slot_coef[bed_col] = np.where(persons[bed_col] > p.h_beds[h_at] - s_min, cols.slots[h_at], 1)
    big_col = np.zeros(n_col, dtype=bool)
    big_col[bed_col] = 2 * persons[bed_col] > p.h_beds[h_at]
    r_big = n_row
    rows = np.concatenate([
        np.where(is_x | is_z, fam_row[np.where(is_x | is_z, who_a, 0)], r_fc + who_a)[fam_col],
        r_slot + host_row[where_a[on_host]],
        multi_row[where_a[bed_col]],
        r_pool + where_a[is_pool],
        r_pool + cls.host_class[where_a[is_v]],
        r_unit + where_a[is_z | is_w],
        r_big + multi_row[where_a[big_col]] - r_bed])
    cidx = np.concatenate([col[fam_col], col[on_host], col[bed_col], col[is_pool], col[is_v], col[is_z | is_w],
                           col[big_col]])
    vals = np.concatenate([np.ones(int(fam_col.sum())), slot_coef[on_host], persons[bed_col],
                           np.ones(int(is_pool.sum())), -np.ones(int(is_v.sum())), persons[is_z | is_w],
                           np.ones(int(big_col.sum()))]).astype(float)
    a = sparse.csr_matrix((vals, (rows, cidx)), shape=(n_row + len(multi), n_col))
    fc_count = np.array([len(m) for m in cls.fc_members], dtype=np.int64) if n_fc else np.zeros(0, np.int64)
    pool_sizes = np.array([len(x) for x in agg_hosts], dtype=np.int64) if n_hc else np.zeros(0, np.int64)
    row_upper = np.concatenate([np.ones(len(sf)), fc_count, cols.slots[kept], p.h_beds[multi], pool_sizes,
                                p.u_beds, np.ones(len(multi))]).astype(float)
    return _AggModel(n_col, cost_a, upper_a, a, row_upper, kind_a, who_a, where_a, agg_hosts)


def _proof_gap(cols: _Columns, ub: int) -> int:
    """How far (in scaled units) a bound may stay below the integer value `ub` and still prove OPTIMAL:
    most of the tolerance OPTIMAL allows (`OPTIMAL_REL_TOL`), less twice the rounding and the margin
    HiGHS's bound is taken with."""
    real = abs(_as_float(cols, ub))
    highs_margin = 1e-9 * abs(ub - int(cols.unplaced_int.sum())) + 2
    return max(0, int(cols.scale * (0.9 * OPTIMAL_REL_TOL * max(1.0, real) - 2 * _rounding(cols)) - highs_margin))


def _solve_aggregated(cols: _Columns, mdl: _AggModel, cutoff: int, deadline: float, abs_gap: int = 0):
    """Solve the aggregated model by HiGHS (SciPy) with the incumbent's value as cutoff, until its bound is
    within `abs_gap` (scaled units) of its best solution; returns (finished, fam_host, fam_unit, bound)
    with the bound in scaled units relative to everyone unplaced, or None when no solution came back."""
    import warnings

    from scipy.optimize import Bounds, LinearConstraint, milp

    left = deadline - time.perf_counter()
    if left < 0.3:
        return None
    if mdl.n_col == 0:
        return True, np.full(cols.n_fam, -1, dtype=np.int64), np.full(cols.n_fam, -1, dtype=np.int64), 0
    # Without presolve: on this model HiGHS's presolve and the restarts it leads to cost far more than they
    # save (on 1,000 families x 1,100 hosts: 56 s with it, 6-10 s without, at a machine load of 3).
    opts = {"time_limit": left, "mip_rel_gap": 0.0, "presolve": False, "mip_abs_gap": abs_gap / cols.scale,
            # Nothing worse than the incumbent (plus a margin for HiGHS's tolerances) is of use.
            "objective_bound": (cutoff + 1 + 1e-9 * abs(cutoff)) / cols.scale}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = milp(mdl.cost.astype(float) / cols.scale, integrality=np.ones(mdl.n_col), bounds=Bounds(0, mdl.upper),
                   constraints=LinearConstraint(mdl.a, -np.inf, mdl.row_upper), options=opts)
    dual = getattr(res, "mip_dual_bound", None)
    bound = None
    if dual is not None and np.isfinite(dual):
        scaled = dual * cols.scale
        bound = int(math.floor(scaled - 1e-9 * abs(scaled) - 1))
    if res.x is None:
        return res.status == 0, None, None, bound
    x = np.rint(res.x).astype(np.int64)
    fam_host = np.full(cols.n_fam, -1, dtype=np.int64)
    fam_unit = np.full(cols.n_fam, -1, dtype=np.int64)
    cls = cols.cls
    queue = {fc: list(m.tolist()) for fc, m in enumerate(cls.fc_members)} if len(cls.fams) else {}
    pool = [list(h.tolist()) for h in mdl.agg_hosts]
    for j in np.flatnonzero((x > 0) & (mdl.kind == 5)).tolist():
        h = int(mdl.where[j])
        pool[int(cls.host_class[h])].insert(0, h)
    for j in np.flatnonzero((x > 0) & (mdl.kind != 5)).tolist():
        k, w, at, n = int(mdl.kind[j]), int(mdl.who[j]), int(mdl.where[j]), int(x[j])
        if k == 0:
            fam_host[w] = at
        elif k == 3:
            fam_unit[w] = at
        else:
            for _ in range(n):
                f = queue[w].pop(0)
                if k == 1:
                    fam_host[f] = at
                elif k == 2:
                    fam_host[f] = pool[at].pop(0)
                else:
                    fam_unit[f] = at
    _add_pairs(cols, fam_host)
    return res.status == 0, fam_host, fam_unit, bound


def _add_pairs(cols: _Columns, fam_host: np.ndarray) -> None:
    """Bring the solution's family–host pairs into the restricted set (the objective is read from it)."""
    f = np.flatnonzero(fam_host >= 0)
    h = fam_host[f]
    have = np.isin(f * cols.n_host + h, cols.pair_fam * cols.n_host + cols.pair_host)
    f, h = f[~have], h[~have]
    if not len(f):
        return
    real = _float_costs(cols, f, h)
    c = cols.to_int(real)
    sch_key = cols.sch.f * cols.n_host + cols.sch.h if len(cols.sch) else np.zeros(0, np.int64)
    if len(sch_key):
        cols.sch_in |= np.isin(sch_key, f * cols.n_host + h)
        o = np.argsort(sch_key, kind="stable")
        pos = np.searchsorted(sch_key[o], f * cols.n_host + h)
        found = (pos < len(sch_key)) & (sch_key[o][np.minimum(pos, len(sch_key) - 1)] == f * cols.n_host + h)
        c[found] = cols.sch_c[o[pos[found]]]
    cols.add(f, h, c, real)
    o = np.argsort(cols.pair_fam, kind="stable")
    cols._set(cols.pair_fam[o], cols.pair_host[o], cols.pair_cost[o], cols.pair_real[o])


# --------------------------------------------------------------------------- the improvement pass


def _host_options(cols: _Columns, f: int, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """Every host family f may go to (whole instance) and the integer cost of each."""
    if cols.p.f_schooled[f]:
        seg_f, seg_start = cols.sch_seg
        i = int(np.searchsorted(seg_f, f))
        if i >= len(seg_f) or seg_f[i] != f:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        end = seg_start[i + 1] if i + 1 < len(seg_start) else len(cols.sch)
        return cols.sch.h[seg_start[i]:end], cols.sch_c[seg_start[i]:end]
    fc = int(cols.fc_of[f])
    cls = cols.cls
    hc = cls.host_class
    ok = hc >= 0
    ok[ok] = cls.compat[fc, hc[ok]]
    hosts = np.flatnonzero(ok)
    return hosts, np.where(cls.nolang[fc, hc[hosts]], cols.lang_int, 0).astype(np.int64)


def _improve(cols: _Columns, fam_host: np.ndarray, fam_unit: np.ndarray, deadline: float = math.inf,
             rounds: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Local search: insert families that have no host into host room where that is cheaper, then
    one-for-one ejections (a family gives up its place at a host or in a unit to one without a host,
    and moves to its own cheapest option with room), repeated until neither finds anything.

    Whatever this returns admits no single insertion of an unhosted family into a host's remaining
    room, or into a unit's remaining beds, and no such swap, that would lower the total cost. Every
    move lowers the integer objective, so the search ends; the clock does not stop it (`deadline` is
    not used), and `rounds` only bounds the passes (1,000 per round) as a safeguard.
    """
    p = cols.p
    size = p.f_size
    fam_host, fam_unit = fam_host.copy(), np.where(fam_host >= 0, -1, fam_unit)
    n_unit = len(p.u_beds)
    cache: dict = {}
    beds_left = p.h_beds - np.bincount(fam_host[fam_host >= 0], weights=size[fam_host >= 0],
                                       minlength=cols.n_host).astype(np.int64)
    slots_left = p.h_slots - np.bincount(fam_host[fam_host >= 0], minlength=cols.n_host)
    unit_left = (p.u_beds - np.bincount(fam_unit[fam_unit >= 0], weights=size[fam_unit >= 0],
                                        minlength=n_unit).astype(np.int64)) if n_unit else np.zeros(0, np.int64)
    new_pairs: list[tuple[int, int, int]] = []
    hcost = np.zeros(cols.n_fam, dtype=np.int64)   # each hosted family's cost at its host
    fc_size = np.array([size[m[0]] if len(m) else 0 for m in cols.cls.fc_members], dtype=np.int64)

    def cur_cost(f: int) -> int:
        if fam_unit[f] >= 0:
            return int(cols.u_int[f, fam_unit[f]])
        return int(cols.unplaced_int[f])

    def host_cost(f: int, h: int) -> int:
        hs, cs = _host_options(cols, f, cache)
        return int(cs[np.flatnonzero(hs == h)[0]])

    def best_elsewhere(g: int, banned: int) -> tuple[int, int, int]:
        """g's cheapest option with room now other than host `banned`: (cost, host, unit)."""
        best = (int(cols.unplaced_int[g]), -1, -1)
        hs, cs = _host_options(cols, g, cache)
        ok = (hs != banned) & (slots_left[hs] >= 1) & (beds_left[hs] >= size[g])
        if ok.any():
            i = int(np.argmin(np.where(ok, cs, _INF)))
            if cs[i] < best[0]:
                best = (int(cs[i]), int(hs[i]), -1)
        if n_unit:
            ok_u = (cols.u_int[g] < _INF) & (unit_left >= size[g])
            if ok_u.any():
                j = int(np.argmin(np.where(ok_u, cols.u_int[g], _INF)))
                if cols.u_int[g, j] < best[0]:
                    best = (int(cols.u_int[g, j]), -1, j)
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
            hcost[f] = host_cost(f, h)
            new_pairs.append((f, h, int(hcost[f])))
        if u >= 0:
            unit_left[u] -= size[f]

    def insert_all() -> bool:
        """Insertions, the biggest saving first (each re-checked against the room left when its turn comes);
        always to the end, whatever the clock: an answer never leaves an insertion undone."""
        gains, done = [], False
        for f in np.flatnonzero(fam_host < 0).tolist():
            c, h, u = best_elsewhere(f, -1)
            if cur_cost(f) - c > 0:
                gains.append((c - cur_cost(f), f))
        for _, f in sorted(gains):
            c, h, u = best_elsewhere(f, -1)
            if cur_cost(f) - c > 0 and (h >= 0 or u != fam_unit[f]):
                move(f, h, u)
                done = True
        return done

    counted: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _room_counts(s_: int, cnt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per family class of s_ persons: how many hosts with room for s_ persons it may use at no
        language cost, and at that cost (`cnt`: hosts with room per host class). Counted in full once,
        then updated from the host classes whose count changed (a pass moves few families)."""
        cls = cols.cls
        if s_ not in counted:
            fcs = np.flatnonzero(fc_size == s_)
            cheap_fc = np.zeros(len(fc_size), dtype=np.int64)
            dear_fc = np.zeros(len(fc_size), dtype=np.int64)
            step = max(1, 2_000_000 // cls.compat.shape[1])   # rows per block: no full-size copy at city scale
            c32 = cnt.astype(np.float32)                      # exact up to 2**24; the products run in BLAS
            for a0 in range(0, len(fcs), step):
                rows = fcs[a0:a0 + step]
                cm, nl = cls.compat[rows], cls.nolang[rows]
                cheap_fc[rows] = np.rint((cm & ~nl).astype(np.float32) @ c32).astype(np.int64)
                dear_fc[rows] = np.rint((cm & nl).astype(np.float32) @ c32).astype(np.int64)
            counted[s_] = (cnt.copy(), cheap_fc, dear_fc)
        prev, cheap_fc, dear_fc = counted[s_]
        ch = np.flatnonzero(cnt != prev)
        if len(ch):
            fcs = np.flatnonzero(fc_size == s_)
            d = (cnt - prev)[ch]
            cm, nl = cls.compat[np.ix_(fcs, ch)], cls.nolang[np.ix_(fcs, ch)]
            cheap_fc[fcs] += (cm & ~nl).astype(np.int64) @ d
            dear_fc[fcs] += (cm & nl).astype(np.int64) @ d
            prev[:] = cnt
        return cheap_fc, dear_fc

    def regrets() -> np.ndarray:
        """Per family with a host or in a unit: its cheapest option with room now other than its own host,
        less its cost where it is (_INF for unplaced families). A family in a unit may see its own unit
        among the options: that only makes its regret lower, so it only proposes swaps to be checked."""
        hosted = fam_host >= 0
        in_unit = ~hosted & (fam_unit >= 0)
        alt = cols.unplaced_int.copy()
        if n_unit:
            uok = (cols.u_int < _INF) & (unit_left[None, :] >= size[:, None])
            alt = np.minimum(alt, np.where(uok, cols.u_int, _INF).min(axis=1))
        sch = cols.sch
        if len(sch):
            ok = (slots_left[sch.h] >= 1) & (beds_left[sch.h] >= size[sch.f]) & (sch.h != fam_host[sch.f])
            seg_f, seg_start = cols.sch_seg
            alt[seg_f] = np.minimum(alt[seg_f], np.minimum.reduceat(np.where(ok, cols.sch_c, _INF), seg_start))
        cls = cols.cls
        ns = np.flatnonzero((hosted | in_unit) & (cols.fc_of >= 0))
        if len(ns) and cls.compat.shape[1]:
            hc = cls.host_class
            for s_ in np.unique(size[ns]).tolist():
                g = ns[size[ns] == s_]
                # Hosts with room for this size, counted per host class; a family's own host is left out.
                room = (slots_left >= 1) & (beds_left >= s_) & (hc >= 0)
                cheap_fc, dear_fc = _room_counts(s_, np.bincount(hc[room], minlength=cls.compat.shape[1]))
                fc, own = cols.fc_of[g], fam_host[g]
                own_room = room[own] & (own >= 0)
                own_nl = cls.nolang[fc, hc[own]]
                cheap = cheap_fc[fc] - (own_room & ~own_nl)
                dear = dear_fc[fc] - (own_room & own_nl)
                alt[g] = np.minimum(alt[g], np.where(cheap > 0, 0, np.where(dear > 0, cols.lang_int, _INF)))
        here = np.where(hosted, hcost, _INF)
        if n_unit:
            uf = np.flatnonzero(in_unit)
            here[uf] = cols.u_int[uf, fam_unit[uf]]
        return np.where(hosted | in_unit, alt - here, _INF)

    def unit_swap(f: int, now: int, least_u: np.ndarray) -> bool:
        """f takes the place of a family g in a unit (where f fits once g leaves), g moves to its cheapest
        option with room elsewhere, when that lowers the total; checked on the room now."""
        gain = np.where(cols.u_int[f] < _INF, now - cols.u_int[f] - least_u, -1)
        if fam_unit[f] >= 0:
            gain[fam_unit[f]] = -1
        u = int(np.argmax(gain))
        if gain[u] <= 0:
            return False
        best = None
        left, unit_left[u] = unit_left[u], -1     # g's options elsewhere: not this unit
        for g in np.flatnonzero((fam_unit == u) & (fam_host < 0)).tolist():
            if left + size[g] < size[f]:
                continue
            alt_c, alt_h, alt_u = best_elsewhere(g, -1)
            gn = now + int(cols.u_int[g, u]) - int(cols.u_int[f, u]) - alt_c
            if gn > 0 and (best is None or gn > best[0]):
                best = (gn, g, alt_h, alt_u)
        unit_left[u] = left
        if best is None:
            return False
        move(best[1], best[2], best[3])
        move(f, -1, u)
        return True

    def swaps() -> bool:
        """One pass of one-for-one ejections: a family without a host takes the place of a hosted family g
        (where it fits once g leaves), and g moves to its cheapest option with room elsewhere, when that
        lowers the total. Every host of each family is looked at; a pass that moves nothing proves that
        no such swap is left."""
        reg = regrets()
        hosted = np.flatnonzero(fam_host >= 0)
        least: dict[int, np.ndarray] = {}
        for s_ in np.unique(size[fam_host < 0]).tolist():
            r_ = np.full(cols.n_host, _INF, dtype=np.int64)
            fit = hosted[beds_left[fam_host[hosted]] + size[hosted] >= s_]
            np.minimum.at(r_, fam_host[fit], reg[fit])
            least[s_] = r_
        # The same per unit: a family may take the place of one in a unit, which moves elsewhere.
        least_u: dict[int, np.ndarray] = {}
        in_u = np.flatnonzero((fam_host < 0) & (fam_unit >= 0))
        for s_ in np.unique(size[fam_host < 0]).tolist() if n_unit else []:
            r_ = np.full(n_unit, _INF, dtype=np.int64)
            fit = in_u[unit_left[fam_unit[in_u]] + size[in_u] >= s_]
            np.minimum.at(r_, fam_unit[fit], reg[fit])
            least_u[s_] = r_
        done = False
        for f in np.flatnonzero(fam_host < 0).tolist():
            now = cur_cost(f)
            if n_unit and unit_swap(f, now, least_u[int(size[f])]):
                done = True
                continue
            hs, cs = _host_options(cols, f, cache)
            if not len(hs):
                continue
            gain = now - cs - least[int(size[f])][hs]
            i = int(np.argmax(gain))
            if gain[i] <= 0:
                continue
            # The prices above may be stale after this pass's moves: the swap is checked on the room now.
            h, c = int(hs[i]), int(cs[i])
            best = None
            for g in np.flatnonzero(fam_host == h).tolist():
                if beds_left[h] + size[g] < size[f]:
                    continue
                alt_c, alt_h, alt_u = best_elsewhere(g, h)
                gn = now + int(hcost[g]) - c - alt_c
                if gn > 0 and (best is None or gn > best[0]):
                    best = (gn, g, alt_h, alt_u)
            if best is not None:
                move(best[1], best[2], best[3])
                move(f, h, -1)
                done = True
        return done

    # Each hosted family's cost at its host.
    pos = _arc_lookup(cols, fam_host)
    for f in np.flatnonzero(fam_host >= 0).tolist():
        j = int(pos[f])
        same = j >= 0 and cols.pair_fam[j] == f and cols.pair_host[j] == fam_host[f]
        hcost[f] = cols.pair_cost[j] if same else host_cost(f, int(fam_host[f]))

    # Insertions and swaps until neither finds anything (each move lowers the integer objective, so this
    # ends; the clock does not stop it): the answer admits no improving insertion or swap.
    for _ in range(max(1, rounds) * 1000):
        inserted = insert_all()
        if not swaps() and not inserted:
            break
    if new_pairs:
        have = set((cols.pair_fam * cols.n_host + cols.pair_host).tolist())
        add = [(f, h, c) for f, h, c in dict.fromkeys(new_pairs) if f * cols.n_host + h not in have]
        if add:
            f_, h_, c_ = (np.array(x, dtype=np.int64) for x in zip(*add, strict=True))
            cols.add(f_, h_, c_, _float_costs(cols, f_, h_))
            o = np.argsort(cols.pair_fam, kind="stable")
            cols._set(cols.pair_fam[o], cols.pair_host[o], cols.pair_cost[o], cols.pair_real[o])
            if len(cols.sch):
                key = cols.sch.f * cols.n_host + cols.sch.h
                cols.sch_in |= np.isin(key, f_ * cols.n_host + h_)
    return fam_host, fam_unit


def _float_costs(cols: _Columns, f: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The spec's (unrounded) cost of pairs (f[i], h[i])."""
    out = np.zeros(len(f))
    sch = cols.sch
    key = sch.f * cols.n_host + sch.h
    o = np.argsort(key, kind="stable")
    want = f * cols.n_host + h
    pos = np.searchsorted(key[o], want)
    found = (pos < len(key)) & (key[o][np.minimum(pos, max(len(key) - 1, 0))] == want) if len(key) else \
        np.zeros(len(f), bool)
    out[found] = sch.cost[o[pos[found]]]
    w_lang = cols.p.inst.params.weights.no_common_language
    ns = ~found
    if ns.any():
        out[ns] = np.where(C.no_common_language(cols.p, f[ns], h[ns]), w_lang, 0.0)
    return out


def _milp(cols: _Columns, arcs: np.ndarray, deadline: float, unit_ok: np.ndarray | None = None,
          node_limit: int | None = None):
    """The exact model over the given pairs and every unit pair, by HiGHS (SciPy); status, solution, value, bound."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    p = cols.p
    n_fam, n_unit = cols.n_fam, len(p.u_beds)
    af, ah = cols.pair_fam[arcs], cols.pair_host[arcs]
    allowed = cols.u_int < cols.unplaced_int[:, None]
    if unit_ok is not None:
        allowed &= unit_ok
    uf, uu = np.nonzero(allowed) if n_unit else (np.zeros(0, np.int64),) * 2
    m, k = len(af), len(uf)
    n_col = m + k
    cost = np.concatenate([cols.pair_cost[arcs] - cols.unplaced_int[af],
                           cols.u_int[uf, uu] - cols.unplaced_int[uf]]).astype(float)
    fam = np.concatenate([af, uf])
    hosts = np.unique(ah)
    multi = hosts[p.h_slots[hosts] >= 2]
    is_multi = np.isin(ah, multi)
    n_h, n_m = len(hosts), len(multi)
    rows = np.concatenate([fam, n_fam + np.searchsorted(hosts, ah), n_fam + n_h + np.searchsorted(multi, ah[is_multi]),
                           n_fam + n_h + n_m + uu])
    col_idx = np.concatenate([np.arange(n_col), np.arange(m), np.flatnonzero(is_multi), m + np.arange(k)])
    vals = np.concatenate([np.ones(n_col), np.ones(m), p.f_size[af[is_multi]], p.f_size[uf]]).astype(float)
    n_row = n_fam + n_h + n_m + n_unit
    a = sparse.csr_matrix((vals, (rows, col_idx)), shape=(n_row, n_col))
    upper = np.concatenate([np.ones(n_fam), cols.slots[hosts], p.h_beds[multi], p.u_beds]).astype(float)
    opts = {"time_limit": max(0.2, deadline - time.perf_counter()), "mip_rel_gap": 0.0, "presolve": True}
    if node_limit is not None:
        opts["node_limit"] = node_limit
    res = milp(cost / cols.scale, integrality=np.ones(n_col), bounds=Bounds(0, 1),
               constraints=LinearConstraint(a, -np.inf, upper), options=opts)
    if res.x is None:
        return None
    x = res.x > 0.5
    fam_host = np.full(n_fam, -1, dtype=np.int64)
    fam_unit = np.full(n_fam, -1, dtype=np.int64)
    fam_host[af[x[:m]]] = ah[x[:m]]
    fam_unit[uf[x[m:]]] = uu[x[m:]]
    base = int(cols.unplaced_int.sum())
    value = _value(cols, fam_host, fam_unit)
    dual = getattr(res, "mip_dual_bound", None)
    # HiGHS works in floating point: its bound is taken with a margin for its tolerances.
    bound = None
    if dual is not None and np.isfinite(dual):
        scaled = dual * cols.scale
        bound = base + int(math.floor(scaled - 1e-9 * abs(scaled) - 1))
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


def _family_lagrange(cols: _Columns, u: np.ndarray, deadline: float = math.inf) -> _Lagrange | None:
    """A lower bound for the whole instance from a value u_f per family: each family's "exactly one place"
    is priced at u_f, and every host then takes its best set of families (slots and beds respected) and
    every unit its best set (beds respected), each solved exactly.
    """
    p = cols.p
    size = p.f_size
    n_host = cols.n_host
    total = int(u.sum()) + int(np.minimum(0, cols.unplaced_int - u).sum())
    slots, beds = cols.slots, np.maximum(p.h_beds, 0)
    # Families with a schooled child: their pairs, listed, that gain at u.
    sch = cols.sch
    v = cols.sch_c - u[sch.f] if len(sch) else np.zeros(0, np.int64)
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
    cls = cols.cls
    ns_items: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if len(cls.fams) and cls.compat.shape[1]:
        n_fc, n_hc = cls.compat.shape
        k_top = max(1, int(slots.max(initial=1)))
        top = np.full((n_fc, k_top), -_INF, dtype=np.int64)
        fc_size = np.zeros(n_fc, dtype=np.int64)
        for fc, mem in enumerate(cls.fc_members):
            if len(mem):
                best_u = np.sort(u[mem])[::-1][:k_top]
                top[fc, :len(best_u)] = best_u
                fc_size[fc] = size[mem[0]]
        lang = np.where(cls.nolang, cols.lang_int, 0)
        hc_single = np.zeros(n_hc, dtype=np.int64)
        multi_hc = set(cls.host_class[(slots >= 2) & (cls.host_class >= 0)].tolist())
        for hc in range(n_hc):
            if hc % 256 == 0 and time.perf_counter() > deadline:
                return None
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
        vu = np.where(cols.u_int[:, k] < _INF, cols.u_int[:, k] - u, 0)
        sel = np.flatnonzero(vu < 0)
        table = _knapsack_min(vu[sel], size[sel], int(p.u_beds[k]))
        unit_table.append(table)
        total += int(table[-1])
    return _Lagrange(total, u, host_best, host_table, unit_table)


def _host_extra(cols: _Columns, lag: _Lagrange, f_size: int) -> np.ndarray:
    """Per host: the least cost, at the family values, of the rest of its set when one family of
    `f_size` persons is in it, less the host's best set (a lower bound on what taking it forgoes)."""
    p = cols.p
    extra = -lag.host_best.copy()
    extra[(cols.slots < 1) | (p.h_beds < f_size)] = _INF
    for h, table in lag.host_table.items():
        if p.h_beds[h] >= f_size:
            rows = min(int(cols.slots[h]), table.shape[0])
            col = min(int(p.h_beds[h]) - f_size, table.shape[1] - 1)
            extra[h] = int(table[:rows, col].min()) - lag.host_best[h]
    return extra


def _pair_reduced(cols: _Columns, lag: _Lagrange) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Reduced cost of every restricted pair at the family values, and the per-size host terms used."""
    size = cols.p.f_size
    extras = {s_: _host_extra(cols, lag, s_) for s_ in np.unique(size).tolist()}
    red = cols.pair_cost - lag.u[cols.pair_fam]
    for s_, ex in extras.items():
        sel = size[cols.pair_fam] == s_
        red[sel] += ex[cols.pair_host[sel]]
    return red, extras


def _unit_reduced(cols: _Columns, lag: _Lagrange) -> np.ndarray:
    """Reduced cost of each family in each unit at the family values (_INF where not allowed)."""
    p = cols.p
    out = np.full(cols.u_int.shape, _INF, dtype=np.int64)
    for k, table in enumerate(lag.unit_table):
        cap = len(table) - 1
        ok = (cols.u_int[:, k] < _INF) & (p.f_size <= p.u_beds[k])
        rest = table[np.clip(p.u_beds[k] - p.f_size, 0, cap)]
        out[:, k] = np.where(ok, cols.u_int[:, k] - lag.u + rest - table[cap], _INF)
    return out
