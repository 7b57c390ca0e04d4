"""The city path of stage 2 (above `LARGE_PAIRS`), forced on small instances: the LP re-solved from its
last basis as columns come in must give what a cold solve gives, and the answers must stay true."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from hypothesis import HealthCheck, given, settings

from matching import candidates as C
from matching import model
from matching.generate import generate_custom
from matching.schema import Instance
from matching.validate import objective, validate

sys.path.insert(0, str(Path(__file__).parent))
from test_bruteforce import brute_force, tiny_instances  # noqa: E402


def _columns(inst: Instance) -> model._Columns:
    prep = C.prepare(inst)
    return model._Columns(prep, model._scale(prep), np.random.default_rng(1))


def test_warm_lp_after_new_columns_equals_a_cold_solve(monkeypatch) -> None:
    pytest.importorskip("scipy.optimize._highspy._core", reason="the warm LP needs SciPy's own HiGHS object (>= 1.15)")
    inst = generate_custom(150, 170, 5, 2, seed=2, multi_family_share=0.4, unit_bed_share=0.04)
    cols = _columns(inst)
    uf, uu = np.nonzero(cols.u_int < cols.unplaced_int[:, None])
    lp = model._IncrementalLP(cols)
    half = np.arange(len(cols.pair_fam)) % 2 == 0
    assert lp.add_pairs(cols.pair_fam[half], cols.pair_host[half], cols.pair_cost[half]) == int(half.sum())
    lp.add_units(uf, uu)
    first = lp.solve(float("inf"))
    assert first is not None
    v_half = lp.h.getInfo().objective_function_value
    # Pairs already in the LP are not added twice.
    assert lp.add_pairs(cols.pair_fam, cols.pair_host, cols.pair_cost) == int((~half).sum())
    lp.h.setOptionValue("simplex_strategy", 4)
    lp.h.setOptionValue("presolve", "off")
    warm = lp.solve(float("inf"))
    assert warm is not None
    v_warm = lp.h.getInfo().objective_function_value
    seen = {}
    cold_linprog = scipy.optimize.linprog

    def spy(*a, **k):
        res = cold_linprog(*a, **k)
        seen["fun"] = res.fun
        return res

    monkeypatch.setattr(scipy.optimize, "linprog", spy)
    assert model._restricted_lp(cols, uf, uu) is not None
    assert v_warm <= v_half + 1e-9
    assert abs(v_warm - seen["fun"]) <= 1e-7 * max(1.0, abs(seen["fun"]))
    # At its family values the bound with whole choices is at least the LP's value (every pair is listed
    # here, so the LP is the whole instance's).
    assert cols.full
    lag = model._family_lagrange(cols, warm[6])
    assert lag is not None
    assert lag.bound / cols.scale >= v_warm - 1e-6 * max(1.0, abs(v_warm))
    # Its whole pairs are pairs of the instance.
    pf, ph, x = warm[0], warm[1], warm[2]
    key = set((cols.pair_fam * cols.n_host + cols.pair_host).tolist())
    assert all(int(f) * cols.n_host + int(h) in key for f, h in zip(pf[x > 0.5], ph[x > 0.5], strict=True))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(tiny_instances())
def test_city_path_answers_are_true(monkeypatch, inst: Instance) -> None:
    monkeypatch.setattr(model, "LARGE_PAIRS", -1)
    want = brute_force(inst)
    sol = model.solve(inst, time_limit_s=20, workers=1)
    assert validate(inst, sol) == []
    assert abs(objective(inst, sol.placements) - sol.objective) <= 1e-6 * max(1.0, sol.objective)
    assert sol.bound <= want + 1e-6 * max(1.0, abs(want))
    assert want <= sol.objective + 1e-6 * max(1.0, abs(want))
    if sol.status == "OPTIMAL":
        assert abs(sol.objective - want) <= 1e-6 * max(1.0, abs(want))


def test_city_path_on_a_multi_family_instance(monkeypatch) -> None:
    inst = generate_custom(200, 220, 6, 2, seed=1, multi_family_share=0.4, unit_bed_share=0.04)
    monkeypatch.setattr(model, "LARGE_PAIRS", -1)
    # Few pairs to start with (cols is never full here), so pricing must bring in the rest.
    monkeypatch.setattr(model, "FULL_PAIRS", 0)
    sol = model.solve(inst, time_limit_s=40, workers=1)
    assert validate(inst, sol) == []
    assert sol.bound <= sol.objective
    assert sol.gap <= 0.001, (sol.status, sol.objective, sol.bound)


def test_city_path_without_scipys_highs_object_falls_back_to_the_cold_lp(monkeypatch) -> None:
    inst = generate_custom(120, 130, 4, 2, seed=3, multi_family_share=0.5, unit_bed_share=0.04)
    monkeypatch.setattr(model, "LARGE_PAIRS", -1)
    monkeypatch.setattr(model, "FULL_PAIRS", 0)

    def missing(cols):
        raise ImportError("no scipy.optimize._highspy")

    monkeypatch.setattr(model, "_IncrementalLP", missing)
    sol = model.solve(inst, time_limit_s=20, workers=1)
    assert validate(inst, sol) == []
    assert sol.bound <= sol.objective
    assert sol.gap <= 0.001, (sol.status, sol.objective, sol.bound)
