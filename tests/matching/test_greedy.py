"""The greedy baseline: arrival order, cheapest host, unit fallback, honest status, always valid."""

import dataclasses
import datetime as dt
import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import rules
from matching.generate import generate, generate_custom
from matching.greedy import HostArrays, greedy
from matching.schema import Child, Family, Fixed, Forbidden, Host, Instance, Params, School, Unit
from matching.validate import objective, validate

D = dt.date(2026, 12, 1)
S1 = School("S1", 59.30, 18.00)
KM = 1 / 111.195  # degrees of latitude per km


def H(hid, km=0.5, **kw):
    base = dict(id=hid, lat=59.30 + km * KM, lon=18.0, beds=4, accepts_children=True, languages=("sv", "ar"))
    base.update(kw)
    return Host(**base)


def F(fid, size=2, **kw):
    base = dict(id=fid, size=size, arrival=D, languages=("ar",))
    base.update(kw)
    return Family(**base)


def inst(hosts=(), families=(), units=(), fixed=(), forbidden=(), **params):
    return Instance(
        date=D,
        params=Params(**params),
        schools=(S1,),
        hosts=tuple(hosts),
        units=tuple(units),
        families=tuple(families),
        fixed=tuple(fixed),
        forbidden=tuple(forbidden),
    )


def where(sol):
    return {p.family_id: p.host_id or p.unit_id for p in sol.placements}


def test_arrival_order_then_id():
    i = inst(
        hosts=[H("H1")],
        families=[
            F("F1", arrival=D + dt.timedelta(days=2)),
            F("F2"),
            F("F0", arrival=D + dt.timedelta(days=2)),
        ],
    )
    sol = greedy(i)
    assert where(sol) == {"F2": "H1"}
    i = inst(hosts=[H("H1")], families=[F("F2"), F("F1")])
    assert where(greedy(i)) == {"F1": "H1"}


def test_cheapest_host_school_distance_and_language():
    kid = F("F1", children=(Child("S1"),))
    i = inst(hosts=[H("Hfar", km=3.0), H("Hnear", km=1.0), H("Hout", km=6.0)], families=[kid])
    assert where(greedy(i)) == {"F1": "Hnear"}
    # 1 km without a shared language costs 1 + 2 = 3; 2.5 km with one costs 2.5.
    i = inst(hosts=[H("Ha", km=1.0, languages=("sv",)), H("Hb", km=2.5)], families=[kid])
    assert where(greedy(i)) == {"F1": "Hb"}


def test_ties_go_to_the_fewest_spare_beds():
    i = inst(hosts=[H("Hbig", beds=6), H("Hfit", beds=2), H("Hsmall", beds=1)], families=[F("F1", size=2)])
    assert where(greedy(i)) == {"F1": "Hfit"}


def test_unit_fallback_and_unplaced_with_reasons():
    fams = [F("F1", size=3), F("F2", size=3, needs_step_free=True), F("F3", size=4)]
    units = [
        Unit("U1", 59.30, 18.0, beds=3, step_free=False),
        Unit("U2", 59.40, 18.0, beds=3, step_free=True),
    ]
    sol = greedy(inst(hosts=[H("H1", beds=2)], families=fams, units=units))
    assert where(sol) == {"F1": "U1", "F2": "U2"}
    assert [u.family_id for u in sol.unplaced] == ["F3"]
    assert any("no host has 4 beds" in r for r in sol.unplaced[0].reasons)
    assert any("unit" in r for r in sol.unplaced[0].reasons)


def test_cheapest_unit_by_school_distance():
    kid = F("F1", size=2, children=(Child("S1"),))
    units = [Unit("Ufar", 59.40, 18.0, beds=9), Unit("Unear", 59.31, 18.0, beds=9)]
    assert where(greedy(inst(families=[kid], units=units))) == {"F1": "Unear"}


def test_taken_hosts_are_explained():
    sol = greedy(inst(hosts=[H("H1")], families=[F("F1"), F("F2")]))
    (u,) = sol.unplaced
    assert u.family_id == "F2" and "already taken" in u.reasons[0]


def test_fixed_and_forbidden():
    fams = [F("F1"), F("F2"), F("F3")]
    i = inst(
        hosts=[H("H1"), H("H2"), H("H3")],
        families=fams,
        fixed=[Fixed("F3", host_id="H1")],
        forbidden=[Forbidden("F1", "H2")],
    )
    w = where(greedy(i))
    assert w["F3"] == "H1"
    assert w["F1"] == "H3" and w["F2"] == "H2"


