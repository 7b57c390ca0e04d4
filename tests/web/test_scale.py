"""Surge scale: every staff page issues a bounded number of SQL statements, whatever the amount of data,
and the coordinator lands back at the row they acted on."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from ebo import clock
from ebo.extensions import db as _db
from tests.conftest import PASSWORD, login, new_client
from tests.factories import make_family, make_host, make_school, make_unit


def _world(n: int, make_user) -> dict:
    """n of everything a staff page lists: families, hosts (approved and waiting for vetting), placements,
    audit rows, a finished run with n proposals and n unplaced families, proposals sent to one host."""
    from ebo.models import AuditEvent, MatchingRun, Placement, Proposal, RunUnplaced

    school = make_school()
    make_unit(beds=40)
    fams = [make_family(adults=1 + i % 2, schools=[school] if i % 3 else []) for i in range(2 * n)]
    hosts = [make_host(beds=4) for _ in range(n)]
    for i in range(n):
        make_host(vetting="registered" if i % 2 else "visited")
    host_user = make_user("host")
    own = make_host(beds=8, user=host_user, max_families=4)
    run = MatchingRun(kind="match", state="done", params={"max_school_km": 5, "families_per_host": 1},
                      counts={"persons_with_hosts": n, "families_unplaced": n}, status="OPTIMAL", gap=0.0,
                      finished_at=clock.now())
    _db.session.add(run)
    _db.session.flush()
    states = ["proposed", "approved", "sent", "rejected"]
    for i in range(n):
        _db.session.add(Proposal(run_id=run.id, family_id=fams[i].id, host_id=(own if i % 5 == 0 else hosts[i]).id,
                                 state=states[i % 4] if i % 5 else "sent", child_km=[1.5], shared_language=True))
        _db.session.add(RunUnplaced(run_id=run.id, position=i, family_id=fams[n + i].id, ref=str(fams[n + i].id)[:8],
                                    reasons=[{"rule": "capacity", "params": {"size": 7}, "text": "no host has 7 beds"},
                                             {"rule": "school", "params": {"hosts": 3, "size": 2, "steps": [],
                                                                           "arg": {"school": str(school.id), "km": 5}},
                                              "text": "…"}]))
    for i in range(n):
        fams[n + i].status = "placed"
        _db.session.add(Placement(family_id=fams[n + i].id, host_id=hosts[i].id, persons=1,
                                  start_date=clock.today() - dt.timedelta(days=i)))
    running = MatchingRun(kind="match", state="running", active_lock="match", progress=0.5, params={})
    _db.session.add(running)
    _db.session.add_all([AuditEvent(action="view_family", object_type="family", object_id=str(f.id),
                                    actor_role="caseworker") for f in fams])
    _db.session.commit()
    return {"run": run, "running": running, "host_user": host_user}


def _pages(w) -> list[tuple[str, str]]:
    run = w["run"].id
    return [
        ("admin", "/runs/"),
        ("admin", f"/runs/{run}"),
        ("admin", f"/runs/{run}?state=proposed"),
        ("admin", f"/runs/{run}?state=sent&page=1"),
        ("admin", f"/runs/{run}?page=2"),
        ("admin", f"/runs/{run}?upage=2"),
        ("admin", f"/runs/{w['running'].id}"),
        ("admin", "/preparedness/"),
        ("admin", "/preparedness/report"),
        ("coordinator", "/placements/"),
        ("coordinator", "/placements/?page=2"),
        ("admin", "/placements/overview"),
        ("admin", "/families/"),
        ("admin", "/families/?status=waiting&children=yes"),
        ("admin", "search:Rana"),
        ("coordinator", "/vetting/"),
        ("coordinator", "/vetting/?status=visited"),
        ("coordinator", "/vetting/hosts"),
        ("coordinator", "/vetting/hosts?page=2&vetting=approved"),
        ("coordinator", "hostsearch:Host"),
        ("admin", "/admin/users"),
        ("admin", "/admin/audit"),
        ("admin", "/admin/audit?page=2"),
        ("host", "/host/"),
        ("coordinator", "/home"),
        ("caseworker", "/home"),
        ("admin", "/home"),
    ]


def _statement_counts(app, make_user, n: int, monkeypatch, per_page: int) -> dict[str, int]:
    from ebo.services import auditlog, host_list, placements, review, unplaced

    # Page 2 exists with 5 rows as with 50; the pages also show a different number of rows (2 or 5), so a
    # query per shown row would change the count too.
    for module in (review, unplaced, placements, auditlog, host_list):
        monkeypatch.setattr(module, "PER_PAGE", per_page)
    w = _world(n, make_user)
    clients = {}
    for role in ("admin", "coordinator"):
        clients[role] = new_client(app)
        assert login(clients[role], make_user(role)).status_code == 302
    clients["host"] = new_client(app)
    assert login(clients["host"], w["host_user"], PASSWORD).status_code == 302

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    out = {}
    engine = _db.engine
    for role, url in _pages(w):
        if role not in clients:  # the caseworker logs in when first needed: a login adds audit rows
            clients[role] = new_client(app)
            assert login(clients[role], make_user(role)).status_code == 302
        client = clients[role]
        if url.startswith("search:"):
            client.post("/families/", data={"q": url.split(":", 1)[1]})
            url = "/families/"
        if url.startswith("hostsearch:"):
            client.post("/vetting/hosts", data={"q": url.split(":", 1)[1]})
            url = "/vetting/hosts"
        client.get(url)  # warm: first-request work (settings rows, caches) is not the page's
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            resp = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert resp.status_code == 200, (url, resp.status_code)
        out[f"{role} {url}".replace(str(w["run"].id), "RUN").replace(str(w["running"].id), "RUNNING")] = len(statements)
    return out


@pytest.fixture
def counted(app, db, make_user, monkeypatch):
    """Statement counts of every staff page with 5 rows of everything and 2 rows a page, then (fresh data)
    with 50 rows of everything and 5 a page."""
    from tests.conftest import _wipe

    small = _statement_counts(app, make_user, 5, monkeypatch, per_page=2)
    _db.session.remove()
    _wipe(app)
    large = _statement_counts(app, make_user, 50, monkeypatch, per_page=5)
    return small, large


def test_every_staff_page_issues_a_bounded_number_of_statements(counted):
    small, large = counted
    assert set(small) == set(large)
    differ = {page: (small[page], large[page]) for page in small if small[page] != large[page]}
    assert not differ, differ
    too_many = {page: n for page, n in small.items() if n > 30}
    assert not too_many, too_many


def _review_world(client):
    school = make_school()
    for _ in range(4):
        make_host(beds=4)
    for _ in range(3):
        make_family(adults=1, schools=[school])
    _db.session.commit()
    resp = client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": 10})
    assert resp.status_code == 302
    from ebo.models import MatchingRun, Proposal

    run = _db.session.scalars(sa.select(MatchingRun)).one()
    assert run.state == "done", run.error
    props = _db.session.scalars(sa.select(Proposal).where(Proposal.run_id == run.id)
                                .order_by(Proposal.created_at, Proposal.id)).all()
    assert len(props) == 3
    return run, props


def test_after_approve_reject_and_move_the_coordinator_lands_at_the_same_row(client, login_as, monkeypatch):
    from ebo.services import review

    monkeypatch.setattr(review, "PER_PAGE", 1)
    login_as("coordinator")
    run, props = _review_world(client)
    base = f"/runs/{run.id}"
    token_page = client.get(f"{base}?state=proposed&page=2")
    assert token_page.status_code == 200

    resp = client.post(f"{base}/proposals/{props[1].id}/approve", data={"page": "2", "state": "proposed"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"{base}?page=2&state=proposed#p-{props[1].id}")

    resp = client.post(f"{base}/proposals/{props[2].id}/reject", data={"page": "3", "state": "", "note": "x"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"{base}?page=3#p-{props[2].id}")

    move = client.get(f"{base}/proposals/{props[0].id}/move?page=1&state=proposed")
    assert move.status_code == 200
    assert f'href="{base}?state=proposed#p-{props[0].id}"' in move.get_data(as_text=True)
    from ebo.models import HostHousehold

    target = next(h for h in _db.session.scalars(sa.select(HostHousehold))
                  if h.id not in {p.host_id for p in props})
    resp = client.post(f"{base}/proposals/{props[0].id}/move?page=1&state=proposed", data={"target": f"h:{target.id}"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert resp.headers["Location"].endswith(f"{base}?state=proposed#p-{props[0].id}")

    # A page emptied by the filter shows its last page, not an empty table.
    html = client.get(f"{base}?state=proposed&page=9").get_data(as_text=True)
    assert f'id="p-{props[0].id}"' in html


def test_unplaced_families_are_paginated(client, login_as, monkeypatch):
    from ebo.models import MatchingRun, RunUnplaced
    from ebo.services import unplaced

    monkeypatch.setattr(unplaced, "PER_PAGE", 2)
    login_as("coordinator")
    run = MatchingRun(kind="match", state="done", params={}, counts={})
    _db.session.add(run)
    _db.session.flush()
    refs = [uuid.uuid4().hex[:8] for _ in range(5)]
    for i, ref in enumerate(refs):
        _db.session.add(RunUnplaced(run_id=run.id, position=i, ref=ref,
                                    reasons=[{"rule": "capacity", "params": {"size": 3 + i}, "text": "x"}]))
    _db.session.commit()
    first = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert refs[0] in first and refs[1] in first and refs[2] not in first
    assert f"/runs/{run.id}?upage=2#unplaced-heading" in first
    third = client.get(f"/runs/{run.id}?upage=3").get_data(as_text=True)
    assert refs[4] in third and refs[0] not in third
    assert "7" in third


def test_whole_municipality_figures_are_kept_and_dropped_when_this_process_commits_a_change(app, db, monkeypatch):
    """The dashboard's figures are counted once while fresh; a commit writing hosts drops them at once; a
    commit writing nothing they count keeps them; they expire after FIGURES_CACHE_SECONDS."""
    import time as _time

    from ebo.models import HostHousehold
    from ebo.services import figures_cache, preparedness

    monkeypatch.setitem(app.config, "FIGURES_CACHE_SECONDS", 60)
    figures_cache.invalidate()
    make_host(beds=3)
    _db.session.commit()
    calls = []
    real = preparedness._dashboard
    monkeypatch.setattr(preparedness, "_dashboard", lambda today: calls.append(today) or real(today))

    first = preparedness.dashboard()
    assert preparedness.dashboard() is first and len(calls) == 1
    assert first.total.beds_offering == 3

    _db.session.execute(sa.update(HostHousehold).values(beds=5))  # an UPDATE statement, not a flush
    assert preparedness.dashboard() is first  # not committed: still the kept figures
    _db.session.commit()
    second = preparedness.dashboard()
    assert len(calls) == 2 and second.total.beds_offering == 5

    make_host(beds=2)  # a flush of a new host, then its commit
    _db.session.commit()
    assert preparedness.dashboard().total.beds_offering == 7 and len(calls) == 3

    from ebo.models import AuditEvent

    _db.session.add(AuditEvent(action="view_family", object_type="family", object_id="x", actor_role="caseworker"))
    _db.session.commit()  # nothing the figures count
    assert len(calls) == 3 and preparedness.dashboard().total.beds_offering == 7 and len(calls) == 3

    later = _time.monotonic() + 61
    monkeypatch.setattr(figures_cache.time, "monotonic", lambda: later)
    preparedness.dashboard()
    assert len(calls) == 4


def test_figures_are_counted_by_one_thread_at_a_time(app, db, monkeypatch):
    """Eight threads asking at once for a figure nobody kept: it is counted once, and all get it."""
    import threading

    from ebo.services import figures_cache

    monkeypatch.setitem(app.config, "FIGURES_CACHE_SECONDS", 60)
    figures_cache.invalidate()
    calls, results = [], []
    gate = threading.Barrier(8)

    def slow():
        calls.append(1)
        import time as _time

        _time.sleep(0.2)
        return object()

    def ask():
        with app.app_context():
            gate.wait()
            results.append(figures_cache.cached("test.slow", 1, slow))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 8 and len({id(r) for r in results}) == 1


def test_templates_translate_once_per_request_and_still_follow_force_locale(app):
    """Templates look the translations up once per request (a review page translates hundreds of strings),
    yet a forced language (an email in the recipient's language) and the way back still apply."""
    from flask_babel import force_locale

    with app.test_request_context("/"):
        tpl = app.jinja_env.from_string("{{ _('Approve') }}|{{ ngettext('%(num)d bed', '%(num)d beds', 2) }}")
        swedish = tpl.render()
        with force_locale("en"):
            english = tpl.render()
        again = tpl.render()
    assert english == "Approve|2 beds"
    assert swedish == again and swedish != english and swedish.startswith("Godkänn")


def test_gunicorn_is_started_the_same_threaded_way_in_the_readme_the_guide_the_unit_and_the_benchmark():
    """One gunicorn command (threaded workers, so a short request is not queued behind slow pages) in the
    README's production section, the operations guide and the systemd unit; the page benchmark runs it."""
    import shlex
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "benchmarks"))
    import bench_pages

    def args(line: str) -> list[str]:
        words = shlex.split(line.split("  #", 1)[0])
        words[0] = Path(words[0]).name
        return words

    readme = (root / "README.md").read_text()
    in_readme = next(x for x in readme[readme.index("## Production"):].splitlines() if x.startswith("gunicorn "))
    guide = next(x for x in (root / "docs" / "operations.md").read_text().splitlines() if x.startswith("gunicorn "))
    unit = next(x for x in (root / "deploy" / "systemd" / "ebo-web.service").read_text().splitlines()
                if x.startswith("ExecStart="))
    assert args(in_readme) == args(guide) == args(unit.removeprefix("ExecStart="))
    words = args(in_readme)
    assert words[words.index("--worker-class") + 1] == "gthread" and int(words[words.index("--threads") + 1]) > 1
    bench = bench_pages.readme_gunicorn(8999)
    assert [Path(bench[0]).name, *bench[1:]] == [*words[:words.index("--bind") + 1], "127.0.0.1:8999",
                                                  *words[words.index("--bind") + 2:]]
