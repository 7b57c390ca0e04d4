"""Seed 20,000 families and 50,000 hosts, then time the registry list pages through the test client.

Usage: .venv/bin/python benchmarks/bench_lists.py [--families 20000] [--hosts 50000] [--requests 15]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/ebo_bench]   (the tables are dropped!)
Prints the median and max milliseconds per page; the target is < 300 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ebo import create_app  # noqa: E402
from ebo.extensions import db  # noqa: E402

PASSWORD = "bench password 123"
FIRST = ["Amal", "Omar", "Olena", "Ivan", "Sara", "Ali", "Reza", "Fatima", "Yusuf", "Mariam", "Hassan", "Leyla"]
LAST = ["Hassan", "Kovalenko", "Ahmadi", "Mohammed", "Shevchenko", "Karimi", "Abdi", "Haile", "Nazari", "Bondar"]


def chunks(rows, n=5000):
    """Split a list for executemany batches."""
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


def seed(n_families: int, n_hosts: int, rng: random.Random) -> dict:
    """Bulk-insert schools, families with members, hosts with users, units and audit events (Core executemany)."""
    from ebo.models import AuditEvent, Family, FamilyMember, HostHousehold, HousingUnit, School, User
    from ebo.services import accounts

    now = datetime.now(UTC).replace(tzinfo=None)
    schools = [{"id": uuid.uuid4(), "code": f"{10000000 + i}", "name": f"Skola {i}", "lat": 59 + rng.random(),
                "lon": 18 + rng.random(), "active": True, "created_at": now, "updated_at": now} for i in range(300)]
    db.session.execute(sa.insert(School), schools)
    families, members = [], []
    routes = ["anvisning", "asylum_ebo", "resident", "other"]
    statuses = ["waiting"] * 6 + ["proposed", "placed", "placed", "moved_on"]
    for i in range(n_families):
        fid = uuid.uuid4()
        families.append({
            "id": fid, "dossier_number": f"{1000000 + i}" if rng.random() < 0.7 else None,
            "contact_name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}", "languages": ["ar"],
            "route": rng.choice(routes), "needed_from": date(2026, 1, 1) + timedelta(days=rng.randrange(365)),
            "status": rng.choice(statuses), "needs_step_free": rng.random() < 0.05, "pet_allergy": False,
            "needs_non_smoking": False, "created_at": now, "updated_at": now})
        for pos in range(rng.randint(1, 2)):
            members.append({"id": uuid.uuid4(), "family_id": fid, "kind": "adult", "first_name": rng.choice(FIRST),
                            "birth_year": rng.randint(1960, 2000), "position": pos})
        for pos in range(rng.choice([0, 0, 1, 2, 3])):
            members.append({"id": uuid.uuid4(), "family_id": fid, "kind": "child", "first_name": rng.choice(FIRST),
                            "birth_year": rng.randint(2008, 2024), "position": 2 + pos,
                            "school_id": rng.choice(schools)["id"] if rng.random() < 0.7 else None})
    for batch in chunks(families):
        db.session.execute(sa.insert(Family), batch)
    for batch in chunks(members):
        db.session.execute(sa.insert(FamilyMember), batch)
    users, hosts = [], []
    for i in range(n_hosts):
        uid = uuid.uuid4()
        users.append({"id": uid, "email": f"host{i}@example.org", "password_hash": "x", "role": "host",
                      "name": f"Host {i}", "active": True, "session_token": uuid.uuid4().hex, "created_at": now})
        hosts.append({"id": uuid.uuid4(), "user_id": uid, "contact_name": f"Host {i}", "email": f"host{i}@example.org",
                      "phone": "", "street": f"Gatan {i}", "postal_code": "123 45", "town": "Storstad",
                      "lat": 59 + rng.random(), "lon": 18 + rng.random(), "geocode_status": "ok", "adults_living": 1,
                      "children_living": 0, "beds": rng.randint(1, 4), "rooms": 1, "beds_used": 0,
                      "families_placed": 0, "max_families": 1, "accepts_children": True, "step_free": False,
                      "has_pets": False, "smoking": False, "languages": ["sv"], "open_to_long_term_rental": False,
                      "vetting_status": "approved", "state": "active", "last_reconfirmed_at": now,
                      "created_at": now, "updated_at": now})
    for batch in chunks(users):
        db.session.execute(sa.insert(User), batch)
    for batch in chunks(hosts):
        db.session.execute(sa.insert(HostHousehold), batch)
    db.session.execute(sa.insert(HousingUnit), [
        {"id": uuid.uuid4(), "name": f"Enhet {i}", "beds": 20, "beds_used": rng.randint(0, 20), "step_free": False,
         "active": True, "created_at": now, "updated_at": now} for i in range(120)])
    caseworker = accounts.create_user("bench-cw@example.org", PASSWORD, "caseworker", "Bench CW", check_policy=False)
    accounts.create_user("bench-admin@example.org", PASSWORD, "admin", "Bench Admin", check_policy=False)
    db.session.flush()
    ids = [f["id"] for f in families]
    events = [{"at": now - timedelta(seconds=i), "actor_id": caseworker.id, "actor_role": "caseworker",
               "action": "view_family", "object_type": "family", "object_id": str(rng.choice(ids)), "details": {}}
              for i in range(100_000)]
    for batch in chunks(events):
        db.session.execute(sa.insert(AuditEvent), batch)
    db.session.commit()
    return {"family_id": ids[len(ids) // 2], "user_id": caseworker.id}


def timed(client, method: str, url: str, n: int, data=None) -> list[float]:
    """Request `url` n times (after one warm-up); return the times in ms."""
    out = []
    for i in range(n + 1):
        t0 = time.perf_counter()
        resp = client.open(url, method=method, data=data)
        ms = (time.perf_counter() - t0) * 1000
        assert resp.status_code in (200, 302), (url, resp.status_code)
        if i:
            out.append(ms)
    return out


def login(client, email):
    """Log in through the form."""
    resp = client.post("/login", data={"email": email, "password": PASSWORD})
    assert resp.status_code == 302, resp.status_code


def main(argv=None) -> int:
    """Seed, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--hosts", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file in a temporary directory")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ebo-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": str(tmp), "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1})
    with app.app_context():
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        ids = seed(args.families, args.hosts, random.Random(args.seed))
        print(f"database: {url.split('@')[-1]}")
        print(f"seeded {args.families} families, {args.hosts} hosts with users, 100,000 audit events "
              f"in {time.perf_counter() - t0:.1f} s")
    client = app.test_client()
    n = args.requests
    late = max(1, args.families // 50 - 1)
    results = []
    login(client, "bench-cw@example.org")
    pages = [
        ("families: first page", "GET", "/families/", None),
        ("families: filtered (waiting, with children)", "GET", "/families/?status=waiting&children=yes", None),
        ("families: needed before + route", "GET", "/families/?needed_before=2026-03-01&route=anvisning", None),
        (f"families: late page ({late})", "GET", f"/families/?page={late}", None),
    ]
    for name, method, url_, data in pages:
        results.append((name, timed(client, method, url_, n, data)))
    client.post("/families/", data={"q": "Kovalenko 1"})
    results.append(("families: search by name", timed(client, "GET", "/families/", n)))
    client.post("/families/", data={"q": "1010000"})
    results.append(("families: search by dossier number", timed(client, "GET", "/families/", n)))
    client.post("/families/", data={"clear": "1"})
    results.append(("family detail (+ audit row)", timed(client, "GET", f"/families/{ids['family_id']}", n)))
    results.append(("schools: first page", timed(client, "GET", "/schools/", n)))
    results.append(("schools: search", timed(client, "GET", "/schools/?q=Skola%2012", n)))
    results.append(("units: first page", timed(client, "GET", "/units/", n)))
    client.post("/logout")
    login(client, "bench-admin@example.org")
    results.append(("audit: first page", timed(client, "GET", "/admin/audit", n)))
    results.append(("audit: by family", timed(client, "GET", f"/admin/audit?family={ids['family_id']}", n)))
    results.append(("audit: by user", timed(client, "GET", f"/admin/audit?user={ids['user_id']}", n)))
    results.append(("audit: by user, late page", timed(client, "GET", f"/admin/audit?user={ids['user_id']}&page=1500",
                                                       n)))
    width = max(len(r[0]) for r in results)
    print(f"\n{'page':<{width}}  median ms  max ms   ({n} requests each)")
    worst = 0.0
    for name, times in results:
        med, mx = statistics.median(times), max(times)
        worst = max(worst, med)
        print(f"{name:<{width}}  {med:9.1f}  {mx:6.1f}{'  OVER 300' if med > 300 else ''}")
    print(f"\nslowest median: {worst:.1f} ms (target < 300 ms)")
    return 0 if worst < 300 else 1


if __name__ == "__main__":
    raise SystemExit(main())
