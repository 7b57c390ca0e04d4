"""The validator accepts a correct solution and rejects each kind of corruption."""

import dataclasses
import datetime as dt

import pytest

from matching import rules
from matching.geo import haversine_km
from matching.schema import (
    Child,
    Family,
    Fixed,
    Forbidden,
    Host,
    Instance,
    Params,
    Placement,
    School,
    Solution,
    Unit,
    Unplaced,
)
from matching.validate import expected_gap, objective, stats, validate

D = dt.date(2026, 12, 1)
S1 = School("S1", 59.30, 18.00)


def H(hid, lat=59.301, **kw):
    base = dict(id=hid, lat=lat, lon=18.0, beds=4, accepts_children=True, languages=("sv", "en"))
    base.update(kw)
    return Host(**base)


def F(fid, size=2, **kw):
    base = dict(id=fid, size=size, arrival=D, languages=("ar", "en"))
    base.update(kw)
    return Family(**base)


INST = Instance(
    date=D,
    params=Params(),
    schools=(S1,),
    hosts=(
        H("H1"),
        H("H2", accepts_children=False, beds=2),
        H("H3", lat=59.5),
        H("H4", beds=6, step_free=True),
    ),
    units=(Unit("U1", 59.31, 18.0, beds=6, step_free=False), Unit("U2", 59.32, 18.0, beds=5, step_free=True)),
    families=(
        F("F1", 3, children=(Child("S1"),)),
        F("F2", 1),
        F("F3", 2, needs_step_free=True),
        F("F4", 2, children=(Child("S1"), Child(None))),
        F("F5", 3, children=(Child("S1"),)),  # fixed to H3, 22 km from its school: exempt
        F("F6", 5),
    ),
    fixed=(Fixed("F5", host_id="H3"),),
    forbidden=(Forbidden("F2", "H1"),),
)


def sol_for(placements, unplaced=(), inst=INST, status="FEASIBLE", bound=0.0):
    placements = tuple(placements)
    placed = {p.family_id for p in placements} | {u.family_id for u in unplaced}
    unplaced = tuple(unplaced) + tuple(Unplaced(f.id) for f in inst.families if f.id not in placed)
    obj = objective(inst, placements)
    return Solution(
        status=status,
        objective=obj,
        bound=bound,
        gap=expected_gap(obj, bound),
        wall_s=0.1,
        placements=placements,
        unplaced=unplaced,
    )


GOOD = [
    Placement("F1", host_id="H1"),
    Placement("F2", host_id="H2"),
    Placement("F3", host_id="H4"),
    Placement("F4", unit_id="U1"),
    Placement("F5", host_id="H3"),
    Placement("F6", unit_id="U2"),
]


def has(problems, *needles):
    return any(all(n in p for n in needles) for p in problems)


def test_good_solution_is_valid():
    assert validate(INST, sol_for(GOOD)) == []


def test_objective_recomputed_by_hand():
    w = INST.params.weights
    d = lambda lat: haversine_km(lat, 18.0, S1.lat, S1.lon)  # noqa: E731
    want = (
        d(59.301)  # F1 at H1, shares 'en'
        + 0  # F2 at H2, no children
        + 0  # F3 at H4
        + 2 * w.unit_per_person
        + d(59.31)  # F4 in U1, one schooled child
        + d(59.5)  # F5 fixed at H3
        + 5 * w.unit_per_person
    )  # F6 in U2
    assert objective(INST, GOOD) == pytest.approx(want)
    # Unplaced families cost unplaced_per_person per person.
    assert objective(INST, GOOD[:-1]) == pytest.approx(want - 5 * w.unit_per_person + 5 * w.unplaced_per_person)


def test_no_common_language_is_charged():
    i = dataclasses.replace(INST, families=tuple(dataclasses.replace(f, languages=("ti",)) for f in INST.families))
    base = objective(INST, GOOD)
    # Four families live with hosts; units carry no language term.
    assert objective(i, GOOD) == pytest.approx(base + 4 * i.params.weights.no_common_language)


def test_fixed_placements_are_exempt_from_rules():
    # F5 at H3 breaks the school rule; being fixed, it is not a problem.
    assert rules.violated_rules(INST, INST.hosts[2], INST.families[4]) == ["school"]
    assert validate(INST, sol_for(GOOD)) == []


def test_double_booked_host():
    bad = [p if p.family_id != "F2" else Placement("F2", host_id="H4") for p in GOOD]
    assert has(validate(INST, sol_for(bad)), "host H4", "double-booked")


def test_fixed_family_counts_in_capacity():
    bad = [p if p.family_id != "F2" else Placement("F2", host_id="H3") for p in GOOD]
    assert has(validate(INST, sol_for(bad)), "host H3", "double-booked")


def test_over_capacity_with_more_families_allowed():
    i = dataclasses.replace(INST, params=Params(families_per_host=3))
    ok = [Placement("F2", host_id="H4"), Placement("F3", host_id="H4"), Placement("F5", host_id="H3")]
    assert validate(i, sol_for(ok, inst=i)) == []
    bad = ok + [Placement("F1", host_id="H4")]  # 1 + 2 + 3 persons = 6 beds: fits
    assert validate(i, sol_for(bad, inst=i)) == []
    bad = ok + [Placement("F6", host_id="H4")]  # 1 + 2 + 5 = 8 > 6
    assert has(validate(i, sol_for(bad, inst=i)), "host H4", "8 persons")


