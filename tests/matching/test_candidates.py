"""Vectorised feasibility against the scalar rules in matching.rules, pair by pair."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from matching import candidates as C
from matching import rules
from matching.generate import generate, generate_custom
from matching.schema import Child, Family, Fixed, Forbidden, Host, Instance, Params, School, Unit


def _scalar_pairs(inst: Instance, prep: C.Prep) -> dict[tuple[int, int], float]:
    """Every feasible (local family, host) pair by the scalar rules, with its cost."""
    out = {}
    for f in range(prep.n_fam):
        fam = prep.family(f)
        for h, host in enumerate(inst.hosts):
            if prep.h_beds[h] >= fam.size and prep.h_slots[h] >= 1 and not rules.violated_pair_rules(inst, host, fam):
                out[(f, h)] = rules.host_cost(inst, host, fam)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_all_pairs_match_scalar_rules(seed: int) -> None:
    inst = generate_custom(60, 120, 4, 2, seed=seed, multi_family_share=0.5, n_fixed=4, n_forbidden=10)
    prep = C.prepare(inst)
    got = C.all_pairs(prep)
    want = _scalar_pairs(inst, prep)
    pairs = dict(zip(zip(got.f.tolist(), got.h.tolist(), strict=True), got.cost.tolist(), strict=True))
    assert len(pairs) == len(got), "no pair twice"
    assert set(pairs) == set(want)
    for k, c in want.items():
        assert abs(pairs[k] - c) < 1e-9


def test_schooled_pairs_are_sparse_and_exact_on_small() -> None:
    inst = generate("small", 3)
    prep = C.prepare(inst)
    sch = C.schooled_pairs(prep)
    want = {k: v for k, v in _scalar_pairs(inst, prep).items() if prep.f_schooled[k[0]]}
    assert set(zip(sch.f.tolist(), sch.h.tolist(), strict=True)) == set(want)
    assert np.all(np.diff(sch.f) >= 0), "sorted by family"


def test_ns_classes_count_equals_listing() -> None:
    inst = generate("small", 1)
    prep = C.prepare(inst)
    cls = C.ns_classes(prep)
    listed = C.ns_pairs_for(prep, cls)
    assert C.count_ns_pairs(cls) == len(listed)
    # Members of a class are interchangeable for every family without a schooled child.
    for fc, fams in enumerate(cls.fc_members[:20]):
        for hc in np.flatnonzero(cls.compat[fc])[:20].tolist():
            hosts = cls.hc_members[hc]
            for f in fams.tolist():
                fam = prep.family(f)
                costs = {rules.host_cost(inst, inst.hosts[h], fam) for h in hosts.tolist()}
                assert len(costs) == 1
                assert all(not rules.violated_pair_rules(inst, inst.hosts[h], fam) for h in hosts.tolist())


def test_limited_ns_pairs_are_feasible() -> None:
    inst = generate("small", 2)
    prep = C.prepare(inst)
    cls = C.ns_classes(prep)
    lim = C.ns_pairs_for(prep, cls, host_limit=3, rng=np.random.default_rng(0))
    full = set(zip(C.ns_pairs_for(prep, cls).f.tolist(), C.ns_pairs_for(prep, cls).h.tolist(), strict=True))
    assert len(lim) > 0
    assert set(zip(lim.f.tolist(), lim.h.tolist(), strict=True)) <= full


def test_fixed_placements_use_capacity_and_cost() -> None:
    d = dt.date(2026, 12, 1)
    inst = Instance(
        date=d, params=Params(), schools=(School("S", 59.3, 18.0),),
        hosts=(Host("H", 59.3, 18.0, beds=5, max_families=2, languages=("sv",)),),
        units=(Unit("U", 59.31, 18.0, beds=6),),
        families=(Family("A", 3, d, children=(Child("S"),), languages=("ar",)), Family("B", 2, d),
                  Family("C", 4, d)),
        fixed=(Fixed("A", host_id="H"), Fixed("C", unit_id="U")),
        forbidden=(Forbidden("B", "H"),),
    )
    prep = C.prepare(inst)
    assert prep.n_fam == 1 and prep.family(0).id == "B"
    assert prep.h_beds.tolist() == [2] and prep.h_slots.tolist() == [1]
    assert prep.u_beds.tolist() == [2]
    want = rules.host_cost(inst, inst.hosts[0], inst.families[0]) + rules.unit_cost(inst, inst.units[0],
                                                                                     inst.families[2])
    assert abs(prep.fixed_cost - want) < 1e-9
    # B fits the host's beds but is forbidden there.
    assert len(C.all_pairs(prep)) == 0


def test_school_limit_boundary_matches_rules() -> None:
    inst = generate("small", 0)
    lim = 2.0
    inst = dataclasses.replace(inst, params=dataclasses.replace(inst.params, max_school_km=lim))
    prep = C.prepare(inst)
    got = C.schooled_pairs(prep)
    want = {k for k in _scalar_pairs(inst, prep) if prep.f_schooled[k[0]]}
    assert set(zip(got.f.tolist(), got.h.tolist(), strict=True)) == want
