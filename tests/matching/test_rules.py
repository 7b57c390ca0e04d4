"""Each hard rule with a feasible and an infeasible case, and the cost of each kind of placement."""

import datetime as dt
import math

import pytest

from matching import rules
from matching.geo import haversine_km
from matching.schema import Child, Family, Forbidden, Host, Instance, Params, School, Unit, Weights

D = dt.date(2026, 12, 1)
S1 = School("S1", 59.30, 18.00)
S2 = School("S2", 59.32, 18.02)
KM_PER_DEG = math.pi * 6371.0088 / 180


def host(**kw) -> Host:
    base = dict(id="H1", lat=59.30, lon=18.00, beds=4, accepts_children=True, languages=("sv", "en"))
    base.update(kw)
    return Host(**base)


def fam(**kw) -> Family:
    base = dict(id="F1", size=2, arrival=D, languages=("ar",))
    base.update(kw)
    return Family(**base)


def inst(hosts=(), families=(), units=(), forbidden=(), **params) -> Instance:
    return Instance(
        date=D,
        params=Params(**params),
        schools=(S1, S2),
        hosts=tuple(hosts),
        units=tuple(units),
        families=tuple(families),
        forbidden=tuple(forbidden),
    )


# --------------------------------------------------------------------------- rules


def test_capacity():
    h = host(beds=4)
    assert rules.capacity_ok(h, [fam(size=4)], 1)
    assert not rules.capacity_ok(h, [fam(size=5)], 1)
    assert rules.capacity_ok(h, [2, 2], 2)
    assert not rules.capacity_ok(h, [2, 2], 1)  # too many families
    assert not rules.capacity_ok(h, [2, 3], 2)  # too many persons
    assert rules.capacity_ok(h, [], 1)


def test_children():
    kid = fam(children=(Child(None),))
    assert rules.children_ok(host(accepts_children=True), kid)
    assert not rules.children_ok(host(accepts_children=False), kid)
    assert rules.children_ok(host(accepts_children=False), fam())


def test_step_free():
    f = fam(needs_step_free=True)
    assert rules.step_free_ok(host(step_free=True), f)
    assert not rules.step_free_ok(host(step_free=False), f)
    assert rules.step_free_ok(host(step_free=False), fam())


def test_pets():
    f = fam(pet_allergy=True)
    assert rules.pets_ok(host(has_pets=False), f)
    assert not rules.pets_ok(host(has_pets=True), f)
    assert rules.pets_ok(host(has_pets=True), fam())


def test_smoking():
    f = fam(needs_non_smoking=True)
    assert rules.smoking_ok(host(smoking=False), f)
    assert not rules.smoking_ok(host(smoking=True), f)
    assert rules.smoking_ok(host(smoking=True), fam())


def test_needs_combines_the_three():
    f = fam(needs_step_free=True, pet_allergy=True, needs_non_smoking=True)
    assert rules.needs_ok(host(step_free=True), f)
    assert not rules.needs_ok(host(step_free=True, has_pets=True), f)


def test_availability_from():
    f = fam(arrival=D)
    assert rules.availability_ok(host(available_from=D), f, 90)  # same day is fine
    assert rules.availability_ok(host(available_from=None), f, 90)
    assert not rules.availability_ok(host(available_from=D + dt.timedelta(days=1)), f, 90)


def test_availability_until():
    f = fam(arrival=D)
    assert rules.availability_ok(host(available_until=D + dt.timedelta(days=90)), f, 90)  # exactly enough
    assert not rules.availability_ok(host(available_until=D + dt.timedelta(days=89)), f, 90)
    assert rules.availability_ok(host(available_until=None), f, 90)
    assert rules.availability_ok(host(available_until=D), f, 0)


def test_school_limit():
    schools = {"S1": S1, "S2": S2}
    near = host(lat=S1.lat + 4.9 / KM_PER_DEG, lon=S1.lon)
    far = host(lat=S1.lat + 5.1 / KM_PER_DEG, lon=S1.lon)
    f = fam(children=(Child("S1"), Child(None)))
    assert rules.school_ok(near, f, schools, 5.0)
    assert not rules.school_ok(far, f, schools, 5.0)
    assert rules.school_ok(far, fam(children=(Child(None),)), schools, 5.0)  # no school: no limit
    # Every child counts: near S1 but far from S2 fails.
    two = fam(children=(Child("S1"), Child("S2")))
    assert rules.school_ok(host(lat=S1.lat, lon=S1.lon), two, schools, 5.0)
    assert not rules.school_ok(host(lat=S1.lat - 3 / KM_PER_DEG, lon=S1.lon), two, schools, 5.0)


def test_school_limit_boundary_is_inclusive():
    schools = {"S1": S1}
    h = host(lat=59.31, lon=18.0)
    km = haversine_km(h.lat, h.lon, S1.lat, S1.lon)
    f = fam(children=(Child("S1"),))
    assert rules.school_ok(h, f, schools, km)
    assert not rules.school_ok(h, f, schools, km - 1e-6)


def test_forbidden():
    pairs = {("F1", "H1")}
    assert not rules.not_forbidden(host(id="H1"), fam(id="F1"), pairs)
    assert rules.not_forbidden(host(id="H2"), fam(id="F1"), pairs)


