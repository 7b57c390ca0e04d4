"""Surge scale: every staff page under gunicorn on PostgreSQL, one client and 16 at once (issue 13).

Builds the data set of benchmarks/bench_lists.py (20,000 families, 50,000 hosts with accounts, 100,000
audit rows) in a PostgreSQL database (its tables are dropped!), adds a finished matching run (8,000
proposals and at least 3,600 unplaced families, 3,999 at the default sizes, stored the way the worker
stores a run: reasons worked out once), 2,000 placements and hosts waiting for vetting, then starts
gunicorn as the README's production section says (4 workers, loopback) and prints, per page: the
one-client median, p50/p95 and errors of 16 concurrent clients, the p95 of an anonymous GET /login while
16 clients load the run review, and the workers' resident memory before, at the peak and after.

Usage: .venv/bin/python benchmarks/bench_pages.py \
           --database-url postgresql+psycopg://postgres@127.0.0.1:5432/ebo_bench [--redis-url redis://127.0.0.1:6379/10]
           [--families 20000] [--hosts 50000] [--requests 15] [--per-client 5] [--port 8731] [--reuse]
Targets: one-client median < 150 ms; 16 clients p95 < 1 s with no errors; /login p95 < 300 ms under
load; every worker < 300 MB. Bounded loops, loopback only.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import http.client
import os
import random
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyotp
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_lists  # noqa: E402

from ebo import create_app  # noqa: E402
from ebo.extensions import db  # noqa: E402

PASSWORD = bench_lists.PASSWORD
STAFF = ("bench-coord@example.org", "bench-cw@example.org", "bench-admin@example.org")
# Production asks staff for a second factor: the bench's staff are enrolled with this TOTP secret.
TOTP_SECRET = "EBOBENCHEBOBENCHEBOBENCHEBOBENCH"
UNPLACED = 3_600
PROPOSALS = 8_000


# --------------------------------------------------------------------------- the data set


def build(url: str, n_families: int, n_hosts: int, seed: int, skip_seed: bool = False) -> dict:
    """Drop and create the tables, seed bench_lists' data, then a finished run, placements, vetting queue."""
    from ebo import clock
    from ebo.models import Family, HostHousehold, MatchingRun, MunicipalitySettings, Placement, User
    from ebo.services import accounts, runs
    from ebo.services.match_instance import build_instance
    from matching import schema as ms

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    rng = random.Random(seed)
    with app.app_context():
        if skip_seed:  # bench_lists' rows are there already (a build that stopped after seeding)
            run_ids = sa.select(MatchingRun.id)
            for table in ("run_unplaced", "proposals", "placements"):
                db.session.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
            db.session.execute(sa.delete(MatchingRun).where(MatchingRun.id.in_(run_ids)))
            db.session.execute(sa.delete(User).where(User.email == "bench-coord@example.org"))
            db.session.commit()
        else:
            db.drop_all()
            db.create_all()
        t0 = time.perf_counter()
        if not skip_seed:
            bench_lists.seed(n_families, n_hosts, rng)
        print(f"seeded {n_families} families, {n_hosts} hosts, 100,000 audit rows in {time.perf_counter() - t0:.0f} s",
              flush=True)
        accounts.create_user("bench-coord@example.org", PASSWORD, "coordinator", "Bench Coordinator",
                             check_policy=False)
        # Postal areas, and 2,000 hosts waiting for vetting.
        db.session.execute(sa.text("UPDATE host_households SET postal_code = lpad((100 + abs(hashtext(id::text)) % 80)"
                                   "::text, 3, '0') || ' ' || lpad((abs(hashtext(email)) % 100)::text, 2, '0')"))
        db.session.execute(sa.text("UPDATE host_households SET vetting_status = CASE WHEN random() < 0.5 "
                                   "THEN 'registered' ELSE 'visited' END WHERE id IN "
                                   "(SELECT id FROM host_households ORDER BY id LIMIT 2000)"))
        host0 = db.session.scalars(sa.select(HostHousehold).where(HostHousehold.email == "host0@example.org")).one()
        host0.vetting_status, host0.beds = "approved", 4
        db.session.execute(sa.update(User).where(User.email == "host0@example.org")
                           .values(password_hash=accounts.hash_password(PASSWORD)))
        # 2,000 active placements of families that are placed.
        placed = db.session.scalars(sa.select(Family.id).where(Family.status == "placed").limit(2000)).all()
        host_ids = db.session.scalars(sa.select(HostHousehold.id).where(HostHousehold.vetting_status == "approved")
                                      .limit(len(placed))).all()
        db.session.execute(sa.insert(Placement), [
            {"id": uuid.uuid4(), "family_id": f, "host_id": h, "persons": 1,
             "start_date": date(2026, 6, 1) + timedelta(days=rng.randrange(150)), "created_at": datetime.now(UTC)}
            for f, h in zip(placed, host_ids, strict=False)])
        db.session.commit()

        # A finished run, stored as the worker stores one (store_solution: proposals, figures, reasons).
        t0 = time.perf_counter()
        settings = MunicipalitySettings.get()
        inst, _pv = build_instance(clock.today(), max_school_km=5.0, reconfirm_months=settings.reconfirm_months)
        fixed = {x.family_id for x in inst.fixed}
        free = [f for f in inst.families if f.id not in fixed]
        by_beds: dict[int, list[str]] = {}
        for h in inst.hosts:
            by_beds.setdefault(h.beds, []).append(h.id)
        placements, unplaced = [], []
        want = max(0, min(PROPOSALS, len(free) - UNPLACED))
        for f in free:
            host = None
            if len(placements) < want:
                for beds in range(f.size, 9):
                    if by_beds.get(beds):
                        host = by_beds[beds].pop()
                        break
            if host is None:
                unplaced.append(ms.Unplaced(family_id=f.id, reasons=("no host has room",)))
            else:
                placements.append(ms.Placement(family_id=f.id, host_id=host,
                                               child_km=tuple(round(rng.uniform(0.5, 9), 2) for _ in f.children)))
        sol = ms.Solution(status="FEASIBLE", objective=1.0, bound=0.9, gap=0.1, wall_s=60.0,
                          placements=tuple(placements), unplaced=tuple(unplaced))
        run = MatchingRun(kind="match", state="running", active_lock="match",
                          params={"max_school_km": 5.0, "families_per_host": 1, "time_limit_s": 60})
        db.session.add(run)
        db.session.flush()
        t1 = time.perf_counter()
        runs.store_solution(run, inst, sol, ms.dumps_instance(inst))
        run.state, run.active_lock, run.progress, run.finished_at = "done", None, 1.0, datetime.now(UTC)
        db.session.commit()
        stored_s = time.perf_counter() - t1
        db.session.add(MatchingRun(kind="match", state="failed", error="bench: a failed run", params={}))
        # Some proposals decided, and three sent to host0 (the host dashboard).
        db.session.execute(sa.text("UPDATE proposals SET state = (ARRAY['approved','sent','rejected','accepted'])"
                                   "[1 + abs(hashtext(id::text)) % 4] WHERE abs(hashtext(id::text)) % 10 < 3"))
        db.session.execute(sa.text("UPDATE proposals SET host_id = :h, state = 'sent' WHERE id IN "
                                   "(SELECT id FROM proposals WHERE host_id IS NOT NULL ORDER BY id LIMIT 3)"),
                           {"h": host0.id})
        db.session.commit()
        n_props = db.session.scalar(sa.text("SELECT count(*) FROM proposals"))
        print(f"run: {n_props} proposals, {len(unplaced)} unplaced; built in {t1 - t0:.0f} s, stored with its "
              f"reasons in {stored_s:.0f} s (worker side, once)", flush=True)
        run_id = run.id
        enrol_staff()
        with db.engine.connect() as conn:
            # VACUUM as well: autovacuum (off on some servers) would have set the visibility map a live database
            # has, without which every index-only scan (the lists' counts) reads the table's rows too.
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
        db.engine.dispose()
    return {"run_id": run_id}


