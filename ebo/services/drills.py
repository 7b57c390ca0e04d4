"""Plus 5 % drills: a generated arrival of the target size matched against today's hosts and units.

A drill is a background run of kind "drill" (ebo.services.runs, where this module registers how a drill
builds its instance and stores its result): its instance holds today's approved,
reconfirmed hosts and active units with their *free* beds (from match_instance.build_instance) and
generated families instead of the real ones; no real family, fixed placement or forbidden pair takes
part. Its result is stored only as aggregate figures in a Drill row: no proposal, no placement, no
change to any counter, and no replay files (they would hold host ids and coordinates).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections import Counter

import numpy as np
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ebo.extensions import db
from ebo.models import (
    Drill,
    HostHousehold,
    HousingUnit,
    MatchingRun,
    MunicipalitySettings,
    RunKind,
    RunState,
    School,
)
from ebo.services import runs
from ebo.services.match_instance import build_instance
from ebo.services.preparedness import SIZE_BUCKETS, UNKNOWN_AREA, postal_area, size_bucket
from matching import schema as ms
from matching.generate import FAMILY_LANGS, FAMILY_LANGS_P, FAMILY_SIZE_P

SUMMARY_VERSION = 1
RESIDENT_SHARE = 0.2  # families already living here: their children attend the municipality's schools
ARRIVAL_SPREAD_DAYS = 30


class DrillRefused(Exception):
    """A drill cannot start (another drill is running); the message is for the user."""


# --------------------------------------------------------------------------- starting and reading


def start_drill(user, time_limit_s: float = 60.0) -> MatchingRun:
    """Queue a drill run for the current settings (handed over at commit); raises DrillRefused while one is active."""
    s = MunicipalitySettings.get()
    params = runs.RunParams(max_school_km=float(s.default_max_school_km), families_per_host=1,
                            time_limit_s=float(time_limit_s))
    try:
        return runs.start_run(params, user, kind=RunKind.DRILL)
    except runs.RunRefused as e:
        if not e.busy:
            raise DrillRefused(str(e)) from None
        raise DrillRefused(_l("A drill is already queued or running.")) from None


def get_drill_run(run_id: uuid.UUID) -> MatchingRun | None:
    """The drill run with this id, or None (matching runs are not drills)."""
    run = db.session.get(MatchingRun, run_id)
    return run if run is not None and run.kind == RunKind.DRILL else None


def drill_of(run) -> Drill | None:
    """The stored result of a drill run, if it is done."""
    return db.session.scalar(sa.select(Drill).where(Drill.run_id == run.id).limit(1))


def drill_runs(limit: int = 50) -> list:
    """Drill runs, newest first, each with its result (or None while it runs or when it failed)."""
    rows = db.session.execute(
        sa.select(MatchingRun, Drill).outerjoin(Drill, Drill.run_id == MatchingRun.id)
        .where(MatchingRun.kind == RunKind.DRILL).order_by(MatchingRun.created_at.desc()).limit(limit)).all()
    return [(r, d) for r, d in rows]


def finished_drills(limit: int = 20) -> list:
    """Finished drills, newest first."""
    return db.session.scalars(sa.select(Drill).where(Drill.summary.is_not(None))
                              .order_by(Drill.created_at.desc()).limit(limit)).all()


def active_drill() -> MatchingRun | None:
    """The queued or running drill run, if any."""
    return db.session.scalar(sa.select(MatchingRun).where(MatchingRun.kind == RunKind.DRILL,
                                                          MatchingRun.active_lock.is_not(None)).limit(1))


# --------------------------------------------------------------------------- the arrival


def generate_families(target_persons: int, schools: list[ms.School], today: dt.date, seed: int,
                      resident_share: float = RESIDENT_SHARE) -> tuple[ms.Family, ...]:
    """Families of `target_persons` persons in all: many single adults, some families of 6–9.

    A share of them already live here: their school-age children attend one of `schools` (often the
    same school for siblings); newly arrived children have no school yet.
    """
    rng = np.random.default_rng([seed, target_persons])
    out: list[ms.Family] = []
    persons = 0
    i = 0
    while persons < target_persons:
        size = int(rng.choice(np.arange(1, 10), p=FAMILY_SIZE_P))
        size = min(size, target_persons - persons)
        adults = 1 if size == 1 else (int(rng.random() < 0.5) + 1 if size == 2 else (1 if rng.random() < 0.25 else 2))
        if size >= 7 and rng.random() < 0.3:
            adults = 3
        resident = bool(schools) and rng.random() < resident_share
        first_school = None
        kids = []
        for _k in range(size - adults):
            sid = None
            if resident and rng.random() < 0.75:  # the rest are too young for school
                if first_school is None or rng.random() >= 0.7:
                    first_school = schools[int(rng.integers(len(schools)))].id
                sid = first_school
            kids.append(ms.Child(school_id=sid))
        langs = [FAMILY_LANGS[int(rng.choice(len(FAMILY_LANGS), p=FAMILY_LANGS_P))]]
        if langs[0] == "uk" and rng.random() < 0.5:
            langs.append("ru")
        if "en" not in langs and rng.random() < 0.35:
            langs.append("en")
        if rng.random() < 0.08:
            langs.append("sv")
        i += 1
        out.append(ms.Family(
            id=f"D{i:05d}", size=size, children=tuple(kids),
            arrival=today + dt.timedelta(days=int(rng.integers(0, ARRIVAL_SPREAD_DAYS + 1))),
            needs_step_free=bool(rng.random() < 0.07), pet_allergy=bool(rng.random() < 0.12),
            needs_non_smoking=bool(rng.random() < (0.55 if kids else 0.30)), languages=tuple(langs)))
        persons += size
    return tuple(out)


def _seed(run) -> int:
    """A seed that makes a drill reproducible from its run id."""
    return int(uuid.UUID(str(run.id)).int % (2**32))


def build_drill_instance(run, *, today: dt.date, max_school_km: float, min_stay_days: int = 90,
                         reconfirm_months: int = 12, target_persons: int | None = None) -> ms.Instance:
    """Today's approved, reconfirmed hosts and active units with their free beds, and a generated arrival."""
    inst, _preview = build_instance(today, max_school_km=max_school_km, families_per_host=1,
                                    min_stay_days=min_stay_days, reconfirm_months=reconfirm_months)
    taking_part = {str(r.id): r for r in db.session.execute(
        sa.select(HostHousehold.id, HostHousehold.beds, HostHousehold.beds_used, HostHousehold.families_placed,
                  HostHousehold.max_families).where(HostHousehold.matching_clause(today, reconfirm_months)))}
    hosts = []
    for h in inst.hosts:
        r = taking_part.get(h.id)  # hosts only kept for real placements are left out
        if r is None or r.families_placed >= r.max_families or r.beds <= r.beds_used:
            continue
        hosts.append(dataclasses.replace(h, beds=r.beds - r.beds_used, max_families=1))
    used = dict(db.session.execute(sa.select(HousingUnit.id, HousingUnit.beds_used)).all())
    units = [dataclasses.replace(u, beds=max(u.beds - used.get(uuid.UUID(u.id), 0), 0)) for u in inst.units]
    units = [u for u in units if u.beds > 0]
    schools = [ms.School(id=str(s.id), lat=s.lat, lon=s.lon) for s in db.session.execute(
        sa.select(School.id, School.lat, School.lon).where(School.active.is_(True), School.lat.is_not(None),
                                                           School.lon.is_not(None)).order_by(School.code))]
    if target_persons is None:
        target_persons = MunicipalitySettings.get().target_persons
    families = generate_families(target_persons, schools, today, _seed(run))
    used_schools = {c.school_id for f in families for c in f.children if c.school_id}
    return dataclasses.replace(inst, hosts=tuple(hosts), units=tuple(units), families=families,
                               schools=tuple(s for s in schools if s.id in used_schools), fixed=(), forbidden=())


