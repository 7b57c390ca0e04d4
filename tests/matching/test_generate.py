"""The generator: deterministic, the right sizes, realistic mixes, feasible fixed pairs, valid JSON."""

import dataclasses
import datetime as dt
import json
from collections import defaultdict

import pytest

from matching import rules
from matching.generate import SCALES, generate, generate_custom
from matching.schema import dumps_instance, instance_from_dict


@pytest.fixture(scope="module")
def small():
    return generate("small", seed=0)


@pytest.fixture(scope="module")
def mid():
    return generate("mid", seed=0)


def test_deterministic_by_seed(small):
    assert generate("small", seed=0) == small
    assert generate("small", seed=1) != small
    assert generate_custom(20, 30, 3, 1, seed=5) == generate_custom(20, 30, 3, 1, seed=5)


@pytest.mark.parametrize("scale", ["small", "mid"])
def test_sizes_within_15_percent(scale, small, mid):
    inst = {"small": small, "mid": mid}[scale]
    s = SCALES[scale]
    assert abs(len(inst.families) - s.families) <= 0.15 * s.families
    assert abs(len(inst.hosts) - s.hosts) <= 0.15 * s.hosts
    assert len(inst.schools) >= 1 and len(inst.units) >= 1
    assert SCALES["city"].families == 16_000 and SCALES["city"].hosts == 45_000


def test_realistic_mix(mid):
    fams = mid.families
    n = len(fams)
    singles = sum(f.size == 1 for f in fams) / n
    assert 0.33 <= singles <= 0.47
    assert any(6 <= f.size <= 9 for f in fams)
    assert max(f.size for f in fams) <= 9
    kids = [c for f in fams for c in f.children]
    assert 0.5 <= sum(c.school_id is not None for c in kids) / len(kids) <= 0.7
    hs = mid.hosts
    rate = lambda xs: sum(xs) / len(xs)  # noqa: E731
    assert 0.75 <= rate([h.accepts_children for h in hs]) <= 0.85
    assert 0.10 <= rate([h.step_free for h in hs]) <= 0.20
    assert 0.25 <= rate([h.has_pets for h in hs]) <= 0.35
    assert 0.06 <= rate([h.smoking for h in hs]) <= 0.14
    assert 0.6 <= rate([1 <= h.beds <= 4 for h in hs]) < 1.0
    assert any(5 <= h.beds <= 8 for h in hs)
    langs = {x for f in fams for x in f.languages} | {x for h in hs for x in h.languages}
    assert {"sv", "en", "ar", "uk"} <= langs
    assert any(h.available_from and h.available_from > mid.date for h in hs)
    assert any(h.available_until for h in hs)
    assert sum(h.available_from is None or h.available_from <= mid.date for h in hs) > len(hs) / 2


def test_schools_are_clustered_and_children_near_home_neighbourhood(mid):
    # Siblings mostly share a school, and a family's schools lie close together.
    from matching.geo import haversine_km

    by_id = rules.schools_by_id(mid)
    spreads = []
    for f in mid.families:
        ss = [by_id[c.school_id] for c in f.children if c.school_id]
        if len(ss) >= 2:
            spreads.append(max(haversine_km(a.lat, a.lon, b.lat, b.lon) for a in ss for b in ss))
    assert spreads and sorted(spreads)[len(spreads) // 2] < 3.0


def test_fixed_pairs_are_real_and_feasible(small, mid):
    for inst in (small, mid):
        assert inst.fixed and inst.forbidden
        hosts = {h.id: h for h in inst.hosts}
        units = {u.id: u for u in inst.units}
        fams = {f.id: f for f in inst.families}
        at = defaultdict(list)
        for x in inst.fixed:
            if x.host_id:
                at[x.host_id].append(fams[x.family_id])
        for hid, group in at.items():
            for f in group:
                assert rules.violated_rules(inst, hosts[hid], f, group) == [], (hid, f.id)
        for x in inst.fixed:
            if x.unit_id:
                assert rules.unit_ok(units[x.unit_id], fams[x.family_id])
        fixed_ids = {x.family_id for x in inst.fixed}
        for x in inst.forbidden:
            assert x.family_id not in fixed_ids
            # Forbidden pairs are ones that would otherwise have been allowed.
            assert rules.violated_rules(inst, hosts[x.host_id], fams[x.family_id]) == ["forbidden"]
    assert any(x.unit_id for x in mid.fixed)


def test_round_trip_through_json(small):
    assert instance_from_dict(json.loads(dumps_instance(small))) == small


def test_custom_sizes_and_date():
    d = dt.date(2027, 3, 1)
    inst = generate_custom(12, 25, 2, 0, seed=3, date=d, n_fixed=2, n_forbidden=3)
    assert (len(inst.families), len(inst.hosts), len(inst.schools), len(inst.units)) == (12, 25, 2, 0)
    assert inst.date == d
    assert len(inst.fixed) <= 2 and len(inst.forbidden) <= 3
    assert all(f.arrival >= d - dt.timedelta(days=20) for f in inst.families)
    empty = generate_custom(0, 0, 0, 0)
    assert empty.families == () and empty.hosts == () and empty.fixed == ()
    assert instance_from_dict(json.loads(dumps_instance(empty))) == empty


def test_multi_family_hosts():
    inst = generate_custom(50, 200, 4, 1, seed=1, multi_family_share=0.5)
    assert any(h.max_families == 2 for h in inst.hosts)
    assert all(h.beds >= 4 for h in inst.hosts if h.max_families == 2)
    assert all(h.max_families is None for h in generate("small").hosts)


def test_unit_beds_can_bind(mid):
    # Units hold a minority of the persons: they matter, and they can run out.
    persons = sum(f.size for f in mid.families)
    assert 0.03 * persons <= sum(u.beds for u in mid.units) <= 0.2 * persons


def test_unknown_scale():
    with pytest.raises(ValueError, match="unknown scale"):
        generate("huge")


def test_params_are_kept():
    p = dataclasses.replace(generate_custom(5, 5, 1, 1).params, max_school_km=3.0)
    assert generate_custom(5, 5, 1, 1, params=p).params.max_school_km == 3.0


def test_scale_options_pass_through(small):
    tight = generate("small", seed=0, unit_bed_share=0.04)
    assert sum(u.beds for u in tight.units) < sum(u.beds for u in small.units)
    assert len(tight.families) == len(small.families)