def enrol_staff() -> None:
    """Give the bench's staff a confirmed second factor (TOTP_SECRET), its last used step forgotten, so each
    measurement can log in with a fresh code as production requires."""
    from ebo.models import User
    from ebo.models.accounts import UserMfa
    from ebo.models.types import utcnow

    for email in STAFF:
        user = db.session.scalars(sa.select(User).where(User.email == email)).one()
        rec = db.session.get(UserMfa, user.id) or UserMfa(user_id=user.id, secret=TOTP_SECRET)
        rec.secret, rec.confirmed_at, rec.last_step = TOTP_SECRET, rec.confirmed_at or utcnow(), None
        db.session.add(rec)
    db.session.commit()


def existing(url: str) -> dict:
    """The finished run of a data set built before (--reuse)."""
    from ebo.models import MatchingRun

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        run_id = db.session.scalar(sa.select(MatchingRun.id).where(MatchingRun.state == "done"))
        enrol_staff()
        db.session.remove()
        db.engine.dispose()
    return {"run_id": run_id}


# --------------------------------------------------------------------------- HTTP (cookies kept by hand: the
# production session cookie is Secure, and this client talks plain HTTP on the loopback)


class Session:
    """A browser session against the server: one cookie jar, a new connection per request."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, bytes]:
        """One request; returns status and body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            for raw in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = raw.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return resp.status, data
        finally:
            conn.close()

    def csrf(self, path: str) -> str:
        """The CSRF token of the form on `path`."""
        _status, body = self.request("GET", path)
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
            rb'name="csrf_token" value="([^"]+)"', body)
        return token.group(1).decode() if token else ""

    def login(self, email: str) -> None:
        """Log in through the form (with its CSRF token), and for staff with a code of the second factor."""
        status, body = self.request("POST", "/login", {"email": email, "password": PASSWORD,
                                                       "csrf_token": self.csrf("/login")})
        if status == 302 and email in STAFF:
            code = pyotp.TOTP(TOTP_SECRET).now()
            status, body = self.request("POST", "/login/code", {"code": code, "csrf_token": self.csrf("/login/code")})
        if status != 302:
            raise SystemExit(f"login as {email} failed: {status} {body[:300]!r}")
        status, body = self.request("GET", "/home")
        if status != 200:
            raise SystemExit(f"{email} cannot reach /home after logging in: {status} {body[:300]!r}")