def test_fixed_uses_up_capacity():
    i = inst(
        hosts=[H("H1", beds=4, max_families=2)],
        families=[F("F1", 3), F("F2", 2), F("F3", 1)],
        fixed=[Fixed("F1", host_id="H1")],
    )
    w = where(greedy(i))
    assert w == {"F1": "H1", "F3": "H1"}


def test_status_bound_gap_are_honest():
    sol = greedy(generate("small", seed=0))
    assert sol.status == "FEASIBLE" and sol.bound == 0.0 and sol.gap == 1.0
    empty = greedy(inst())
    assert empty.objective == 0.0 and empty.gap == 0.0


def test_generated_instances_validate():
    for seed in (0, 1):
        i = generate("small", seed=seed)
        sol = greedy(i)
        assert validate(i, sol) == []
        assert len(sol.placements) + len(sol.unplaced) == len(i.families)
        assert all(p.child_km is not None for p in sol.placements)


def test_vectorised_rules_agree_with_scalar_rules():
    i = generate_custom(60, 150, 6, 1, seed=7, params=Params(max_school_km=3.0))
    arr = HostArrays(i)
    for f in i.families:
        idx, km = arr.candidates(f, arr.beds, arr.max_families)
        want = [j for j, h in enumerate(i.hosts) if rules.violated_rules(i, h, f) == []]
        assert idx.tolist() == want, f.id
        for j, k in zip(idx.tolist(), km.tolist(), strict=True):
            assert np.isclose(k, rules.school_km_total(i.hosts[j], f, arr.schools))


def brute_force(i: Instance) -> float:
    """The optimal objective by enumerating every assignment (tiny instances only)."""
    fixed = {x.family_id: x.host_id or x.unit_id for x in i.fixed}
    places = [h.id for h in i.hosts] + [u.id for u in i.units] + [None]
    hosts = {h.id: h for h in i.hosts}
    units = {u.id: u for u in i.units}
    best = float("inf")
    options = [[fixed[f.id]] if f.id in fixed else places for f in i.families]
    for combo in itertools.product(*options):
        groups: dict[str, list[Family]] = {}
        for f, p in zip(i.families, combo, strict=True):
            if p is not None:
                groups.setdefault(p, []).append(f)
        ok = True
        for p, group in groups.items():
            free = [f for f in group if f.id not in fixed]
            if p in hosts:
                ok = (not free or rules.capacity_ok(hosts[p], group, i.max_families(hosts[p]))) and all(
                    rules.host_pair_ok(i, hosts[p], f) for f in free
                )
            else:
                ok = (not free or sum(f.size for f in group) <= units[p].beds) and all(
                    rules.unit_step_free_ok(units[p], f) for f in free
                )
            if not ok:
                break
        if ok:
            from matching.schema import Placement

            pl = [
                Placement(f.id, host_id=p) if p in hosts else Placement(f.id, unit_id=p)
                for f, p in zip(i.families, combo, strict=True)
                if p is not None
            ]
            best = min(best, objective(i, pl))
    return best


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_fam=st.integers(1, 4),
    n_hosts=st.integers(0, 3),
    n_units=st.integers(0, 1),
    per_host=st.integers(1, 2),
    limit=st.sampled_from([1.0, 3.0, 5.0]),
)
def test_greedy_is_valid_and_never_beats_brute_force(seed, n_fam, n_hosts, n_units, per_host, limit):
    i = generate_custom(
        n_fam,
        n_hosts,
        2,
        n_units,
        seed=seed,
        radius_km=3.0,
        unit_bed_share=0.5,
        params=Params(max_school_km=limit, families_per_host=per_host),
    )
    sol = greedy(i)
    assert validate(i, sol) == []
    assert sol.objective >= brute_force(i) - 1e-9


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_fam=st.integers(0, 40),
    n_hosts=st.integers(0, 60),
    multi=st.sampled_from([0.0, 0.5]),
)
def test_greedy_valid_on_random_instances(seed, n_fam, n_hosts, multi):
    i = generate_custom(n_fam, n_hosts, 3, 2, seed=seed, multi_family_share=multi)
    sol = greedy(i)
    assert validate(i, sol) == []
    i2 = dataclasses.replace(i, params=dataclasses.replace(i.params, families_per_host=2))
    assert validate(i2, greedy(i2)) == []
