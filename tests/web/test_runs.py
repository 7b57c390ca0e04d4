"""Matching runs in the background: proposals and figures stored, failures recorded, one run at a time."""

from __future__ import annotations

import json
import os

import pytest
import sqlalchemy as sa

from ebo.extensions import db as _db
from ebo.services import runs
from matching import schema as ms
from matching.validate import validate
from tests.factories import make_family, make_host, make_school, make_unit


@pytest.fixture
def world(db, make_user):
    school = make_school()
    near = make_host(lat=59.305, lon=18.0, beds=4)
    far = make_host(lat=59.9, lon=18.9, beds=4)  # far beyond 5 km of the school
    unit = make_unit(beds=10)
    fams = [make_family(adults=1, schools=[school]), make_family(adults=2, schools=[school, None]),
            make_family(adults=1)]
    coordinator = make_user("coordinator")
    _db.session.commit()
    return {"school": school, "near": near, "far": far, "unit": unit, "families": fams, "user": coordinator}


def _params(**kw):
    return runs.RunParams(**{"max_school_km": 5.0, "families_per_host": 1, "time_limit_s": 10, **kw})


def _proposals(run_id):
    from ebo.models import Proposal

    return _db.session.scalars(sa.select(Proposal).where(Proposal.run_id == run_id)).all()


def test_run_stores_proposals_figures_and_replay_files(world):
    from ebo.models import AuditEvent, MatchingRun

    run = runs.start_run(_params(), world["user"])
    _db.session.commit()  # the job is handed to the worker when the caller's transaction commits
    _db.session.expire_all()
    run = _db.session.get(MatchingRun, run.id)
    assert run.state == "done", run.error
    assert run.active_lock is None and run.progress == 1.0 and run.status == "OPTIMAL"
    props = _proposals(run.id)
    assert len(props) == 3 and all(p.state == "proposed" for p in props)
    by_family = {p.family_id: p for p in props}
    # The family with a schooled child goes to the near host or the unit, never to the far host.
    for fam in world["families"][:2]:
        assert by_family[fam.id].host_id != world["far"].id
    inst = ms.instance_from_dict(json.loads(run.instance_json))
    sol = ms.solution_from_dict(json.loads(run.solution_json))
    assert validate(inst, sol) == []
    assert run.counts["persons_with_hosts"] + run.counts["persons_in_units"] + run.counts["persons_unplaced"] == 7
    from tests.web.test_demo import RUN_FIGURES

    assert set(run.counts) == RUN_FIGURES  # the demo's made-up runs carry the same figures
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "run_started")) == 1


def test_second_run_refused_while_one_is_active(world):
    from ebo.models import MatchingRun

    _db.session.add(MatchingRun(kind="match", state="running", active_lock="match", params={}))
    _db.session.commit()
    with pytest.raises(runs.RunRefused):
        runs.start_run(_params(), world["user"])
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 1


def test_failing_run_is_failed_with_reason_and_writes_nothing(world, monkeypatch):
    import matching
    from ebo.models import MatchingRun

    def broken(*a, **k):
        raise MemoryError("solver ran out of memory")

    monkeypatch.setattr(matching, "solve", broken)
    run = runs.start_run(_params(), world["user"])
    _db.session.commit()  # the job is handed to the worker when the caller's transaction commits
    _db.session.expire_all()
    run = _db.session.get(MatchingRun, run.id)
    assert run.state == "failed" and "out of memory" in run.error
    assert run.active_lock is None and _proposals(run.id) == []
    # The lock is free again: the next run may start.
    monkeypatch.undo()
    again = runs.start_run(_params(), world["user"])
    _db.session.commit()
    _db.session.expire_all()
    assert _db.session.get(MatchingRun, again.id).state == "done"


def test_run_solves_in_a_child_process(world, app, monkeypatch):
    from ebo.models import MatchingRun

    monkeypatch.setitem(app.config, "MATCH_IN_PROCESS", False)
    run = runs.start_run(_params(), world["user"])
    _db.session.commit()  # the job is handed to the worker when the caller's transaction commits
    _db.session.expire_all()
    run = _db.session.get(MatchingRun, run.id)
    assert run.state == "done", run.error
    assert len(_proposals(run.id)) == 3


def test_embedded_thread_runs_in_background(world, app, monkeypatch):
    from ebo.models import MatchingRun
    from ebo.worker import wait_for_embedded

    monkeypatch.setitem(app.config, "RUNS_MODE", "thread")
    run = runs.start_run(_params(), world["user"])
    _db.session.commit()  # the job is handed to the worker when the caller's transaction commits
    wait_for_embedded(app)
    _db.session.expire_all()
    run = _db.session.get(MatchingRun, run.id)
    assert run.state == "done", run.error


def test_rq_worker_runs_the_job(world, app, monkeypatch):
    url = os.environ.get("EBO_REDIS_URL")
    if not url:
        pytest.skip("EBO_REDIS_URL is not set: the RQ test needs Redis (CI sets it)")
    from redis import Redis
    from rq import Queue

    from ebo.models import MatchingRun
    from ebo.worker import RQ_QUEUE, run_rq_worker

    Queue(RQ_QUEUE, connection=Redis.from_url(url)).empty()
    monkeypatch.setitem(app.config, "RUNS_MODE", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    run = runs.start_run(_params(), world["user"])
    _db.session.commit()  # the job is handed to the worker when the caller's transaction commits
    _db.session.expire_all()
    assert _db.session.get(MatchingRun, run.id).state == "queued"
    run_rq_worker(app, burst=True)
    _db.session.expire_all()
    run = _db.session.get(MatchingRun, run.id)
    assert run.state == "done", run.error
