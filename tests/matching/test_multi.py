"""Several families per host: the pieces of stage 2 checked one by one against brute force.

The strengthened LP (a family too big to share counts for all slots; families over half the beds exclude
each other) must stay a relaxation; the model counted by class must have the instance's optimum; and the
first solution must come from the LP whatever the clock says.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings

from matching import candidates as C
from matching import model
from matching.generate import generate_custom
from matching.schema import Instance, Params, Weights
from matching.validate import objective, validate

sys.path.insert(0, str(Path(__file__).parent))
from test_bruteforce import BASE, _fam, _host, brute_force, tiny_instances  # noqa: E402


def _columns(inst: Instance) -> model._Columns:
    prep = C.prepare(inst)
    return model._Columns(prep, model._scale(prep), np.random.default_rng(1))


def _stage2_parts(inst: Instance):
    cols = _columns(inst)
    pr = model._lp_prices(cols, None)
    lag = model._family_lagrange(cols, pr.fam_value) if pr.fam_value is not None else None
    return cols, pr, lag


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_bounds_from_the_strengthened_lp_hold_and_the_counted_model_is_exact(inst: Instance) -> None:
    if not inst.families:
        return
    if _columns(inst).n_fam == 0:
        return
    want = brute_force(inst)
    cols, pr, lag = _stage2_parts(inst)
    assert lag is not None
    bound = lag.bound / cols.scale + cols.p.fixed_cost - model._rounding(cols)
    assert bound <= want + 1e-6 * max(1.0, abs(want))
    # Every column kept (the gap is huge): the model counted by class has the instance's optimum.
    keep = np.full(cols.n_fam, -1, dtype=np.int64)
    mdl = model._aggregated_model(cols, lag, int(model._INF // 4), keep, keep, 10**6)
    assert mdl is not None
    res = model._solve_aggregated(cols, mdl, int(model._INF // 4), float("inf"))
    assert res is not None
    finished, fam_host, fam_unit, _ = res
    assert finished and fam_host is not None
    got = model._value(cols, fam_host, fam_unit) / cols.scale + cols.p.fixed_cost
    assert abs(got - want) <= 1e-6 * max(1.0, abs(want)) + model._rounding(cols)
    assert not model._overfull(cols, fam_host, fam_unit)


def test_a_family_filling_the_host_shares_it_with_no_one() -> None:
    # H (2 families, 4 beds): A (4 persons, no common language: 400 more) alone, or B + C (1 each).
    # The plain LP takes B whole and A three quarters, 100 below the optimum; the stronger rows cut
    # that off: the LP is then whole, A alone at H.
    w = Weights(no_common_language=400.0)
    inst = Instance(date=BASE, params=Params(weights=w), hosts=(_host("H", 4, max_families=2),),
                    families=(_fam("A", 4, languages=("ar",)), _fam("B", 1, languages=("sv",)),
                              _fam("C", 1, languages=("sv",))))
    cols, pr, lag = _stage2_parts(inst)
    want = brute_force(inst)
    assert pr.lp_host.tolist() == [0, -1, -1]
    assert abs(lag.bound / cols.scale - want) <= 1e-6 * want
    sol = model.solve(inst, time_limit_s=10)
    assert sol.status == "OPTIMAL" and abs(sol.objective - want) < 1e-6


def test_first_solution_comes_from_the_lp_even_when_pricing_added_pairs(monkeypatch) -> None:
    # The LP's whole pairs are read before pricing reorders the restricted set, so they are used
    # whatever round the column generation stopped in.
    inst = generate_custom(120, 130, 4, 2, seed=3, multi_family_share=0.5, unit_bed_share=0.04)
    monkeypatch.setattr(model, "LP_ROUNDS", 1)
    cols = _columns(inst)
    pr = model._lp_prices(cols, None)
    assert pr.lp_host is not None and (pr.lp_host >= 0).sum() > 0
    # Every host the LP gives is an allowed pair of the instance.
    fam = np.flatnonzero(pr.lp_host >= 0)
    key = set((cols.pair_fam * cols.n_host + cols.pair_host).tolist())
    assert all(int(f) * cols.n_host + int(pr.lp_host[f]) in key for f in fam)


def test_multi_family_instance_close_to_its_bound() -> None:
    inst = generate_custom(200, 220, 6, 2, seed=1, multi_family_share=0.4, unit_bed_share=0.04)
    sol = model.solve(inst, time_limit_s=40, workers=1)
    assert validate(inst, sol) == []
    assert abs(objective(inst, sol.placements) - sol.objective) <= 1e-6 * sol.objective
    assert sol.bound <= sol.objective
    assert sol.gap <= 0.001, (sol.status, sol.objective, sol.bound)