def timed(session: Session, path: str) -> tuple[float, bool]:
    """(milliseconds, ok) of one GET."""
    t0 = time.perf_counter()
    try:
        status, _ = session.request("GET", path)
        ok = status == 200
    except (OSError, http.client.HTTPException):
        ok = False
    return (time.perf_counter() - t0) * 1000, ok


def burst(session: Session, path: str, n: int) -> list[tuple[float, bool]]:
    """n GETs one after another (one of the concurrent clients)."""
    return [timed(session, path) for _ in range(n)]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


# --------------------------------------------------------------------------- gunicorn and its workers


def readme_gunicorn(port: int) -> list[str]:
    """The gunicorn command of the README's production section, bound to 127.0.0.1:port instead."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Production"):]
    line = next(x for x in section.splitlines() if x.startswith("gunicorn "))
    args = shlex.split(line.split("  #", 1)[0])
    i = args.index("--bind")
    args[i + 1] = f"127.0.0.1:{port}"
    args[0] = str(Path(sys.executable).with_name("gunicorn"))
    return args


def start_gunicorn(url: str, redis_url: str | None, port: int) -> subprocess.Popen:
    """gunicorn exactly as the README's production section starts it (loopback port), production settings."""
    env = {**os.environ, "EBO_ENV_NAME": "production", "EBO_SECRET_KEY": secrets.token_urlsafe(48),
           "EBO_DATABASE_URL": url}
    if redis_url:
        env["EBO_REDIS_URL"] = redis_url
    cmd = readme_gunicorn(port)
    print("server: " + " ".join(shlex.quote(a) for a in [Path(cmd[0]).name, *cmd[1:]]), flush=True)
    proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(240):
        try:
            if Session(port).request("GET", "/healthz")[0] in (200, 503):
                return proc
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            raise SystemExit("gunicorn stopped: " + proc.stderr.read().decode()[-2000:])
    raise SystemExit("gunicorn did not answer in 120 s")


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory (MB) of each worker process of the gunicorn master."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) != master:
                continue
            for line in (d / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        except (OSError, ValueError, IndexError):
            continue
    return sorted(out)


# --------------------------------------------------------------------------- the measurements


def pages(run_id) -> list[tuple[str, str, str]]:
    """(name, role, path) of every staff page measured."""
    r = f"/runs/{run_id}"
    out = [("run review", "coordinator", r), ("run review: page 40", "coordinator", f"{r}?page=40"),
           ("run review: unplaced page 30", "coordinator", f"{r}?upage=30")]
    out += [(f"run review: {s}", "coordinator", f"{r}?state={s}")
            for s in ("proposed", "approved", "sent", "accepted", "rejected")]
    out += [("run review: approved, page 5", "coordinator", f"{r}?state=approved&page=5"),
            ("runs index", "coordinator", "/runs/"), ("run detail (failed run)", "coordinator", "FAILED"),
            ("preparedness dashboard", "coordinator", "/preparedness/"),
            ("preparedness report", "coordinator", "/preparedness/report"),
            ("placements list", "coordinator", "/placements/"),
            ("placements overview", "coordinator", "/placements/overview"),
            ("families list", "caseworker", "/families/"),
            ("families search", "caseworker", "SEARCH"),
            ("vetting queue", "coordinator", "/vetting/"),
            ("hosts list", "coordinator", "/vetting/hosts"),
            ("hosts list: approved, page 50", "coordinator", "/vetting/hosts?vetting=approved&page=50"),
            ("hosts search", "coordinator", "HOSTSEARCH"),
            ("hosts' accounts (users)", "admin", "/admin/users"),
            ("audit log", "admin", "/admin/audit"),
            ("host dashboard", "host", "/host/"),
            ("coordinator home", "coordinator", "/home"), ("caseworker home", "caseworker", "/home"),
            ("admin home", "admin", "/home")]
    return out


def main(argv=None) -> int:
    """Build, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--hosts", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=15, help="one-client requests per page")
    parser.add_argument("--per-client", type=int, default=5, help="requests per client of the 16")
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep the data set built by a previous run")
    parser.add_argument("--skip-seed", action="store_true", help="keep bench_lists' rows, build the rest again")
    parser.add_argument("--only", action="append", default=None,
                        help="measure only the pages whose label contains this text (may be repeated)")
    args = parser.parse_args(argv)
    url = args.database_url
    ids = existing(url) if args.reuse else build(url, args.families, args.hosts, args.seed, args.skip_seed)
    proc = start_gunicorn(url, args.redis_url, args.port)
    try:
        return measure(args, proc, ids)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def measure(args, proc, ids) -> int:
    """Every page: one client, then 16; then /login under load; memory throughout."""
    port = args.port
    sessions = {}
    for role, email in (("coordinator", "bench-coord@example.org"), ("caseworker", "bench-cw@example.org"),
                        ("admin", "bench-admin@example.org"), ("host", "host0@example.org")):
        sessions[role] = Session(port)
        sessions[role].login(email)
    failed = re.search(rb'href="/runs/([0-9a-f-]{36})"',
                       sessions["coordinator"].request("GET", "/runs/")[1].replace(str(ids["run_id"]).encode(), b""))
    rss_before = worker_rss_mb(proc.pid)
    peak = list(rss_before)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for i, v in enumerate(worker_rss_mb(proc.pid)):
                if i < len(peak):
                    peak[i] = max(peak[i], v)
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rows, worst = [], {"median": 0.0, "p95": 0.0, "errors": 0}
    for name, role, path in pages(ids["run_id"]):
        if args.only and not any(o in name for o in args.only):
            continue
        if path == "FAILED":
            path = f"/runs/{failed.group(1).decode()}" if failed else "/runs/"
        if path == "SEARCH":  # the search box posts the words to the session; the list then reads them
            _status, body = sessions[role].request("GET", "/families/")
            token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body)
            sessions[role].request("POST", "/families/", {"q": "Kovalenko 1",
                                                          "csrf_token": token.group(1).decode() if token else ""})
            path = "/families/"
        if path == "HOSTSEARCH":  # the same for the hosts list
            sessions[role].request("POST", "/vetting/hosts", {"q": "host1", "csrf_token": sessions[role].csrf(
                "/vetting/hosts")})
            path = "/vetting/hosts"
        s = sessions[role]
        status, body = s.request("GET", path)  # warm, and make sure the page answers: a fast error proves nothing
        if status != 200:
            raise SystemExit(f"{name} ({path}) answered {status}: {body[:300]!r}")
        one = [timed(s, path) for _ in range(args.requests)]
        one_ms = [t for t, _ in one]
        errors = sum(1 for _, ok in one if not ok)
        with cf.ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(burst, s, path, args.per_client) for _ in range(16)]
            many = [f.result() for f in futures]
        many_ms = [t for batch in many for t, _ in batch]
        errors16 = sum(1 for batch in many for _, ok in batch if not ok)
        row = (name, statistics.median(one_ms), pct(many_ms, 50), pct(many_ms, 95), errors + errors16,
               len(many_ms) / (sum(many_ms) / 1000 / 16) if many_ms else 0)
        rows.append(row)
        worst["median"] = max(worst["median"], row[1])
        worst["p95"] = max(worst["p95"], row[3])
        worst["errors"] += row[4]
        print(f"  {name}: {row[1]:.0f} ms", flush=True)

    # Anonymous /login while 16 coordinators load the run review.
    review = f"/runs/{ids['run_id']}"
    done = threading.Event()

    def load():
        n = 0
        while not done.is_set() and n < 200:
            timed(sessions["coordinator"], review)
            n += 1

    anon = Session(port)
    with cf.ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(load) for _ in range(16)]
        time.sleep(2)
        login_ms = []
        for _ in range(40):
            t, ok = timed(anon, "/login")
            login_ms.append(t if ok else 60_000)
            time.sleep(0.1)
        done.set()
        for f in futures:
            f.result()
    time.sleep(5)
    stop.set()
    sampler.join()
    rss_after = worker_rss_mb(proc.pid)

    load1, load5, _ = os.getloadavg()
    width = max(len(r[0]) for r in rows)
    print(f"\ndata: {args.families} families, {args.hosts} hosts; {' '.join(readme_gunicorn(port)[1:-1])} "
          "(the README's production command, production settings), "
          f"PostgreSQL; load average {load1:.1f} / {load5:.1f} (2 cores, shared)")
    print(f"\n| {'page':<{width}} | 1 client median ms | 16 clients p50 ms | 16 clients p95 ms | errors | req/s |")
    print(f"|{'-' * (width + 2)}|---:|---:|---:|---:|---:|")
    for name, med, p50, p95, errs, rps in rows:
        print(f"| {name:<{width}} | {med:.0f} | {p50:.0f} | {p95:.0f} | {errs} | {rps:.1f} |")
    lp95 = pct(login_ms, 95)
    print(f"\nanonymous GET /login while 16 clients load the run review: p50 {pct(login_ms, 50):.0f} ms, "
          f"p95 {lp95:.0f} ms ({len(login_ms)} requests)")
    print("worker RSS MB: before " + ", ".join(f"{v:.0f}" for v in rss_before)
          + "; peak " + ", ".join(f"{v:.0f}" for v in peak) + "; after " + ", ".join(f"{v:.0f}" for v in rss_after))
    ok = (worst["median"] < 150 and worst["p95"] < 1000 and not worst["errors"] and lp95 < 300
          and max(peak or [0]) < 300)
    print(f"\nslowest one-client median {worst['median']:.0f} ms (target < 150), worst 16-client p95 "
          f"{worst['p95']:.0f} ms (< 1000), errors {worst['errors']} (0), /login p95 {lp95:.0f} ms (< 300), "
          f"worker peak {max(peak or [0]):.0f} MB (< 300): {'all targets met' if ok else 'NOT all targets met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
