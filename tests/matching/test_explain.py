"""Reasons for unplaced families: the hard rules in order, with the hosts left after each."""

from __future__ import annotations

import datetime as dt

from matching.explain import explain_details, explain_unplaced
from matching.model import solve
from matching.schema import Child, Family, Forbidden, Host, Instance, Params, Placement, School, Solution, Unit

D = dt.date(2026, 12, 1)


def _host(hid: str, beds: int, **kw) -> Host:
    kw.setdefault("lat", 59.3)
    kw.setdefault("lon", 18.0)
    kw.setdefault("languages", ("sv",))
    return Host(id=hid, beds=beds, **kw)


def _inst(hosts, families, **kw) -> Instance:
    return Instance(date=D, params=Params(), schools=(School("Sjoangsskolan", 59.3, 18.0),), hosts=tuple(hosts),
                    families=tuple(families), **kw)


def test_no_host_has_the_beds() -> None:
    inst = _inst([_host("H", 4)], [Family("F", 7, D)])
    assert explain_unplaced(inst, {}, inst.families[0])[0] == "no host has 7 beds"


def test_school_distance_names_the_school() -> None:
    far = _host("H", 8, lat=59.5)
    inst = _inst([far, _host("small", 2)], [Family("F", 7, D, children=(Child("Sjoangsskolan"),))])
    r = explain_unplaced(inst, {}, inst.families[0])
    assert r[0] == "of the 1 host with 7 beds, none is within 5 km of Sjoangsskolan"


def test_children_step_free_and_availability() -> None:
    inst = _inst([_host("H", 4, accepts_children=False)], [Family("F", 3, D, children=(Child(None),))])
    assert explain_unplaced(inst, {}, inst.families[0])[0] == "of the 1 host with 3 beds, none accepts children"
    inst = _inst([_host("H", 4), _host("G", 4)], [Family("F", 3, D, needs_step_free=True)])
    assert explain_unplaced(inst, {}, inst.families[0])[0] == \
        "of the 2 hosts with 3 beds, none has step-free access"
    late = _host("H", 4, available_from=D + dt.timedelta(days=5))
    inst = _inst([late], [Family("F", 3, D)])
    assert "available from 2026-12-01" in explain_unplaced(inst, {}, inst.families[0])[0]


def test_forbidden_and_taken() -> None:
    inst = _inst([_host("H", 4)], [Family("F", 3, D)], forbidden=(Forbidden("F", "H"),))
    assert "declined or vetoed" in explain_unplaced(inst, {}, inst.families[0])[0]
    inst = _inst([_host("H", 4)], [Family("F", 3, D), Family("G", 4, D)])
    sol = Solution("OPTIMAL", 0, 0, 0, 0, placements=(Placement("G", host_id="H"),))
    det = explain_details(inst, sol, inst.families[0])
    assert det[0]["rule"] == "taken"
    assert det[0]["text"] == "1 host fits; it was used for another family"


def test_unit_reason_and_solver_fills_reasons() -> None:
    inst = Instance(date=D, params=Params(), hosts=(_host("H", 3),),
                    units=(Unit("U", 59.3, 18.0, beds=2, step_free=False),),
                    families=(Family("A", 3, D), Family("B", 3, D), Family("C", 1, D, needs_step_free=True)))
    sol = solve(inst)
    unplaced = {u.family_id: u.reasons for u in sol.unplaced}
    assert set(unplaced) == {"A", "B", "C"} - {next(p.family_id for p in sol.placements if p.host_id)}
    for reasons in unplaced.values():
        assert reasons and all(isinstance(r, str) and r for r in reasons)
    assert any("step-free" in r for r in unplaced["C"])


def test_params_carry_what_a_translation_needs() -> None:
    inst = _inst([_host("H", 4)], [Family("F", 7, D)])
    det = explain_details(inst, {}, inst.families[0])
    assert [d["rule"] for d in det] == ["capacity", "unit"]
    assert det[0]["params"] == {"size": 7}
    assert all("params" in d for d in det)

    # 3 hosts with the beds, 2 accept children, 1 of those is step-free, none is near the school.
    hosts = [_host("A", 8, lat=59.5, step_free=True), _host("B", 8, lat=59.5), _host("C", 8, accepts_children=False)]
    fam = Family("F", 7, D, needs_step_free=True, children=(Child("Sjoangsskolan"),))
    inst = _inst(hosts, [fam])
    det = explain_details(inst, {}, fam)
    assert det[0]["rule"] == "school"
    assert det[0]["text"] == ("of the 3 hosts with 7 beds, 2 that accept children, 1 with step-free access, "
                              "none is within 5 km of Sjoangsskolan")
    assert det[0]["params"] == {
        "size": 7, "hosts": 3,
        "steps": [{"count": 2, "rule": "children", "arg": {}}, {"count": 1, "rule": "step_free", "arg": {}}],
        "arg": {"school": "Sjoangsskolan", "km": 5.0},
    }

    late = _host("H", 4, available_from=D + dt.timedelta(days=5))
    inst = _inst([late], [Family("F", 3, D)])
    det = explain_details(inst, {}, inst.families[0])
    assert det[0]["rule"] == "availability"
    assert det[0]["params"]["arg"] == {"date": "2026-12-01", "days": inst.params.min_stay_days}
    assert det[0]["params"]["steps"] == []


def test_params_of_taken_cost_and_units() -> None:
    inst = Instance(date=D, params=Params(), hosts=(_host("H", 4),),
                    units=(Unit("U", 59.3, 18.0, beds=2, step_free=True),),
                    families=(Family("F", 3, D), Family("G", 4, D)))
    sol = Solution("OPTIMAL", 0, 0, 0, 0, placements=(Placement("G", host_id="H"),))
    det = explain_details(inst, sol, inst.families[0])
    assert [d["rule"] for d in det] == ["taken", "unit_beds"]
    assert det[0]["params"] == {"n": 1}
    assert det[1]["params"] == {"size": 3, "free": 2}
    assert det[1]["text"] == "no municipal unit has 3 free beds (most free: 2)"
    det = explain_details(inst, Solution("OPTIMAL", 0, 0, 0, 0), inst.families[0])
    assert det[0]["rule"] == "cost" and det[0]["params"] == {"n": 1, "r": 1}