@pytest.mark.parametrize(
    ("fid", "hid", "rule"),
    [
        ("F4", "H2", "children"),
        ("F3", "H1", "step_free"),
        ("F1", "H3", "school"),
        ("F2", "H1", "forbidden"),
    ],
)
def test_broken_rule(fid, hid, rule):
    bad = [p for p in GOOD if p.family_id not in (fid,) and p.host_id != hid] + [Placement(fid, host_id=hid)]
    probs = validate(INST, sol_for(bad))
    assert has(probs, f"family {fid}", f"host {hid}", f"'{rule}'"), probs


def test_pets_smoking_availability_rules():
    i = dataclasses.replace(
        INST,
        hosts=INST.hosts + (H("H5", has_pets=True, smoking=True, available_from=D + dt.timedelta(days=1)),),
    )
    i = dataclasses.replace(i, families=i.families + (F("F7", 1, pet_allergy=True, needs_non_smoking=True),))
    probs = validate(i, sol_for(GOOD + [Placement("F7", host_id="H5")], inst=i))
    for rule in ("pets", "smoking", "availability"):
        assert has(probs, "family F7", f"'{rule}'")


def test_unit_rules():
    bad = [p if p.family_id != "F3" else Placement("F3", unit_id="U1") for p in GOOD]
    assert has(validate(INST, sol_for(bad)), "family F3", "unit_step_free")
    bad = [p if p.family_id != "F6" else Placement("F6", unit_id="U1") for p in GOOD]  # 2 + 5 > 6
    assert has(validate(INST, sol_for(bad)), "unit U1", "7 persons for 6 beds")


def test_family_missing():
    s = sol_for(GOOD)
    s = dataclasses.replace(s, placements=s.placements[1:])
    probs = validate(INST, s)
    assert has(probs, "family F1", "missing")


def test_family_twice():
    s = sol_for(GOOD + [Placement("F2", host_id="H4")])
    assert has(validate(INST, s), "family F2", "2 times")
    s = sol_for(GOOD, unplaced=[Unplaced("F1")])
    assert has(validate(INST, s), "family F1", "2 times")


def test_unknown_ids():
    s = sol_for(GOOD)
    s = dataclasses.replace(s, placements=s.placements + (Placement("F99", host_id="H1"),))
    assert has(validate(INST, s), "F99", "unknown")
    s = sol_for([p if p.family_id != "F2" else Placement("F2", host_id="H99") for p in GOOD])
    assert has(validate(INST, s), "unknown host H99")
    s = sol_for([p if p.family_id != "F6" else Placement("F6", unit_id="U99") for p in GOOD])
    assert has(validate(INST, s), "unknown unit U99")


def test_fixed_moved():
    s = sol_for([p if p.family_id != "F5" else Placement("F5", host_id="H1") for p in GOOD if p.host_id != "H1"])
    assert has(validate(INST, s), "family F5", "fixed to host H3")
    s = sol_for([p for p in GOOD if p.family_id != "F5"])
    assert has(validate(INST, s), "family F5", "fixed to host H3", "unplaced")


def test_fixed_to_unit():
    i = dataclasses.replace(INST, fixed=INST.fixed + (Fixed("F6", unit_id="U2"),))
    assert validate(i, sol_for(GOOD, inst=i)) == []
    moved = [p if p.family_id != "F6" else Placement("F6", unit_id="U1") for p in GOOD if p.unit_id != "U1"]
    assert has(validate(i, sol_for(moved, inst=i)), "family F6", "fixed to unit U2")


def test_wrong_objective():
    s = sol_for(GOOD)
    s = dataclasses.replace(s, objective=s.objective + 1.0, gap=1.0)
    assert has(validate(INST, s), "objective", "differs")
    # Within the relative tolerance is fine.
    s = sol_for(GOOD)
    assert validate(INST, dataclasses.replace(s, objective=s.objective * (1 + 1e-8))) == []


def test_bound_and_gap_consistency():
    s = sol_for(GOOD)
    over = dataclasses.replace(s, bound=s.objective + 5, gap=0.0)
    assert has(validate(INST, over), "bound", "exceeds")
    wrong_gap = dataclasses.replace(s, bound=s.objective / 2, gap=0.3)
    assert has(validate(INST, wrong_gap), "gap")
    right = dataclasses.replace(s, bound=s.objective / 2, gap=0.5)
    assert validate(INST, right) == []
    optimal_with_gap = dataclasses.replace(right, status="OPTIMAL")
    assert has(validate(INST, optimal_with_gap), "OPTIMAL")
    optimal = dataclasses.replace(s, status="OPTIMAL", bound=s.objective, gap=0.0)
    assert validate(INST, optimal) == []
    assert has(validate(INST, dataclasses.replace(optimal, status="INFEASIBLE")), "INFEASIBLE")


def test_child_km_checked_when_given():
    good_km = rules.child_km(INST.hosts[0], INST.families[0], {"S1": S1})
    s = sol_for([p if p.family_id != "F1" else Placement("F1", host_id="H1", child_km=good_km) for p in GOOD])
    assert validate(INST, s) == []
    s = sol_for([p if p.family_id != "F1" else Placement("F1", host_id="H1", child_km=(3.0,)) for p in GOOD])
    assert has(validate(INST, s), "family F1", "child_km")


def test_stats():
    st = stats(INST, sol_for(GOOD))
    assert (st.families_with_hosts, st.persons_with_hosts) == (4, 9)
    assert (st.families_in_units, st.persons_in_units) == (2, 7)
    assert (st.families_unplaced, st.persons_unplaced) == (0, 0)
    assert st.schooled_children == 3
    assert st.children_within_limit == 2  # F5's child lives 22 km away