# --------------------------------------------------------------------------- the result


def _empty_size_row(bucket: str) -> dict:
    return {"size": bucket, "families": 0, "persons": 0, "homes": 0, "units": 0, "unplaced": 0,
            "families_homes": 0, "families_units": 0, "families_unplaced": 0}


def summarise(inst: ms.Instance, solution: ms.Solution, host_areas: dict[str, str],
              school_names: dict[str, str], school_areas: dict[str, str] | None = None) -> dict:
    """The aggregate result of a drill: persons in homes, in units, not at all, by size and area, and the gaps."""
    school_areas = school_areas or {}
    fams = {f.id: f for f in inst.families}
    where: dict[str, str] = {}
    host_of: dict[str, str] = {}
    children_within = children_schooled = 0
    for pl in solution.placements:
        where[pl.family_id] = "homes" if pl.host_id else "units"
        if pl.host_id:
            host_of[pl.family_id] = pl.host_id
        for km in pl.child_km or ():
            if km is not None:
                children_schooled += 1
                children_within += km <= inst.params.max_school_km + 1e-9
    for u in solution.unplaced:
        where[u.family_id] = "unplaced"
    by_size = {b: _empty_size_row(b) for b in SIZE_BUCKETS}
    totals = Counter()
    for f in inst.families:
        row, place = by_size[size_bucket(f.size)], where.get(f.id, "unplaced")
        row["families"] += 1
        row["persons"] += f.size
        row[place] += f.size
        row["families_" + place] += 1
        totals[place] += f.size
        totals["families_" + place] += 1
    # Per postal area of the hosts: free beds offered, and who was housed there.
    areas: dict[str, dict] = {}

    def area_row(key: str) -> dict:
        return areas.setdefault(key, {"area": key, "hosts": 0, "beds": 0, "hosts_used": 0, "families": 0,
                                      "persons": 0})

    for h in inst.hosts:
        a = area_row(host_areas.get(h.id, UNKNOWN_AREA))
        a["hosts"] += 1
        a["beds"] += h.beds
    for fid, hid in host_of.items():
        a = area_row(host_areas.get(hid, UNKNOWN_AREA))
        a["hosts_used"] += 1
        a["families"] += 1
        a["persons"] += fams[fid].size
    # Where capacity is missing: families that found no host, by size, and the schools their children attend.
    gaps = []
    for bucket in reversed(SIZE_BUCKETS):
        missing = [f for f in inst.families if size_bucket(f.size) == bucket and where.get(f.id) != "homes"]
        if not missing:
            continue
        per_school = Counter()
        per_area = Counter()
        for f in missing:
            sids = {c.school_id for c in f.children if c.school_id}
            per_school.update(sids)
            per_area.update({school_areas.get(s, UNKNOWN_AREA) for s in sids})
        gaps.append({
            "size": bucket, "families": len(missing), "persons": sum(f.size for f in missing),
            "in_units": sum(1 for f in missing if where.get(f.id) == "units"),
            "unplaced": sum(1 for f in missing if where.get(f.id) == "unplaced"),
            "with_school": sum(1 for f in missing if any(c.school_id for c in f.children)),
            "schools": [{"name": school_names.get(s, "?"), "area": school_areas.get(s, UNKNOWN_AREA), "families": n}
                        for s, n in sorted(per_school.items(), key=lambda kv: (-kv[1], school_names.get(kv[0], "")))
                        ][:3],
            "areas": [{"area": a, "families": n} for a, n in sorted(per_area.items(), key=lambda kv: (-kv[1], kv[0]))],
        })
    persons = sum(f.size for f in inst.families)
    return {
        "version": SUMMARY_VERSION, "date": inst.date.isoformat(),
        "families": len(inst.families), "persons": persons,
        "children": sum(len(f.children) for f in inst.families),
        "children_with_school": sum(1 for f in inst.families for c in f.children if c.school_id),
        "children_within_school_limit": children_within, "max_school_km": inst.params.max_school_km,
        "hosts": len(inst.hosts), "host_beds": sum(h.beds for h in inst.hosts),
        "units": len(inst.units), "unit_beds": sum(u.beds for u in inst.units),
        "homes": totals["homes"], "in_units": totals["units"], "unplaced": totals["unplaced"],
        "families_homes": totals["families_homes"], "families_units": totals["families_units"],
        "families_unplaced": totals["families_unplaced"],
        "by_size": [by_size[b] for b in SIZE_BUCKETS],
        "by_area": sorted(areas.values(), key=lambda a: (a["area"] == UNKNOWN_AREA, a["area"])),
        "gaps": gaps,
        "solver": {"status": solution.status, "gap": solution.gap, "wall_s": round(solution.wall_s, 2)},
    }


