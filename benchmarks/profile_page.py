"""Profile the CPU of staff pages in one process: the app in production settings, a logged-in test client.

    .venv/bin/python benchmarks/profile_page.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/ebo_scale_bench \
        --redis-url redis://127.0.0.1:6379/15 -n 30 [--page review ...] [--profile cprofile|pyinstrument]

It uses a data set that `bench_pages.py` built before (it never builds or drops one; it only gives the
bench's staff their second factor again, as `bench_pages.py --reuse` does). The app is created with
production settings (EBO_ENV_NAME=production: CSRF on, second factor asked, secure cookies, so the client
talks to https://localhost), the coordinator logs in through the real forms with a code of the second
factor, and each page is requested once to warm it, then N times; it prints the mean and median wall and
CPU milliseconds per request, and the mean CPU milliseconds of the template rendering alone. With
--profile it then requests each page N times more under cProfile (the functions with the most cumulative
and own time) or pyinstrument (not a dependency: `pip install pyinstrument` into the venv).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

import pyotp
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_pages  # noqa: E402

from ebo import create_app  # noqa: E402
from ebo.extensions import db  # noqa: E402

COORDINATOR = bench_pages.STAFF[0]

# name -> path ("{r}" is the finished run's review page); HOSTSEARCH posts a search first, as the bench does.
PAGES = {
    "review": "{r}",
    "review-page40": "{r}?page=40",
    "review-unplaced30": "{r}?upage=30",
    "review-proposed": "{r}?state=proposed",
    "review-approved": "{r}?state=approved",
    "review-sent": "{r}?state=sent",
    "review-accepted": "{r}?state=accepted",
    "review-rejected": "{r}?state=rejected",
    "placements": "/placements/",
    "hosts-search": "HOSTSEARCH",
    "hosts": "/vetting/hosts",
    "hosts-approved50": "/vetting/hosts?vetting=approved&page=50",
    "report": "/preparedness/report",
    "dashboard": "/preparedness/",
    "families": "/families/",
    "audit": "/admin/audit",
    "home-coordinator": "/home",
    "home-caseworker": "/home",
    "home-admin": "/home",
}
# Pages another role than the coordinator reads (as bench_pages.py measures them).
ROLE_OF = {"families": bench_pages.STAFF[1], "audit": bench_pages.STAFF[2],
           "home-caseworker": bench_pages.STAFF[1], "home-admin": bench_pages.STAFF[2]}
DEFAULT = ("review", "review-proposed", "review-approved", "review-sent", "review-accepted", "placements",
           "hosts-search")


def csrf_of(body: bytes) -> str:
    """The first CSRF token on a page."""
    m = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
        rb'name="csrf_token" value="([^"]+)"', body)
    return m.group(1).decode() if m else ""


def make_client(url: str, redis_url: str | None):
    """The app in production settings against `url`, and a client logged in as the bench's coordinator."""
    os.environ["EBO_ENV_NAME"] = "production"
    os.environ.setdefault("EBO_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ["EBO_DATABASE_URL"] = url
    if redis_url:
        os.environ["EBO_REDIS_URL"] = redis_url
    app = create_app()
    with app.app_context():
        bench_pages.enrol_staff()
        from ebo.models import MatchingRun

        run_id = db.session.scalar(sa.select(MatchingRun.id).where(MatchingRun.state == "done"))
        db.session.remove()
    if run_id is None:
        raise SystemExit("no finished run in that database: build it with bench_pages.py first")
    client, kw = login(app, COORDINATOR)
    return app, client, run_id, kw


def login(app, email: str):
    """A test client logged in as `email` (one of the bench's staff) through the real forms, and its request options."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    # Over https Flask-WTF also checks that a form was posted from this site (the Referer), as a browser sends.
    kw = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/"}}
    resp = client.post("/login", data={"email": email, "password": bench_pages.PASSWORD,
                                       "csrf_token": csrf_of(client.get("/login", **kw).data)}, **kw)
    if resp.status_code == 302:
        code = pyotp.TOTP(bench_pages.TOTP_SECRET).now()
        resp = client.post("/login/code", data={"code": code, "csrf_token": csrf_of(
            client.get("/login/code", **kw).data)}, **kw)
    if resp.status_code != 302 or client.get("/home", **kw).status_code != 200:
        raise SystemExit(f"login failed: {resp.status_code} {resp.data[:300]!r}")
    return client, kw


def resolve(client, kw, name: str, run_id) -> str:
    """The path of a named page (the hosts search first posts its words, as the search box does)."""
    path = PAGES[name]
    if path == "HOSTSEARCH":
        token = csrf_of(client.get("/vetting/hosts", **kw).data)
        client.post("/vetting/hosts", data={"q": "host1", "csrf_token": token}, **kw)
        return "/vetting/hosts"
    return path.format(r=f"/runs/{run_id}")


RENDER_CPU = [0.0]  # CPU seconds spent in Jinja rendering (flask.templating._render), summed


def time_rendering() -> None:
    """Count the CPU time of template rendering apart from the rest of the request."""
    import flask.templating as ft

    inner = ft._render

    def _render(*a, **k):
        c = time.process_time()
        try:
            return inner(*a, **k)
        finally:
            RENDER_CPU[0] += time.process_time() - c

    ft._render = _render


def once(client, kw, path: str) -> tuple[float, float, int]:
    """(wall ms, CPU ms, bytes) of one GET; anything but 200 stops the script."""
    w, c = time.perf_counter(), time.process_time()
    resp = client.get(path, **kw)
    body = resp.data
    w, c = (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000
    if resp.status_code != 200:
        raise SystemExit(f"{path} answered {resp.status_code}: {body[:300]!r}")
    return w, c, len(body)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--redis-url", default=None)
    ap.add_argument("-n", type=int, default=30, help="requests per page (default 30)")
    ap.add_argument("--page", action="append", choices=sorted(PAGES), help="page(s) to measure (default: "
                    + ", ".join(DEFAULT) + ")")
    ap.add_argument("--profile", choices=("cprofile", "pyinstrument"), default=None)
    ap.add_argument("--top", type=int, default=30, help="rows of the cProfile listing")
    ap.add_argument("--save", default=None, help="write the HTML of each page to this folder (for diffs)")
    args = ap.parse_args(argv)

    app, coordinator, run_id, kw = make_client(args.database_url, args.redis_url)
    clients = {COORDINATOR: coordinator}
    time_rendering()
    print(f"load average {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f}; n = {args.n}")
    print(f"{'page':<20} {'wall mean':>9} {'median':>7} {'CPU mean':>9} {'median':>7} {'render CPU':>10} {'KB':>6}")
    for name in args.page or DEFAULT:
        email = ROLE_OF.get(name, COORDINATOR)
        if email not in clients:
            clients[email] = login(app, email)[0]
        client = clients[email]
        path = resolve(client, kw, name, run_id)
        body = client.get(path, **kw).data  # warm
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            (Path(args.save) / f"{name}.html").write_bytes(body)
        RENDER_CPU[0] = 0.0
        runs = [once(client, kw, path) for _ in range(args.n)]
        wall, cpu = [r[0] for r in runs], [r[1] for r in runs]
        print(f"{name:<20} {statistics.mean(wall):9.1f} {statistics.median(wall):7.1f} "
              f"{statistics.mean(cpu):9.1f} {statistics.median(cpu):7.1f} {RENDER_CPU[0] * 1000 / args.n:10.1f} "
              f"{runs[0][2] / 1024:6.0f}", flush=True)
        if args.profile == "cprofile":
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.n):
                client.get(path, **kw)
            prof.disable()
            stats = pstats.Stats(prof)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
        elif args.profile == "pyinstrument":
            from pyinstrument import Profiler

            prof = Profiler(interval=0.0005)
            prof.start()
            for _ in range(args.n):
                client.get(path, **kw)
            prof.stop()
            print(prof.output_text(unicode=False, color=False, show_all=False))
    print(f"load average {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
