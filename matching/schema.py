"""The `ebo-match/1` instance and `ebo-match-solution/1` solution: frozen dataclasses, strict reading, writing.

Reading is strict: a missing or mistyped field, an unknown key, a duplicate id or a reference to an
unknown record raises `SchemaError` whose message names the record and the field.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INSTANCE_FORMAT = "ebo-match/1"
SOLUTION_FORMAT = "ebo-match-solution/1"
# Limits that keep every cost and sum inside the solver's exact integer range (see matching.model):
# larger weights or counts are refused by name rather than solved with a silent loss of precision.
MAX_WEIGHT = 1e12
MAX_COUNT = 1000          # persons in a family, beds and families per host
MAX_UNIT_BEDS = 1_000_000

STATUSES = ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN")


class SchemaError(ValueError):
    """Bad input: the message names the record and the field."""


@dataclass(frozen=True, slots=True)
class Weights:
    """Objective weights (see docs/matching-format.md, Objective)."""

    school_km: float = 1.0
    unit_per_person: float = 50.0
    unplaced_per_person: float = 1000.0
    no_common_language: float = 2.0


@dataclass(frozen=True, slots=True)
class Params:
    """Run parameters."""

    max_school_km: float = 5.0
    min_stay_days: int = 90
    families_per_host: int = 1
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True, slots=True)
class School:
    """A school, by id, with its coordinates."""

    id: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Host:
    """A volunteer host household."""

    id: str
    lat: float
    lon: float
    beds: int
    max_families: int | None = None
    accepts_children: bool = True
    step_free: bool = False
    has_pets: bool = False
    smoking: bool = False
    languages: tuple[str, ...] = ()
    available_from: dt.date | None = None
    available_until: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Unit:
    """A municipal asylum housing unit (the fallback)."""

    id: str
    lat: float
    lon: float
    beds: int
    step_free: bool = False


@dataclass(frozen=True, slots=True)
class Child:
    """A child of a family; `school_id` is the school it attends now, or None."""

    school_id: str | None = None


@dataclass(frozen=True, slots=True)
class Family:
    """A household to place; `size` counts every person."""

    id: str
    size: int
    arrival: dt.date
    children: tuple[Child, ...] = ()
    needs_step_free: bool = False
    pet_allergy: bool = False
    needs_non_smoking: bool = False
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Fixed:
    """A placement already agreed: exactly one of host_id and unit_id is set."""

    family_id: str
    host_id: str | None = None
    unit_id: str | None = None


@dataclass(frozen=True, slots=True)
class Forbidden:
    """A family–host pair that must not be proposed."""

    family_id: str
    host_id: str


@dataclass(frozen=True, slots=True)
class Instance:
    """A whole matching problem."""

    date: dt.date
    params: Params
    schools: tuple[School, ...] = ()
    hosts: tuple[Host, ...] = ()
    units: tuple[Unit, ...] = ()
    families: tuple[Family, ...] = ()
    fixed: tuple[Fixed, ...] = ()
    forbidden: tuple[Forbidden, ...] = ()

    def max_families(self, host: Host) -> int:
        """The number of families `host` may take (its own limit, else the run's default)."""
        return host.max_families if host.max_families is not None else self.params.families_per_host


@dataclass(frozen=True, slots=True)
class Placement:
    """A family placed with a host or in a unit; `child_km` gives each child's school distance (None: no school)."""

    family_id: str
    host_id: str | None = None
    unit_id: str | None = None
    child_km: tuple[float | None, ...] | None = None


@dataclass(frozen=True, slots=True)
class Unplaced:
    """A family that got no place, with reasons in plain words."""

    family_id: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Solution:
    """What the solver returns."""

    status: str
    objective: float
    bound: float
    gap: float
    wall_s: float
    placements: tuple[Placement, ...] = ()
    unplaced: tuple[Unplaced, ...] = ()


# --------------------------------------------------------------------------- reading helpers


class _Rec:
    """Reads the fields of one JSON object, naming it in every error."""

    def __init__(self, obj: Any, where: str, allowed: set[str]):
        if not isinstance(obj, Mapping):
            raise SchemaError(f"{where}: must be an object, got {_kind(obj)}")
        rid = obj.get("id") if isinstance(obj.get("id"), str) else None
        self.where = f"{where} (id {rid})" if rid else where
        self.obj = obj
        unknown = sorted(set(obj) - allowed)
        if unknown:
            raise SchemaError(f"{self.where}: unknown field '{unknown[0]}'")

    def err(self, name: str, msg: str) -> SchemaError:
        return SchemaError(f"{self.where}: field '{name}': {msg}")

    def has(self, name: str) -> bool:
        return name in self.obj

    def _get(self, name: str, required: bool, default: Any) -> tuple[bool, Any]:
        if name not in self.obj:
            if required:
                raise SchemaError(f"{self.where}: missing field '{name}'")
            return False, default
        return True, self.obj[name]

    def str_(self, name: str, required: bool = True, default: Any = None, nullable: bool = False) -> Any:
        present, v = self._get(name, required, default)
        if not present or (v is None and nullable):
            return v if present else default
        if not isinstance(v, str) or not v.strip():
            raise self.err(name, f"must be a non-empty string, got {_kind(v)}")
        if len(v) > 200:
            raise self.err(name, "is longer than 200 characters")
        return v

    def num(self, name: str, required: bool = True, default: Any = None, lo: float | None = None,
            hi: float | None = None) -> Any:
        present, v = self._get(name, required, default)
        if not present:
            return default
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.err(name, f"must be a number, got {_kind(v)}")
        if lo is not None and v < lo:
            raise self.err(name, f"must be at least {lo:g}, got {v:g}")
        if hi is not None and v > hi:
            raise self.err(name, f"must be at most {hi:g}, got {v:g}")
        return float(v)

    def int_(self, name: str, required: bool = True, default: Any = None, lo: int | None = None,
             nullable: bool = False, hi: int | None = None) -> Any:
        present, v = self._get(name, required, default)
        if not present or (v is None and nullable):
            return v if present else default
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.err(name, f"must be a whole number, got {_kind(v)}")
        if lo is not None and v < lo:
            raise self.err(name, f"must be at least {lo}, got {v}")
        if hi is not None and v > hi:
            raise self.err(name, f"must be at most {hi}, got {v}")
        return v

    def bool_(self, name: str, required: bool = True, default: bool = False) -> bool:
        present, v = self._get(name, required, default)
        if not present:
            return default
        if not isinstance(v, bool):
            raise self.err(name, f"must be true or false, got {_kind(v)}")
        return v

    def date(self, name: str, required: bool = True, nullable: bool = False) -> dt.date | None:
        present, v = self._get(name, required, None)
        if not present or (v is None and nullable):
            return None
        if not isinstance(v, str):
            raise self.err(name, f"must be a date YYYY-MM-DD, got {_kind(v)}")
        try:
            if len(v) != 10:
                raise ValueError
            return dt.date.fromisoformat(v)
        except ValueError:
            raise self.err(name, f"must be a date YYYY-MM-DD, got {v!r}") from None

    def langs(self, name: str) -> tuple[str, ...]:
        present, v = self._get(name, False, [])
        if not present:
            return ()
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            raise self.err(name, "must be a list of language codes")
        return tuple(x.strip().lower() for x in v)

    def list_(self, name: str, required: bool = False) -> list:
        present, v = self._get(name, required, [])
        if not present:
            return []
        if not isinstance(v, list):
            raise self.err(name, f"must be a list, got {_kind(v)}")
        return v


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"{str(v).lower()}"
    if isinstance(v, int | float):
        return f"{v!r}"
    if isinstance(v, str):
        return f"the text {v[:40]!r}"
    if isinstance(v, list):
        return "a list"
    return "an object"


def _coords(r: _Rec) -> tuple[float, float]:
    return r.num("lat", lo=-90, hi=90), r.num("lon", lo=-180, hi=180)


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise SchemaError(f"{what}[{i}] (id {x}): field 'id': duplicate id {x!r}")
        seen.add(x)


# --------------------------------------------------------------------------- instance


def instance_from_dict(d: Any) -> Instance:
    """Build an `Instance` from parsed JSON, strictly; raises `SchemaError`."""
    top = _Rec(d, "instance", {"format", "date", "params", "schools", "hosts", "units", "families",
                               "fixed", "forbidden"})
    fmt = top.str_("format")
    if fmt != INSTANCE_FORMAT:
        raise top.err("format", f"must be {INSTANCE_FORMAT!r}, got {fmt!r}")
    date = top.date("date")

    pd = top.obj.get("params", {})
    p = _Rec(pd, "params", {"max_school_km", "min_stay_days", "families_per_host", "weights"})
    wd = p.obj.get("weights", {})
    w = _Rec(wd, "params.weights", {"school_km", "unit_per_person", "unplaced_per_person",
                                    "no_common_language"})
    dw = Weights()
    weights = Weights(
        school_km=w.num("school_km", False, dw.school_km, lo=0, hi=MAX_WEIGHT),
        unit_per_person=w.num("unit_per_person", False, dw.unit_per_person, lo=0, hi=MAX_WEIGHT),
        unplaced_per_person=w.num("unplaced_per_person", False, dw.unplaced_per_person, lo=0, hi=MAX_WEIGHT),
        no_common_language=w.num("no_common_language", False, dw.no_common_language, lo=0, hi=MAX_WEIGHT),
    )
    dp = Params()
    params = Params(
        max_school_km=p.num("max_school_km", False, dp.max_school_km, lo=0, hi=20000),
        min_stay_days=p.int_("min_stay_days", False, dp.min_stay_days, lo=0),
        families_per_host=p.int_("families_per_host", False, dp.families_per_host, lo=1, hi=MAX_COUNT),
        weights=weights,
    )

    schools = []
    for i, o in enumerate(top.list_("schools")):
        r = _Rec(o, f"schools[{i}]", {"id", "lat", "lon", "name"})
        lat, lon = _coords(r)
        schools.append(School(id=r.str_("id"), lat=lat, lon=lon))
    _unique([s.id for s in schools], "schools")
    school_ids = {s.id for s in schools}

    hosts = []
    for i, o in enumerate(top.list_("hosts")):
        r = _Rec(o, f"hosts[{i}]", {"id", "lat", "lon", "beds", "max_families", "accepts_children",
                                    "step_free", "has_pets", "smoking", "languages", "available_from",
                                    "available_until"})
        hid = r.str_("id")
        lat, lon = _coords(r)
        af = r.date("available_from", required=False, nullable=True)
        au = r.date("available_until", required=False, nullable=True)
        if af and au and au < af:
            raise r.err("available_until", "is before available_from")
        hosts.append(Host(
            id=hid, lat=lat, lon=lon, beds=r.int_("beds", lo=0, hi=MAX_COUNT),
            max_families=r.int_("max_families", False, None, lo=0, nullable=True, hi=MAX_COUNT),
            accepts_children=r.bool_("accepts_children"), step_free=r.bool_("step_free"),
            has_pets=r.bool_("has_pets"), smoking=r.bool_("smoking"), languages=r.langs("languages"),
            available_from=af, available_until=au,
        ))
    _unique([h.id for h in hosts], "hosts")

    units = []
    for i, o in enumerate(top.list_("units")):
        r = _Rec(o, f"units[{i}]", {"id", "lat", "lon", "beds", "step_free", "name"})
        uid = r.str_("id")
        lat, lon = _coords(r)
        units.append(Unit(id=uid, lat=lat, lon=lon, beds=r.int_("beds", lo=0, hi=MAX_UNIT_BEDS),
                          step_free=r.bool_("step_free", False, False)))
    _unique([u.id for u in units], "units")
    _unique([x.id for x in hosts] + [u.id for u in units], "hosts and units")

    families = []
    for i, o in enumerate(top.list_("families")):
        r = _Rec(o, f"families[{i}]", {"id", "size", "children", "needs_step_free", "pet_allergy",
                                       "needs_non_smoking", "languages", "arrival"})
        fid = r.str_("id")
        size = r.int_("size", lo=1, hi=MAX_COUNT)
        children = []
        for j, c in enumerate(r.list_("children")):
            cr = _Rec(c, f"{r.where}.children[{j}]", {"school_id", "birth_year"})
            sid = cr.str_("school_id", required=False, default=None, nullable=True)
            if sid is not None and sid not in school_ids:
                raise cr.err("school_id", f"unknown school {sid!r}")
            children.append(Child(school_id=sid))
        if len(children) > size:
            raise r.err("size", f"is {size} but the family lists {len(children)} children")
        families.append(Family(
            id=fid, size=size, arrival=r.date("arrival"), children=tuple(children),
            needs_step_free=r.bool_("needs_step_free"), pet_allergy=r.bool_("pet_allergy"),
            needs_non_smoking=r.bool_("needs_non_smoking"), languages=r.langs("languages"),
        ))
    _unique([f.id for f in families], "families")
    family_ids = {f.id for f in families}
    host_ids = {h.id for h in hosts}
    unit_ids = {u.id for u in units}

    fixed = []
    seen_fixed: set[str] = set()
    for i, o in enumerate(top.list_("fixed")):
        r = _Rec(o, f"fixed[{i}]", {"family_id", "host_id", "unit_id"})
        fid = r.str_("family_id")
        if fid not in family_ids:
            raise r.err("family_id", f"unknown family {fid!r}")
        if fid in seen_fixed:
            raise r.err("family_id", f"family {fid!r} is fixed twice")
        seen_fixed.add(fid)
        hid = r.str_("host_id", required=False, nullable=True)
        uid = r.str_("unit_id", required=False, nullable=True)
        if (hid is None) == (uid is None):
            raise SchemaError(f"{r.where}: needs exactly one of the fields 'host_id' and 'unit_id'")
        if hid is not None and hid not in host_ids:
            raise r.err("host_id", f"unknown host {hid!r}")
        if uid is not None and uid not in unit_ids:
            raise r.err("unit_id", f"unknown unit {uid!r}")
        fixed.append(Fixed(family_id=fid, host_id=hid, unit_id=uid))

    forbidden = []
    for i, o in enumerate(top.list_("forbidden")):
        r = _Rec(o, f"forbidden[{i}]", {"family_id", "host_id"})
        fid, hid = r.str_("family_id"), r.str_("host_id")
        if fid not in family_ids:
            raise r.err("family_id", f"unknown family {fid!r}")
        if hid not in host_ids:
            raise r.err("host_id", f"unknown host {hid!r}")
        forbidden.append(Forbidden(family_id=fid, host_id=hid))

    return Instance(date=date, params=params, schools=tuple(schools), hosts=tuple(hosts),
                    units=tuple(units), families=tuple(families), fixed=tuple(fixed),
                    forbidden=tuple(forbidden))


def _d(x: dt.date | None) -> str | None:
    return x.isoformat() if x else None


def instance_to_dict(inst: Instance) -> dict:
    """The JSON-ready form of an instance (exactly the `ebo-match/1` fields)."""
    w = inst.params.weights
    return {
        "format": INSTANCE_FORMAT,
        "date": inst.date.isoformat(),
        "params": {
            "max_school_km": inst.params.max_school_km,
            "min_stay_days": inst.params.min_stay_days,
            "families_per_host": inst.params.families_per_host,
            "weights": {"school_km": w.school_km, "unit_per_person": w.unit_per_person,
                        "unplaced_per_person": w.unplaced_per_person,
                        "no_common_language": w.no_common_language},
        },
        "schools": [{"id": s.id, "lat": s.lat, "lon": s.lon} for s in inst.schools],
        "hosts": [
            {"id": h.id, "lat": h.lat, "lon": h.lon, "beds": h.beds,
             **({"max_families": h.max_families} if h.max_families is not None else {}),
             "accepts_children": h.accepts_children, "step_free": h.step_free, "has_pets": h.has_pets,
             "smoking": h.smoking, "languages": list(h.languages),
             "available_from": _d(h.available_from), "available_until": _d(h.available_until)}
            for h in inst.hosts
        ],
        "units": [{"id": u.id, "lat": u.lat, "lon": u.lon, "beds": u.beds, "step_free": u.step_free}
                  for u in inst.units],
        "families": [
            {"id": f.id, "size": f.size, "children": [{"school_id": c.school_id} for c in f.children],
             "needs_step_free": f.needs_step_free, "pet_allergy": f.pet_allergy,
             "needs_non_smoking": f.needs_non_smoking, "languages": list(f.languages),
             "arrival": f.arrival.isoformat()}
            for f in inst.families
        ],
        "fixed": [{"family_id": x.family_id, **({"host_id": x.host_id} if x.host_id else {"unit_id": x.unit_id})}
                  for x in inst.fixed],
        "forbidden": [{"family_id": x.family_id, "host_id": x.host_id} for x in inst.forbidden],
    }


# --------------------------------------------------------------------------- solution


def solution_from_dict(d: Any) -> Solution:
    """Build a `Solution` from parsed JSON, strictly; raises `SchemaError`."""
    top = _Rec(d, "solution", {"format", "status", "objective", "bound", "gap", "wall_s", "placements",
                               "unplaced"})
    fmt = top.str_("format")
    if fmt != SOLUTION_FORMAT:
        raise top.err("format", f"must be {SOLUTION_FORMAT!r}, got {fmt!r}")
    status = top.str_("status")
    if status not in STATUSES:
        raise top.err("status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
    placements = []
    for i, o in enumerate(top.list_("placements", required=True)):
        r = _Rec(o, f"placements[{i}]", {"family_id", "host_id", "unit_id", "child_km"})
        hid = r.str_("host_id", required=False, nullable=True)
        uid = r.str_("unit_id", required=False, nullable=True)
        if (hid is None) == (uid is None):
            raise SchemaError(f"{r.where}: needs exactly one of the fields 'host_id' and 'unit_id'")
        km = None
        if r.has("child_km"):
            raw = r.list_("child_km")
            if not all(x is None or (isinstance(x, int | float) and not isinstance(x, bool)) for x in raw):
                raise r.err("child_km", "must be a list of numbers or nulls")
            km = tuple(None if x is None else float(x) for x in raw)
        placements.append(Placement(family_id=r.str_("family_id"), host_id=hid, unit_id=uid, child_km=km))
    unplaced = []
    for i, o in enumerate(top.list_("unplaced", required=True)):
        r = _Rec(o, f"unplaced[{i}]", {"family_id", "reasons"})
        reasons = r.list_("reasons")
        if not all(isinstance(x, str) for x in reasons):
            raise r.err("reasons", "must be a list of texts")
        unplaced.append(Unplaced(family_id=r.str_("family_id"), reasons=tuple(reasons)))
    return Solution(status=status, objective=top.num("objective"), bound=top.num("bound"),
                    gap=top.num("gap", lo=0), wall_s=top.num("wall_s", lo=0),
                    placements=tuple(placements), unplaced=tuple(unplaced))


def solution_to_dict(sol: Solution) -> dict:
    """The JSON-ready form of a solution (`ebo-match-solution/1`)."""

    def pl(p: Placement) -> dict:
        d: dict[str, Any] = {"family_id": p.family_id}
        d.update({"host_id": p.host_id} if p.host_id is not None else {"unit_id": p.unit_id})
        if p.child_km is not None:
            d["child_km"] = [None if x is None else round(x, 3) for x in p.child_km]
        return d

    return {
        "format": SOLUTION_FORMAT,
        "status": sol.status,
        "objective": round(sol.objective, 6),
        "bound": round(sol.bound, 6),
        "gap": round(sol.gap, 9),
        "wall_s": round(sol.wall_s, 3),
        "placements": [pl(p) for p in sol.placements],
        "unplaced": [{"family_id": u.family_id, "reasons": list(u.reasons)} for u in sol.unplaced],
    }


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SchemaError(f"{what}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None


def read_instance(path: str) -> Instance:
    """Read an instance file; raises `SchemaError` (also for an unreadable file)."""
    return instance_from_dict(_load_json(_read_text(path), path))


def read_solution(path: str) -> Solution:
    """Read a solution file; raises `SchemaError`."""
    return solution_from_dict(_load_json(_read_text(path), path))


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise SchemaError(f"{path}: cannot read the file ({e.__class__.__name__}: {e})") from None


def dumps_instance(inst: Instance) -> str:
    """Serialise an instance to JSON text."""
    return json.dumps(instance_to_dict(inst), ensure_ascii=False, indent=1)


def dumps_solution(sol: Solution) -> str:
    """Serialise a solution to JSON text."""
    return json.dumps(solution_to_dict(sol), ensure_ascii=False, indent=1)