def store_drill(run, inst: ms.Instance, solution: ms.Solution) -> None:
    """Store a drill's aggregate result as a Drill row and the solver figures on its run (nothing else)."""
    host_areas = {str(i): postal_area(pc) for i, pc in db.session.execute(
        sa.select(HostHousehold.id, HostHousehold.postal_code))}
    names, areas = {}, {}
    for sid, name, pc in db.session.execute(sa.select(School.id, School.name, School.postal_code)):
        names[str(sid)], areas[str(sid)] = name, postal_area(pc)
    summary = summarise(inst, solution, host_areas, names, areas)
    s = MunicipalitySettings.get()
    summary["target_persons"] = s.target_persons
    db.session.add(Drill(run_id=run.id, created_by=run.started_by, year=inst.date.year, population=s.population,
                         target_persons=s.target_persons, summary=summary))
    run.status, run.objective, run.bound = solution.status, solution.objective, solution.bound
    run.gap, run.wall_s = solution.gap, solution.wall_s
    run.counts = {"families": summary["families"], "persons": summary["persons"], "hosts": summary["hosts"],
                  "units": summary["units"], "persons_with_hosts": summary["homes"],
                  "persons_in_units": summary["in_units"], "persons_unplaced": summary["unplaced"]}


# --------------------------------------------------------------------------- words


