"""Benchmark a Plus 5 % drill end to end: a municipality of 100,000 (target 5,000) and 4,000 approved hosts.

The hosts, schools and units of `matching.generate`'s "mid" scale are seeded into a fresh SQLite file; the
drill then runs as in production (a queued run of kind "drill", solved in a child process), executed at
once in this process (RUNS_MODE "sync"). Prints the timing and the drill's figures; exits 1 when the drill
fails or takes 60 s or more. Run: `.venv/bin/python benchmarks/bench_drill.py [--time-limit 30] [--keep]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_S = 60.0


def _app(db_path: Path, instance: Path):
    from ebo import create_app

    return create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
                       "INSTANCE_PATH": str(instance), "RUNS_MODE": "sync", "MATCH_IN_PROCESS": False,
                       "RATELIMIT_ENABLED": False, "REDIS_URL": None})


def _area(lat: float, lon: float) -> str:
    """A made-up postal area from a grid of about 4 km."""
    return f"{100 + int((lat - 59.0) * 28) % 90 * 10 + int((lon - 17.5) * 14) % 10:03d}"


def seed(n_hosts: int = 4000) -> dict:
    """Settings for 100,000 inhabitants and the mid-scale hosts, schools and units, all taking part."""
    from ebo.extensions import db
    from ebo.models import HostHousehold, HousingUnit, MunicipalitySettings, School, User
    from matching.generate import generate

    inst = generate("mid", seed=0, date=dt.date.today())
    s = MunicipalitySettings.get()
    s.name, s.population, s.households, s.target_percent = "Benchmark kommun", 100_000, 45_000, 5.0
    for i, sc in enumerate(inst.schools):
        db.session.add(School(code=f"{90000000 + i}", name=f"Skola {i + 1}", lat=sc.lat, lon=sc.lon,
                              postal_code=_area(sc.lat, sc.lon) + " 00"))
    for i, u in enumerate(inst.units):
        db.session.add(HousingUnit(name=f"Enhet {i + 1}", lat=u.lat, lon=u.lon, beds=u.beds, step_free=u.step_free,
                                   postal_code=_area(u.lat, u.lon) + " 00"))
    now = dt.datetime.now(dt.UTC)
    users = [{"id": uuid.uuid4(), "email": f"host{i}@bench.example", "password_hash": "!", "role": "host",
              "name": "Host", "active": True, "session_token": uuid.uuid4().hex} for i in range(n_hosts)]
    db.session.execute(User.__table__.insert(), users)
    rows = []
    for i, h in enumerate(inst.hosts[:n_hosts]):
        rows.append({"id": uuid.uuid4(), "user_id": users[i]["id"], "contact_name": "Host", "email": users[i]["email"],
                     "phone": "", "street": "Gatan 1", "postal_code": f"{_area(h.lat, h.lon)} {i % 90 + 10}",
                     "town": "Bench", "lat": h.lat, "lon": h.lon, "geocode_status": "ok", "adults_living": 2,
                     "children_living": 0, "beds": h.beds, "rooms": max(1, h.beds // 2), "beds_used": 0,
                     "families_placed": 0, "max_families": h.max_families or 1,
                     "accepts_children": h.accepts_children, "step_free": h.step_free, "has_pets": h.has_pets,
                     "smoking": h.smoking, "languages": list(h.languages), "available_from": h.available_from,
                     "available_until": h.available_until, "open_to_long_term_rental": False,
                     "vetting_status": "approved", "state": "active",
                     "last_reconfirmed_at": now - dt.timedelta(days=i % 300), "created_at": now, "updated_at": now})
    db.session.execute(HostHousehold.__table__.insert(), rows)
    db.session.commit()
    return {"hosts": len(rows), "schools": len(inst.schools), "units": len(inst.units),
            "unit_beds": sum(u.beds for u in inst.units)}


def main(argv: list[str] | None = None) -> int:
    """Seed, run one drill, print the figures; 0 when the drill finished within the target time."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=30.0, help="the solver's time limit (seconds)")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite file and print its path")
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ebo-bench-drill-"))
    app = _app(tmp / "bench.sqlite3", tmp / "instance")
    from ebo.extensions import db
    from ebo.models import Drill, MatchingRun, User
    from ebo.services import drills, preparedness

    with app.app_context():
        db.create_all()
        t0 = time.perf_counter()
        seeded = seed()
        coordinator = User(email="coordinator@bench.example", password_hash="!", role="coordinator", name="C")
        db.session.add(coordinator)
        db.session.commit()
        print(f"seeded {seeded['hosts']} approved hosts, {seeded['schools']} schools, {seeded['units']} units "
              f"({seeded['unit_beds']} unit beds) in {time.perf_counter() - t0:.1f} s")
        d = preparedness.dashboard()
        print(f"target {d.target_persons} persons; free host beds {d.total.free_host_beds}, unit beds "
              f"{d.total.free_unit_beds}; coverage {d.coverage} %")
        t1 = time.perf_counter()
        run = drills.start_drill(coordinator, time_limit_s=a.time_limit)
        db.session.commit()  # the drill runs once the transaction commits
        elapsed = time.perf_counter() - t1
        db.session.expire_all()
        run = db.session.get(MatchingRun, run.id)
        if run.state != "done":
            print(f"drill {run.state}: {run.error}")
            return 1
        s = db.session.query(Drill).filter_by(run_id=run.id).one().summary
        print(f"drill end to end: {elapsed:.1f} s (target < {TARGET_S:.0f} s); solver {s['solver']['status']} "
              f"in {s['solver']['wall_s']} s, gap {s['solver']['gap']:.4%}")
        print(f"{s['families']} families, {s['persons']} persons ({s['children']} children, "
              f"{s['children_with_school']} at a school here) against {s['hosts']} hosts with {s['host_beds']} beds")
        print(f"housed in homes {s['homes']}, in units {s['in_units']}, not housed {s['unplaced']}")
        print("by family size:  size  families  homes  units  not housed")
        for r in s["by_size"]:
            print(f"                 {r['size']:>4}  {r['families']:>8}  {r['homes']:>5}  {r['units']:>5}  "
                  f"{r['unplaced']:>10}")
        print(f"postal areas with hosts: {len(s['by_area'])}")
        with app.test_request_context():
            for line in drills.gap_sentences(s):
                print("  -", line)
    if a.keep:
        print(f"database kept at {tmp / 'bench.sqlite3'}")
    return 0 if elapsed < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
