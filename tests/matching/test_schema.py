"""Strict reading of `ebo-match/1`: every bad input is refused with a message naming the record and field."""

import copy
import json

import pytest

from matching.schema import (
    SchemaError,
    dumps_instance,
    dumps_solution,
    instance_from_dict,
    instance_to_dict,
    read_instance,
    read_solution,
    solution_from_dict,
)

BASE = {
    "format": "ebo-match/1",
    "date": "2026-12-01",
    "params": {
        "max_school_km": 5.0,
        "min_stay_days": 90,
        "families_per_host": 1,
        "weights": {
            "school_km": 1.0,
            "unit_per_person": 50.0,
            "unplaced_per_person": 1000.0,
            "no_common_language": 2.0,
        },
    },
    "schools": [{"id": "S1", "lat": 59.23, "lon": 17.98}],
    "hosts": [
        {
            "id": "H1",
            "lat": 59.24,
            "lon": 17.99,
            "beds": 4,
            "max_families": 1,
            "accepts_children": True,
            "step_free": False,
            "has_pets": False,
            "smoking": False,
            "languages": ["sv", "en"],
            "available_from": "2026-11-20",
            "available_until": None,
        },
        {
            "id": "H3",
            "lat": 59.25,
            "lon": 17.99,
            "beds": 2,
            "accepts_children": True,
            "step_free": False,
            "has_pets": False,
            "smoking": False,
            "languages": ["sv"],
            "available_from": None,
            "available_until": None,
        },
    ],
    "units": [{"id": "U1", "lat": 59.25, "lon": 18.01, "beds": 120, "step_free": True}],
    "families": [
        {
            "id": "F1",
            "size": 4,
            "children": [{"school_id": "S1"}, {"school_id": None}],
            "needs_step_free": False,
            "pet_allergy": False,
            "needs_non_smoking": True,
            "languages": ["ar", "en"],
            "arrival": "2026-12-05",
        },
        {
            "id": "F9",
            "size": 1,
            "children": [],
            "needs_step_free": False,
            "pet_allergy": False,
            "needs_non_smoking": False,
            "languages": ["uk"],
            "arrival": "2026-12-01",
        },
    ],
    "fixed": [{"family_id": "F9", "host_id": "H3"}],
    "forbidden": [{"family_id": "F1", "host_id": "H3"}],
}


def bad(mutate):
    d = copy.deepcopy(BASE)
    mutate(d)
    with pytest.raises(SchemaError) as e:
        instance_from_dict(d)
    return str(e.value)


def test_the_spec_example_reads():
    inst = instance_from_dict(copy.deepcopy(BASE))
    assert [h.id for h in inst.hosts] == ["H1", "H3"]
    assert inst.families[0].children[1].school_id is None
    assert inst.max_families(inst.hosts[1]) == 1
    assert inst.fixed[0].host_id == "H3"


def test_round_trip_through_json():
    inst = instance_from_dict(copy.deepcopy(BASE))
    assert instance_from_dict(json.loads(dumps_instance(inst))) == inst
    assert instance_from_dict(instance_to_dict(inst)) == inst


def test_missing_field_names_record_and_field():
    msg = bad(lambda d: d["hosts"][0].pop("beds"))
    assert "hosts[0]" in msg and "H1" in msg and "'beds'" in msg and "missing" in msg


def test_unknown_school_id_names_child_and_field():
    def m(d):
        d["families"][0]["children"][0]["school_id"] = "S99"

    msg = bad(m)
    assert "families[0]" in msg and "F1" in msg and "children[0]" in msg and "'school_id'" in msg
    assert "S99" in msg


def test_negative_beds():
    def m(d):
        d["hosts"][1]["beds"] = -1

    msg = bad(m)
    assert "hosts[1]" in msg and "H3" in msg and "'beds'" in msg


def test_negative_unit_beds():
    def m(d):
        d["units"][0]["beds"] = -5

    msg = bad(m)
    assert "units[0]" in msg and "'beds'" in msg


@pytest.mark.parametrize("value", ["2026-13-01", "1.12.2026", "2026-12-1", 20261201, ""])
def test_malformed_date(value):
    def m(d):
        d["families"][1]["arrival"] = value

    msg = bad(m)
    assert "families[1]" in msg and "F9" in msg and "'arrival'" in msg


def test_malformed_top_level_date():
    def m(d):
        d["date"] = "tomorrow"

    msg = bad(m)
    assert "instance" in msg and "'date'" in msg


