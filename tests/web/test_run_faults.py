"""Runs never jam: stale heartbeats, cancelling, Redis down, a hanging solver, and kill -9 of the executor.

The kill -9 tests start real processes: a web server (`flask run`, thread mode: the run executes in a
thread of the web process) and an RQ worker (`flask worker`: the run executes in its work horse). The
solver child hangs, so the run is `running` when the executing process is killed. They measure the
time from the kill until a new run can start (RUN_STALE_SECONDS is 3 here; 120 by default).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db as _db
from ebo.models import AuditEvent, MatchingRun, Proposal
from ebo.services import runs
from tests.conftest import PASSWORD, base_config
from tests.factories import make_family, make_host, make_school
from tests.web import fault_app

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
STALE = int(os.environ.get("EBO_TEST_RUN_STALE_SECONDS", "3"))  # 120 to measure the default


@pytest.fixture
def world(db):
    make_school()
    make_host(beds=4)
    make_family(adults=2)
    _db.session.commit()


@pytest.fixture
def coordinator(client, login_as):
    user = login_as("coordinator")
    client.post("/language", data={"lang": "sv"})
    return user


def _params():
    return runs.RunParams(max_school_km=5, time_limit_s=5)


def _stuck_run(state="running", age_s=600, kind="match"):
    old = runs.utcnow() - dt.timedelta(seconds=age_s)
    run = MatchingRun(kind=kind, state=state, active_lock=kind, params={}, heartbeat_at=old,
                      created_at=old, started_at=old if state == "running" else None)
    _db.session.add(run)
    _db.session.commit()
    return run.id


def _latest():
    _db.session.expire_all()
    return _db.session.scalars(sa.select(MatchingRun).order_by(MatchingRun.created_at.desc())).first()


# --------------------------------------------------------------------------- stale heartbeats


def test_a_stale_run_is_interrupted_by_the_next_start(client, coordinator, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "RUN_STALE_SECONDS", 120)
    stuck = _stuck_run(age_s=121)
    resp = client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": 10})
    assert resp.status_code == 302 and "/runs/" in resp.location
    old = _db.session.get(MatchingRun, stuck)
    assert old.state == "failed" and old.error.startswith("interrupted") and old.active_lock is None
    assert _latest().state == "done"
    html = client.get(f"/runs/{stuck}").get_data(as_text=True)
    assert "Avbruten: processen som körde den stoppade" in html


def test_a_fresh_run_is_not_interrupted(client, coordinator, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "RUN_STALE_SECONDS", 120)
    busy = _stuck_run(age_s=60)
    resp = client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": 10},
                       follow_redirects=True)
    assert "En annan matchningskörning står i kö eller pågår" in resp.get_data(as_text=True)
    assert _db.session.get(MatchingRun, busy).state == "running"


@pytest.mark.parametrize("look", ["runs page", "run page", "cli", "worker start"])
def test_whoever_looks_next_recovers_a_stale_run(client, coordinator, world, app, monkeypatch, look):
    monkeypatch.setitem(app.config, "RUN_STALE_SECONDS", STALE)
    monkeypatch.setitem(app.config, "RUN_QUEUED_STALE_SECONDS", STALE)
    stuck = _stuck_run(age_s=STALE + 1)
    queued = _stuck_run(state="queued", age_s=STALE + 1, kind="drill")  # no worker ever took it
    if look == "runs page":
        assert client.get("/runs/").status_code == 200
    elif look == "run page":
        assert client.get(f"/runs/{stuck}").status_code == 200
    elif look == "cli":
        result = app.test_cli_runner().invoke(args=["runs", "recover"])
        assert result.exit_code == 0 and "Marked 2 run(s)" in result.output
    else:
        from ebo import worker

        worker.run_startup_hooks()
    _db.session.expire_all()
    for run_id in (stuck, queued):
        run = _db.session.get(MatchingRun, run_id)
        assert run.state == "failed" and run.error.startswith("interrupted") and run.active_lock is None
    assert "no worker took the run" in _db.session.get(MatchingRun, queued).error


# --------------------------------------------------------------------------- cancelling


def test_a_coordinator_cancels_a_queued_run(client, coordinator, world):
    stuck = _stuck_run(state="queued", age_s=1)
    assert "Avbryt körningen" in client.get(f"/runs/{stuck}").get_data(as_text=True)
    resp = client.post(f"/runs/{stuck}/cancel", follow_redirects=True)
    assert resp.status_code == 200 and "Körningen avbröts" in resp.get_data(as_text=True)
    run = _db.session.get(MatchingRun, stuck)
    assert run.state == "failed" and run.error == runs.CANCELLED and run.active_lock is None
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "run_cancelled")) == 1
    resp = client.post(f"/runs/{stuck}/cancel", follow_redirects=True)  # twice: it has ended
    assert "Körningen hade redan avslutats" in resp.get_data(as_text=True)
    assert client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1,
                                            "time_limit_s": 10}).status_code == 302
    assert _latest().state == "done"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _pids(path: Path, timeout: float = 60) -> tuple[int, int]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.read_text().strip():
            child, parent = path.read_text().split()[:2]
            return int(child), int(parent)
        time.sleep(0.1)
    raise AssertionError("the solver child never started")


def test_cancelling_a_running_run_stops_its_solver_child(client, coordinator, world, app, monkeypatch, tmp_path):
    from ebo.worker import wait_for_embedded

    pid_file = tmp_path / "pids"
    monkeypatch.setenv("EBO_TEST_PID_FILE", str(pid_file))
    monkeypatch.setattr(runs, "CHILD_TARGET", fault_app.hanging_child)
    for key, value in (("RUNS_MODE", "thread"), ("MATCH_IN_PROCESS", False), ("RUN_HEARTBEAT_SECONDS", 0.2)):
        monkeypatch.setitem(app.config, key, value)
    client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": 60})
    child, _parent = _pids(pid_file)
    run = _latest()
    assert run.state == "running"
    time.sleep(0.5)
    before = _latest().heartbeat_at
    time.sleep(0.6)
    assert _latest().heartbeat_at > before  # the worker renews the heartbeat while the child is silent
    assert client.post(f"/runs/{run.id}/cancel").status_code == 302
    wait_for_embedded(app)
    end = time.monotonic() + 10
    while _alive(child) and time.monotonic() < end:
        time.sleep(0.1)
    assert not _alive(child)
    run = _latest()
    assert run.state == "failed" and run.error == runs.CANCELLED
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_a_hanging_solver_child_is_stopped_and_the_run_fails(app, world, monkeypatch, tmp_path):
    import multiprocessing

    pid_file = tmp_path / "pids"
    monkeypatch.setenv("EBO_TEST_PID_FILE", str(pid_file))
    monkeypatch.setattr(runs, "CHILD_TARGET", fault_app.hanging_child)
    for key, value in (("MATCH_IN_PROCESS", False), ("MATCH_CHILD_GRACE_S", 25)):
        monkeypatch.setitem(app.config, key, value)
    params = runs.RunParams(max_school_km=5, time_limit_s=1)
    started = time.monotonic()
    runs.start_run(params, None)
    _db.session.commit()  # sync mode: the run executes here
    assert time.monotonic() - started < 90
    run = _latest()
    assert run.state == "failed" and "did not finish in time" in run.error and run.active_lock is None
    assert multiprocessing.active_children() == []  # the child was stopped and reaped
    if pid_file.exists() and pid_file.read_text().strip():  # (on a loaded machine it may not have got that far)
        assert not _alive(int(pid_file.read_text().split()[0]))


# --------------------------------------------------------------------------- Redis down


def test_redis_down_at_start_gives_a_clear_message_and_writes_nothing(client, coordinator, world, app,
                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "RUNS_MODE", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # a closed port
    resp = client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": 10},
                       follow_redirects=True)
    assert resp.status_code == 200
    assert "Körningen kunde inte starta: körningskön (Redis) svarar inte" in resp.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 0
    resp = client.post("/preparedness/drills/start", data={"time_limit_s": 10}, follow_redirects=True)
    assert resp.status_code in (200, 403)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 0


def test_redis_lost_after_the_check_leaves_no_queued_run(client, coordinator, world, app, monkeypatch):
    from ebo import worker

    monkeypatch.setitem(app.config, "RUNS_MODE", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(worker, "check_available", lambda app: None)  # Redis goes away just after the check
    resp = client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": 10})
    assert resp.status_code == 302
    run = _latest()
    assert run.state == "failed" and run.error == runs.QUEUE_LOST and run.active_lock is None
    assert "Startade inte: körningskön (Redis) gick inte att nå" in client.get(f"/runs/{run.id}").get_data(
        as_text=True)


# --------------------------------------------------------------------------- kill -9 of the executing process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def shared(tmp_path, tmp_path_factory, scratch_db_url):
    """A database shared with another process, with a coordinator, a school, a host and a family."""
    url = scratch_db_url()
    app = create_app(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=url, RUN_STALE_SECONDS=STALE,
                                 SQLITE_BUSY_TIMEOUT_MS=30000))
    with app.app_context():
        from ebo.services import accounts

        _db.create_all()
        accounts.create_user("coord@example.org", PASSWORD, "coordinator", "C", check_policy=False)
        make_school()
        make_host(beds=4)
        make_family(adults=2)
        _db.session.commit()
    env = {**os.environ, "EBO_DATABASE_URL": url, "EBO_RUN_STALE_SECONDS": str(STALE),
           "EBO_RUN_HEARTBEAT_SECONDS": "1", "EBO_TEST_PID_FILE": str(tmp_path / "pids"),
           "EBO_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    env.pop("EBO_REDIS_URL", None)
    procs: list[subprocess.Popen] = []
    yield app, env, tmp_path / "pids", procs
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)
    if (tmp_path / "pids").exists():
        for line in (tmp_path / "pids").read_text().split("\n"):
            if line.strip() and _alive(int(line.split()[0])):
                os.kill(int(line.split()[0]), signal.SIGKILL)
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _running(app, log: Path | None = None, timeout=90):
    end = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < end:
            run = _db.session.scalars(sa.select(MatchingRun)).first()
            if run is not None and run.state == "running":
                return run.id
            _db.session.rollback()
            time.sleep(0.2)
        state = (run.state, run.error) if run is not None else None
    raise AssertionError(f"the run never started running: {state}\n"
                         + (log.read_text()[-3000:] if log is not None and log.exists() else ""))


def _recovery_seconds(app, killed_at: float) -> float:
    """Start runs from this process until one is accepted; the seconds since the kill."""
    with app.app_context():
        while time.monotonic() - killed_at < 200:
            try:
                runs.start_run(_params(), None)
                _db.session.commit()
                return time.monotonic() - killed_at
            except runs.RunRefused:
                _db.session.rollback()
                time.sleep(0.2)
    raise AssertionError("no new run could start within 200 s of the kill")


def _check_recovered(app, run_id, seconds):
    print(f"\nrecovery after kill -9: {seconds:.1f} s (RUN_STALE_SECONDS={STALE})")
    assert seconds < STALE + 10
    with app.app_context():
        old = _db.session.get(MatchingRun, run_id)
        assert old.state == "failed" and old.error.startswith("interrupted")
        new = _db.session.scalars(sa.select(MatchingRun).order_by(MatchingRun.created_at.desc())).first()
        assert new.id != run_id and new.state == "done", new.error


def test_kill_9_of_the_web_process_in_thread_mode_does_not_jam_runs(shared):
    app, env, pid_file, procs = shared
    port = _free_port()
    proc = subprocess.Popen([FLASK, "--app", "tests.web.fault_app:create_app", "run", "--no-reload",
                             "-p", str(port)], cwd=ROOT, env={**env, "EBO_RUNS_MODE": "thread"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    procs.append(proc)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    base = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 60
    while True:
        try:
            opener.open(base + "/login", timeout=5)
            break
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.3)
    opener.open(base + "/login", urllib.parse.urlencode({"email": "coord@example.org", "password": PASSWORD,
                                                         "next": ""}).encode(), timeout=30)
    opener.open(base + "/runs/start", urllib.parse.urlencode({"max_school_km": 5, "families_per_host": 1,
                                                              "time_limit_s": 60}).encode(), timeout=30)
    run_id = _running(app)
    _child, executor = _pids(pid_file)
    assert executor == proc.pid  # the run executes in the web process (its embedded thread)
    os.kill(proc.pid, signal.SIGKILL)
    killed = time.monotonic()
    proc.wait(10)
    _check_recovered(app, run_id, _recovery_seconds(app, killed))


def test_kill_9_of_the_rq_work_horse_does_not_jam_runs(shared):
    url = os.environ.get("EBO_REDIS_URL")
    if not url:
        pytest.skip("EBO_REDIS_URL is not set: the RQ test needs Redis (CI sets it)")
    from redis import Redis
    from rq import Queue

    from ebo.worker import RQ_QUEUE

    app, env, pid_file, procs = shared
    Queue(RQ_QUEUE, connection=Redis.from_url(url)).empty()
    log = pid_file.with_name("worker.log").open("wb")
    proc = subprocess.Popen([FLASK, "--app", "tests.web.fault_app:create_app", "worker"], cwd=ROOT,
                            env={**env, "EBO_REDIS_URL": url, "EBO_RUNS_MODE": "rq"},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    procs.append(proc)
    end = time.monotonic() + 90
    while b"Listening on" not in pid_file.with_name("worker.log").read_bytes():
        assert time.monotonic() < end and proc.poll() is None, pid_file.with_name("worker.log").read_text()
        time.sleep(0.2)
    app.config.update(RUNS_MODE="rq", REDIS_URL=url)
    with app.app_context():
        runs.start_run(_params(), None)
        _db.session.commit()  # handed to Redis; the worker process takes it
    run_id = _running(app, pid_file.with_name("worker.log"))
    _child, executor = _pids(pid_file)
    assert executor != proc.pid and _alive(executor)  # RQ executes the job in a work horse
    os.kill(executor, signal.SIGKILL)
    killed = time.monotonic()
    app.config.update(RUNS_MODE="sync", REDIS_URL=None)
    seconds = _recovery_seconds(app, killed)
    _check_recovered(app, run_id, seconds)
    assert proc.poll() is None  # the worker itself lives on for the next job
