"""The job queue: jobs enqueued by name run after the caller's commit, never after a rollback; run kinds register."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from ebo import rq_entry, worker
from ebo.extensions import db as _db
from ebo.models import AuditEvent, MatchingRun, RunKind, RunState
from ebo.services import audit, runs
from matching import schema as ms

SEEN: list[tuple] = []


@worker.job("test-record")
def _record(*args) -> None:
    """A job that records its arguments and writes an audit row in its own session."""
    SEEN.append(args)
    audit.record("test_job_ran", "job", None, {"args": list(args)})
    _db.session.commit()


@pytest.fixture(autouse=True)
def _clear():
    SEEN.clear()
    yield
    SEEN.clear()


def _ran() -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "test_job_ran"))


def test_a_job_runs_by_name_only_after_the_commit(db):
    assert "test-record" in worker.registered_jobs() and "run" in worker.registered_jobs()
    worker.enqueue("test-record", "a", 1)
    assert SEEN == []  # nothing is handed over while the transaction is open
    db.session.commit()
    assert SEEN == [("a", 1)]
    db.session.expire_all()
    assert _ran() == 1  # the job ran in its own session and committed its own work
    db.session.commit()
    assert SEEN == [("a", 1)]  # handed over once


def test_a_rolled_back_transaction_drops_its_jobs(db):
    worker.enqueue("test-record", "gone")
    db.session.rollback()
    db.session.commit()
    assert SEEN == [] and _ran() == 0


def test_a_savepoint_neither_hands_over_nor_drops_the_jobs(db):
    worker.enqueue("test-record", "outer")
    with db.session.begin_nested():
        db.session.execute(sa.select(1))
    assert SEEN == []  # releasing a savepoint is not the commit
    try:
        with db.session.begin_nested():
            raise ValueError("conflict")
    except ValueError:
        pass
    assert SEEN == []
    db.session.commit()
    assert SEEN == [("outer",)]  # a rolled-back savepoint kept the outer transaction's job


def test_an_unknown_job_name_is_refused(db):
    with pytest.raises(KeyError):
        worker.enqueue("no-such-job")


def test_the_embedded_thread_runs_a_named_job(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "RUNS_MODE", "thread")
    worker.enqueue("test-record", "threaded")
    db.session.commit()
    worker.wait_for_embedded(app)
    assert SEEN == [("threaded",)]


def test_the_rq_entry_named_in_queued_jobs_runs_them_with_or_without_an_app_context(app, db, monkeypatch):
    module_name, _, attr = worker.RQ_ENTRY.rpartition(".")
    entry = getattr(importlib.import_module(module_name), attr)  # RQ resolves the name the same way
    entry("test-record", "in context")
    assert SEEN == [("in context",)]
    built = []
    monkeypatch.setattr(rq_entry, "create_app", lambda: built.append(1) or app)
    thread = threading.Thread(target=entry, args=("test-record", "bare"))  # a new thread has no app context
    thread.start()
    thread.join(30)
    assert built == [1] and SEEN == [("in context",), ("bare",)]


def test_a_registered_run_kind_builds_and_stores_through_the_queue(db, make_user, monkeypatch):
    calls = []

    def build(run, today):
        calls.append(("build", run.kind, today))
        return ms.Instance(date=today, params=ms.Params(max_school_km=3.0), families=(
            ms.Family(id="F1", size=1, arrival=today),), units=(ms.Unit(id="U1", lat=59.3, lon=18.0, beds=2),))

    def store(run, inst, solution, instance_json):
        calls.append(("store", [p.unit_id for p in solution.placements], "F1" in instance_json))
        run.counts = {"stored_by": "test"}

    monkeypatch.setitem(runs._kinds, RunKind.DRILL, runs.KindHandler(build, store))
    user = make_user("coordinator")
    run = runs.start_run(runs.RunParams(max_school_km=3.0, time_limit_s=5), user, kind=RunKind.DRILL)
    assert calls == []
    db.session.commit()
    db.session.expire_all()
    run = db.session.get(MatchingRun, run.id)
    assert run.state == RunState.DONE, run.error
    assert [c[0] for c in calls] == ["build", "store"]
    assert calls[1][1:] == (["U1"], True) and run.counts == {"stored_by": "test"}


def test_a_kind_nobody_registered_fails_with_the_reason(db, make_user, monkeypatch):
    monkeypatch.delitem(runs._kinds, RunKind.DRILL)
    run = runs.start_run(runs.RunParams(max_school_km=3.0, time_limit_s=5), make_user("coordinator"),
                         kind=RunKind.DRILL)
    db.session.commit()
    db.session.expire_all()
    run = db.session.get(MatchingRun, run.id)
    assert run.state == RunState.FAILED and "kind 'drill'" in run.error and run.active_lock is None


def test_a_redis_url_alone_does_not_import_rq(tmp_path):
    code = (
        "import sys\n"
        "from ebo import create_app, worker\n"
        f"app = create_app({{'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/t.db',"
        f" 'INSTANCE_PATH': '{tmp_path}', 'REDIS_URL': 'redis://127.0.0.1:1/0'}})\n"
        "print(worker.mode(app), 'rq' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBO_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         check=True)
    assert out.stdout.split()[-1] == "False", out.stdout + out.stderr


def test_without_the_rq_extra_a_redis_url_means_the_embedded_thread(app, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setitem(app.config, "RUNS_MODE", None)
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rq" else real(name, *a))
    assert worker.mode(app) == "thread"
    monkeypatch.setattr(importlib.util, "find_spec", real)
    assert worker.mode(app) == ("rq" if real("rq") else "thread")