def test_unit_rules():
    u = Unit("U1", 59.3, 18.0, beds=5, step_free=False)
    a, b = fam(id="A", size=3), fam(id="B", size=2, needs_step_free=True)
    assert rules.unit_ok(u, a, [])
    assert rules.unit_ok(u, a, [fam(id="C", size=2)])
    assert not rules.unit_ok(u, a, [fam(id="C", size=3)])
    assert rules.unit_ok(u, a, [a, fam(id="C", size=2)])  # the family may be listed, it counts once
    assert not rules.unit_ok(u, b, [])
    assert rules.unit_ok(Unit("U2", 59.3, 18.0, beds=5, step_free=True), b, [])
    assert rules.violated_unit_rules(u, b, [fam(id="C", size=4)]) == ["unit_beds", "unit_step_free"]


def test_host_pair_ok_and_violated_rules():
    h = host(
        id="H1",
        accepts_children=False,
        has_pets=True,
        lat=S1.lat + 10 / KM_PER_DEG,
        available_from=D + dt.timedelta(days=3),
    )
    f = fam(id="F1", size=5, children=(Child("S1"),), pet_allergy=True)
    i = inst(hosts=[h], families=[f], forbidden=[Forbidden("F1", "H1")])
    assert not rules.host_pair_ok(i, h, f)
    assert rules.violated_rules(i, h, f) == [
        "capacity",
        "children",
        "pets",
        "availability",
        "school",
        "forbidden",
    ]
    assert set(rules.violated_rules(i, h, f)) <= set(rules.RULE_NAMES)
    assert all(n in rules.RULE_TEXT for n in rules.RULE_NAMES + rules.UNIT_RULE_NAMES)
    ok_h = host(id="H2")
    ok_f = fam(id="F2", size=2, children=(Child("S1"),))
    i2 = inst(hosts=[ok_h], families=[ok_f])
    assert rules.host_pair_ok(i2, ok_h, ok_f)
    assert rules.violated_rules(i2, ok_h, ok_f) == []
    # Someone already there: capacity counts them, but not the family twice.
    other = fam(id="F3", size=2)
    assert rules.violated_rules(i2, ok_h, ok_f, [other]) == ["capacity"]  # max_families 1
    i3 = inst(hosts=[ok_h], families=[ok_f], families_per_host=2)
    assert rules.violated_rules(i3, ok_h, ok_f, [other, ok_f]) == []
    assert rules.violated_rules(i3, ok_h, ok_f, [fam(id="F4", size=3)]) == ["capacity"]


def test_max_families_per_host_overrides_default():
    i = inst(families_per_host=1)
    assert i.max_families(host(max_families=3)) == 3
    assert i.max_families(host()) == 1


# --------------------------------------------------------------------------- costs


def test_child_km_and_shares_language():
    schools = {"S1": S1, "S2": S2}
    h = host(lat=59.31, lon=18.0)
    f = fam(children=(Child("S1"), Child(None), Child("S2")))
    km = rules.child_km(h, f, schools)
    assert km[1] is None
    assert km[0] == pytest.approx(haversine_km(59.31, 18.0, S1.lat, S1.lon))
    assert km[2] == pytest.approx(haversine_km(59.31, 18.0, S2.lat, S2.lon))
    assert rules.shares_language(host(languages=("sv", "ar")), fam(languages=("ar",)))
    assert not rules.shares_language(host(languages=("sv",)), fam(languages=("ar",)))
    assert not rules.shares_language(host(languages=()), fam(languages=()))


def test_host_cost():
    w = Weights(school_km=2.0, no_common_language=7.0)
    h = host(lat=59.31, lon=18.0, languages=("sv",))
    f = fam(children=(Child("S1"), Child("S1"), Child(None)), languages=("ar",))
    i = inst(hosts=[h], families=[f], weights=w)
    d = haversine_km(59.31, 18.0, S1.lat, S1.lon)
    assert rules.host_cost(i, h, f) == pytest.approx(2.0 * 2 * d + 7.0)
    h2 = host(lat=59.31, lon=18.0, languages=("ar",))
    assert rules.host_cost(i, h2, f) == pytest.approx(4.0 * d)
    assert rules.host_cost(i, h2, fam(languages=("ar",))) == 0.0


def test_unit_and_unplaced_cost():
    u = Unit("U1", 59.31, 18.0, beds=10, step_free=True)
    f = fam(size=3, children=(Child("S1"),), languages=())
    i = inst(units=[u], families=[f], weights=Weights(unit_per_person=50.0, unplaced_per_person=1000.0))
    d = haversine_km(59.31, 18.0, S1.lat, S1.lon)
    # No language term for units: the file format prices a unit by persons and school km only.
    assert rules.unit_cost(i, u, f) == pytest.approx(150.0 + d)
    assert rules.unplaced_cost(i, f) == 3000.0


def test_cost_cache_follows_the_instance():
    # Two instances with the same school id at different places must not share a cached lookup.
    h = host(lat=59.30, lon=18.0)
    f = fam(children=(Child("S1"),), languages=("sv",))
    a = inst(hosts=[h], families=[f])
    b = Instance(date=D, params=Params(), schools=(School("S1", 59.40, 18.0),), hosts=(h,), families=(f,))
    assert rules.host_cost(a, h, f) == pytest.approx(0.0, abs=1e-9)
    assert rules.host_cost(b, h, f) == pytest.approx(0.1 * KM_PER_DEG, rel=1e-3)
    assert rules.host_cost(a, h, f) == pytest.approx(0.0, abs=1e-9)
