"""Benchmark: a mid-scale run through the web app, end to end, on SQLite.

Seeds a municipality of 100,000 (matching.generate's `mid` instance: 1,700 families with members and
schools, 4,000 approved hosts, a few units) into a SQLite file, then through the test client, as a
coordinator: times POST /runs/start (target < 1 s) and the time until the run is done and its review
page renders (target < 30 s), with RUNS_MODE "thread" and the solver in a child process.

Usage: .venv/bin/python benchmarks/bench_run_web.py [--time-limit 20] [--seed 0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PASSWORD = "correct horse battery"


def seed(db, inst, today: dt.date) -> dict[str, int]:
    """Insert the generated instance's schools, hosts (with users), units and families (with members)."""
    from ebo.models import Family, FamilyMember, HostHousehold, HousingUnit, School, User

    now = dt.datetime.now(dt.UTC)
    school_ids = {s.id: uuid.uuid4() for s in inst.schools}
    db.session.execute(
        School.__table__.insert(),
        [
            {
                "id": school_ids[s.id],
                "code": f"{90000000 + i:08d}",
                "name": f"Skola {i + 1}",
                "lat": s.lat,
                "lon": s.lon,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i, s in enumerate(inst.schools)
        ],
    )
    users, hosts = [], []
    for i, h in enumerate(inst.hosts):
        uid = uuid.uuid4()
        users.append(
            {
                "id": uid,
                "email": f"bench-host-{i}@example.org",
                "password_hash": "!",
                "role": "host",
                "name": f"Värd {i}",
                "active": True,
                "created_at": now,
            }
        )
        hosts.append(
            {
                "id": uuid.uuid4(),
                "user_id": uid,
                "contact_name": f"Värd{i} Bench",
                "email": f"bench-host-{i}@example.org",
                "phone": "0701234567",
                "street": f"Gatan {i}",
                "postal_code": f"{110 + i % 800:03d} {i % 100:02d}",
                "town": "Benchby",
                "lat": h.lat,
                "lon": h.lon,
                "geocode_status": "ok",
                "adults_living": 1,
                "children_living": 0,
                "beds": h.beds,
                "rooms": 1,
                "beds_used": 0,
                "families_placed": 0,
                "max_families": h.max_families or 1,
                "accepts_children": h.accepts_children,
                "step_free": h.step_free,
                "has_pets": h.has_pets,
                "smoking": h.smoking,
                "languages": list(h.languages),
                "available_from": h.available_from,
                "available_until": h.available_until,
                "open_to_long_term_rental": False,
                "vetting_status": "approved",
                "state": "active",
                "last_reconfirmed_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(User.__table__.insert(), users)
    db.session.execute(HostHousehold.__table__.insert(), hosts)
    db.session.execute(
        HousingUnit.__table__.insert(),
        [
            {
                "id": uuid.uuid4(),
                "name": f"Enhet {u.id}",
                "lat": u.lat,
                "lon": u.lon,
                "beds": u.beds,
                "beds_used": 0,
                "step_free": u.step_free,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for u in inst.units
        ],
    )
    fams, members = [], []
    for f in inst.families:
        fid = uuid.uuid4()
        fams.append(
            {
                "id": fid,
                "contact_name": "Bench Familj",
                "languages": list(f.languages),
                "route": "anvisning",
                "needed_from": max(f.arrival, today),
                "needs_step_free": f.needs_step_free,
                "pet_allergy": f.pet_allergy,
                "needs_non_smoking": f.needs_non_smoking,
                "status": "waiting",
                "created_at": now,
                "updated_at": now,
            }
        )
        adults = max(f.size - len(f.children), 1 if not f.children else 0)
        for a in range(adults):
            members.append(
                {
                    "id": uuid.uuid4(),
                    "family_id": fid,
                    "kind": "adult",
                    "birth_year": 1985,
                    "position": a,
                    "school_id": None,
                }
            )
        for c, child in enumerate(f.children):
            members.append(
                {
                    "id": uuid.uuid4(),
                    "family_id": fid,
                    "kind": "child",
                    "birth_year": 2016,
                    "school_id": school_ids[child.school_id] if child.school_id else None,
                    "position": 10 + c,
                }
            )
    db.session.execute(Family.__table__.insert(), fams)
    db.session.execute(FamilyMember.__table__.insert(), members)
    db.session.commit()
    return {
        "schools": len(inst.schools),
        "hosts": len(hosts),
        "units": len(inst.units),
        "families": len(fams),
        "persons": len(members),
    }


def main(argv=None) -> int:
    """Seed, start a run through the web app, wait for the review; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=int, default=20, help="the run's solver time limit in seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="directory for the SQLite file (default: a temporary one)")
    args = ap.parse_args(argv)

    from ebo import create_app
    from ebo.clock import today as run_day
    from ebo.extensions import db
    from ebo.services import accounts
    from matching.generate import generate

    workdir = Path(args.keep or tempfile.mkdtemp(prefix="ebo-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bench.sqlite3"
    path.unlink(missing_ok=True)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "INSTANCE_PATH": str(workdir / "instance"),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
            "ARGON2_PARALLELISM": 1,
            "RUNS_MODE": "thread",
            "MATCH_IN_PROCESS": False,
            "REDIS_URL": None,
        }
    )
    today = run_day()
    t0 = time.perf_counter()
    with app.app_context():
        db.create_all()
        counts = seed(db, generate("mid", seed=args.seed, date=today), today)
        accounts.create_user("bench-coordinator@example.org", PASSWORD, "coordinator", "Bench", check_policy=False)
        db.session.commit()
    seeded = time.perf_counter() - t0
    print(f"seeded {counts} into {path} in {seeded:.1f} s")

    client = app.test_client()
    resp = client.post("/login", data={"email": "bench-coordinator@example.org", "password": PASSWORD})
    assert resp.status_code == 302, resp.status_code
    client.post("/language", data={"lang": "en"})

    t = time.perf_counter()
    resp = client.get("/runs/")
    index_s = time.perf_counter() - t
    assert resp.status_code == 200, resp.status_code

    t_start = time.perf_counter()
    resp = client.post(
        "/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": args.time_limit}
    )
    start_s = time.perf_counter() - t_start
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    run_url = resp.headers["Location"]

    polls, render_s, last_progress = 0, 0.0, None
    while True:
        t = time.perf_counter()
        resp = client.get(run_url)
        took = time.perf_counter() - t
        polls += 1
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, resp.status_code
        if "review-table" in html:
            render_s = took
            break
        if "The run failed" in html:
            print("the run failed:", html[html.find("Reason:") :][:300])
            return 1
        last_progress = took
        if time.perf_counter() - t_start > 600:
            print("gave up after 600 s")
            return 1
        time.sleep(0.5)
    end_to_end = time.perf_counter() - t_start

    with app.app_context():
        from ebo.models import MatchingRun, Proposal

        run = db.session.scalars(db.select(MatchingRun)).first()
        proposals = db.session.scalar(db.select(db.func.count()).select_from(Proposal))
        figures = dict(run.counts or {})
        solver = (run.status, run.gap, run.wall_s)
    t = time.perf_counter()
    client.post(run_url.rstrip("/") + "/approve", data={"scope": "all"})
    approve_all_s = time.perf_counter() - t

    print(f"GET /runs/ (form and preview):     {index_s:6.2f} s")
    print(f"POST /runs/start:                 {start_s:6.3f} s   (target < 1 s)   {'OK' if start_s < 1 else 'SLOW'}")
    print(f"progress page while running:      {(last_progress or 0):6.3f} s per request ({polls} polls)")
    print(f"review page render (first page):  {render_s:6.2f} s")
    print(
        f"start -> done and reviewable:     {end_to_end:6.2f} s   (target < 30 s)  "
        f"{'OK' if end_to_end < 30 else 'SLOW'}"
    )
    print(f"approve all open proposals:       {approve_all_s:6.2f} s")
    print(f"solver: status {solver[0]}, gap {solver[1]}, wall {solver[2]} s; proposals {proposals}")
    print(
        f"persons with hosts {figures.get('persons_with_hosts')}, in units {figures.get('persons_in_units')}, "
        f"unplaced {figures.get('persons_unplaced')}; school km {figures.get('school_km')}"
    )
    if not args.keep:
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if start_s < 1 and end_to_end < 30 else 2


if __name__ == "__main__":
    sys.exit(main())