def _families_of(bucket: str, n: int) -> str:
    """ "12 single persons", "5 families of 3", "37 families of 6 or more"."""
    if bucket == "1":
        return ngettext("%(num)d single person", "%(num)d single persons", n)
    if bucket == "6+":
        return ngettext("%(num)d family of 6 or more", "%(num)d families of 6 or more", n)
    return ngettext("%(num)d family of %(size)s", "%(num)d families of %(size)s", n, size=bucket)


def gap_sentences(summary: dict | None) -> list[str]:
    """Where capacity is missing, in words: one sentence per family size that found no host."""
    out = []
    for g in (summary or {}).get("gaps", []):
        text = _("%(who)s found no host", who=_families_of(g["size"], g["families"]))
        if g["in_units"] and g["unplaced"]:
            text += _(" (%(u)d in municipal units, %(n)d not housed at all)", u=g["in_units"], n=g["unplaced"])
        elif g["unplaced"]:
            text += _(" (not housed at all)")
        elif g["in_units"]:
            text += ngettext(" (in a municipal unit)", " (all of them in municipal units)", g["in_units"])
        if g["schools"]:
            top = g["schools"][0]
            if g["families"] == 1:
                text += _("; the children go to %(school)s", school=top["name"])
            else:
                text += ngettext("; %(num)d of them has children at %(school)s",
                                 "; %(num)d of them have children at %(school)s", top["families"], school=top["name"])
        out.append(text + ".")
    return out


def compare(latest: dict | None, previous: dict | None) -> list[dict]:
    """The change from the previous drill to the latest: one row per figure."""
    if not latest or not previous:
        return []
    keys = [("target_persons", _("Target persons")), ("hosts", _("Hosts taking part")),
            ("host_beds", _("Free host beds")), ("unit_beds", _("Free unit beds")),
            ("homes", _("Persons housed in homes")), ("in_units", _("Persons housed in units")),
            ("unplaced", _("Persons not housed"))]
    rows = []
    for key, label in keys:
        a, b = previous.get(key), latest.get(key)
        if a is None or b is None:
            continue
        rows.append({"key": key, "label": label, "previous": a, "latest": b, "change": b - a})
    return rows


def ensure_demo_drill(user, time_limit_s: float = 20.0):
    """Run one drill synchronously in this process if none exists yet (the demo's first start; it commits)."""
    db.session.commit()  # execute_run rolls back: nothing of the caller may still be pending
    if db.session.scalar(sa.select(Drill.id).limit(1)) is not None or active_drill() is not None:
        return None
    s_km = float(MunicipalitySettings.get().default_max_school_km)
    run = MatchingRun(kind=RunKind.DRILL, state=RunState.QUEUED, active_lock=RunKind.DRILL,
                      started_by=getattr(user, "id", None), progress=0.0,
                      params=runs.RunParams(max_school_km=s_km, time_limit_s=time_limit_s).as_dict())
    db.session.add(run)
    db.session.commit()
    runs.execute_run(run.id)
    return drill_of(run)


# --------------------------------------------------------------------------- the run kind "drill"


def _build_drill(run: MatchingRun, today: dt.date) -> ms.Instance:
    """A drill run's instance, from its parameters and the municipality's settings."""
    p = run.params or {}
    settings = MunicipalitySettings.get()
    return build_drill_instance(run, today=today,
                                max_school_km=float(p.get("max_school_km", settings.default_max_school_km)),
                                min_stay_days=int(p.get("min_stay_days", 90)),
                                reconfirm_months=settings.reconfirm_months)


def _store_drill(run: MatchingRun, inst: ms.Instance, solution: ms.Solution, _instance_json: str) -> None:
    """A drill keeps aggregate figures only: no proposals and no replay files."""
    store_drill(run, inst, solution)


runs.register_kind(RunKind.DRILL, _build_drill, _store_drill)
