"""Production starts everything: `flask --app ebo worker` against Redis runs a matching run end to end.

The worker is a separate process, started as the README's production section and the systemd unit
`deploy/systemd/ebo-worker@.service` start it. Starting, it also marks runs whose worker died as
interrupted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db as _db
from ebo.models import MatchingRun, Proposal
from ebo.services import runs
from matching import schema as ms
from matching.validate import validate
from tests.conftest import base_config
from tests.factories import make_family, make_host, make_school, make_unit

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def test_systemd_units_start_web_workers_and_every_scheduled_job():
    units = ROOT / "deploy" / "systemd"
    text = {p.name: p.read_text() for p in units.iterdir()}
    assert "gunicorn" in text["ebo-web.service"] and "flask --app ebo worker" in text["ebo-worker@.service"]
    for job, command in (("reminders", "send-reminders"), ("purge", "purge"), ("backup", "backup"),
                         ("runs-recover", "runs recover"), ("proposals-expire", "proposals expire")):
        assert f"flask --app ebo {command}" in text[f"ebo-{job}.service"]
        assert "OnCalendar=" in text[f"ebo-{job}.timer"]
    readme = (ROOT / "README.md").read_text()
    production = readme[readme.index("## Production"):]
    for needed in ("gunicorn", "flask --app ebo worker", "send-reminders", "purge", "deploy/systemd"):
        assert needed in production


def test_the_worker_process_runs_a_matching_run_end_to_end(scratch_db_url, tmp_path, tmp_path_factory):
    url = os.environ.get("EBO_REDIS_URL")
    if not url:
        pytest.skip("EBO_REDIS_URL is not set: the RQ test needs Redis (CI sets it)")
    from redis import Redis
    from rq import Queue

    from ebo.worker import RQ_QUEUE

    Queue(RQ_QUEUE, connection=Redis.from_url(url)).empty()
    db_url = scratch_db_url()
    app = create_app(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=db_url, RUNS_MODE="rq", REDIS_URL=url,
                                 SQLITE_BUSY_TIMEOUT_MS=30000))
    with app.app_context():
        _db.create_all()
        school = make_school()
        make_host(beds=4)
        make_host(lat=59.31, lon=18.01, beds=3)
        make_unit(beds=10)
        for adults in (1, 2, 3):
            make_family(adults=adults, schools=[school])
        old = runs.utcnow() - dt.timedelta(minutes=10)  # a run whose worker died long ago
        dead = MatchingRun(kind="drill", state="running", active_lock="drill", params={}, heartbeat_at=old,
                           created_at=old, started_at=old)
        _db.session.add(dead)
        _db.session.commit()
        dead_id = dead.id
    env = {**os.environ, "EBO_DATABASE_URL": db_url, "EBO_REDIS_URL": url, "EBO_SECRET_KEY": "x",
           "EBO_INSTANCE_PATH": str(tmp_path / "instance"), "EBO_MATCH_WORKERS": "1"}
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen([FLASK, "--app", "ebo", "worker"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with app.app_context():
            run = runs.start_run(runs.RunParams(max_school_km=5, time_limit_s=5), None)
            _db.session.commit()  # handed to Redis; the worker process takes it
            run_id = run.id
            end = time.monotonic() + 180
            while time.monotonic() < end:
                _db.session.expire_all()
                run = _db.session.get(MatchingRun, run_id)
                if run.state in ("done", "failed"):
                    break
                _db.session.rollback()
                time.sleep(0.5)
            assert run.state == "done", (run.state, run.error, (tmp_path / "worker.log").read_text()[-2000:])
            assert run.heartbeat_at is not None and run.active_lock is None
            proposals = _db.session.scalars(sa.select(Proposal).where(Proposal.run_id == run_id)).all()
            assert len(proposals) == 3
            inst = ms.instance_from_dict(json.loads(run.instance_json))
            assert validate(inst, ms.solution_from_dict(json.loads(run.solution_json))) == []
            dead = _db.session.get(MatchingRun, dead_id)
            assert dead.state == "failed" and dead.error.startswith("interrupted")  # the worker's start recovered it
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