def test_fixed_names_an_unknown_host():
    def m(d):
        d["fixed"][0]["host_id"] = "H404"

    msg = bad(m)
    assert "fixed[0]" in msg and "'host_id'" in msg and "H404" in msg


def test_fixed_names_an_unknown_unit():
    def m(d):
        d["fixed"][0] = {"family_id": "F9", "unit_id": "U9"}

    msg = bad(m)
    assert "fixed[0]" in msg and "'unit_id'" in msg


def test_fixed_needs_exactly_one_place():
    def m(d):
        d["fixed"][0]["unit_id"] = "U1"

    msg = bad(m)
    assert "fixed[0]" in msg and "host_id" in msg and "unit_id" in msg


def test_forbidden_names_an_unknown_family():
    def m(d):
        d["forbidden"][0]["family_id"] = "F404"

    msg = bad(m)
    assert "forbidden[0]" in msg and "'family_id'" in msg


def test_unknown_key_is_refused():
    def m(d):
        d["hosts"][0]["colour"] = "blue"

    msg = bad(m)
    assert "hosts[0]" in msg and "'colour'" in msg and "unknown" in msg


def test_unknown_top_level_key_is_refused():
    msg = bad(lambda d: d.update(extra=1))
    assert "instance" in msg and "'extra'" in msg


def test_duplicate_id():
    def m(d):
        d["families"][1]["id"] = "F1"

    msg = bad(m)
    assert "families[1]" in msg and "'id'" in msg and "duplicate" in msg


def test_host_and_unit_ids_must_differ():
    def m(d):
        d["units"][0]["id"] = "H1"

    msg = bad(m)
    assert "duplicate" in msg and "H1" in msg


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("hosts", 0, "lat"), 91, "lat"),
        (("hosts", 0, "lon"), "18", "lon"),
        (("hosts", 0, "step_free"), "yes", "step_free"),
        (("families", 0, "size"), 0, "size"),
        (("families", 0, "size"), 1, "size"),  # fewer persons than listed children
        (("families", 0, "size"), 2.5, "size"),
        (("families", 0, "languages"), "ar", "languages"),
        (("params", "max_school_km"), -1, "max_school_km"),
        (("params", "weights", "school_km"), -1, "school_km"),
    ],
)
def test_bad_values_name_the_field(path, value, field):
    def m(d):
        obj = d
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value

    msg = bad(m)
    assert f"'{field}'" in msg


def test_wrong_format_and_not_an_object():
    assert "'format'" in bad(lambda d: d.update(format="ebo-match/2"))
    with pytest.raises(SchemaError, match="instance"):
        instance_from_dict([1, 2])
    msg = bad(lambda d: d["hosts"].__setitem__(0, "H1"))
    assert "hosts[0]" in msg


def test_available_until_before_from():
    def m(d):
        d["hosts"][0]["available_until"] = "2026-11-01"

    msg = bad(m)
    assert "hosts[0]" in msg and "'available_until'" in msg


def test_read_instance_bad_json_and_missing_file(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"format": ')
    with pytest.raises(SchemaError, match="not valid JSON"):
        read_instance(str(p))
    with pytest.raises(SchemaError, match="cannot read"):
        read_instance(str(tmp_path / "absent.json"))


SOL = {
    "format": "ebo-match-solution/1",
    "status": "FEASIBLE",
    "objective": 10.0,
    "bound": 0.0,
    "gap": 1.0,
    "wall_s": 0.1,
    "placements": [{"family_id": "F1", "host_id": "H1", "child_km": [1.25, None]}],
    "unplaced": [{"family_id": "F9", "reasons": ["none"]}],
}


def test_solution_round_trip(tmp_path):
    sol = solution_from_dict(copy.deepcopy(SOL))
    assert sol.placements[0].child_km == (1.25, None)
    p = tmp_path / "s.json"
    p.write_text(dumps_solution(sol))
    assert read_solution(str(p)) == sol


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda s: s.update(status="GREAT"), "'status'"),
        (lambda s: s.pop("placements"), "'placements'"),
        (lambda s: s["placements"][0].update(unit_id="U1"), "placements[0]"),
        (lambda s: s.update(gap=-0.5), "'gap'"),
        (lambda s: s["unplaced"][0].update(reasons=[1]), "'reasons'"),
    ],
)
def test_bad_solutions(mutate, needle):
    d = copy.deepcopy(SOL)
    mutate(d)
    with pytest.raises(SchemaError) as e:
        solution_from_dict(d)
    assert needle in str(e.value)
