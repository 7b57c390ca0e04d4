"""The run queue: an embedded worker thread by default, RQ (Redis Queue) workers in production.

RUNS_MODE: "thread" (embedded default: one worker thread in the web process; the solve itself runs
in a child process), "rq" (when EBO_REDIS_URL is set: jobs go to Redis; start workers with
`rq worker ebo-runs --url $EBO_REDIS_URL` or `flask --app ebo worker`), "sync" (tests: run at once).
"""

from __future__ import annotations

import queue
import threading
import uuid

from flask import Flask, current_app

RQ_QUEUE = "ebo-runs"


def mode(app: Flask) -> str:
    """The configured run mode."""
    configured = app.config.get("RUNS_MODE")
    if configured:
        return configured
    return "rq" if app.config.get("REDIS_URL") else "thread"


def enqueue(run_id: uuid.UUID) -> None:
    """Hand a stored, queued run to the workers."""
    app = current_app._get_current_object()
    m = mode(app)
    if m == "sync":
        from ebo.services.runs import execute_run

        execute_run(run_id)
    elif m == "rq":
        _rq_queue(app).enqueue("ebo.worker.rq_job", str(run_id), job_timeout=3600,
                               description=f"matching run {run_id}")
    else:
        _embedded(app).submit(run_id)


# --------------------------------------------------------------------------- embedded thread


class EmbeddedWorker:
    """One daemon thread per process that executes runs one after another."""

    def __init__(self, app: Flask):
        self.app = app
        self.jobs: queue.Queue[uuid.UUID] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, run_id: uuid.UUID) -> None:
        """Queue a run and make sure the thread is alive."""
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="ebo-run-worker", daemon=True)
                self.thread.start()
        self.jobs.put(run_id)

    def _loop(self) -> None:
        from ebo.extensions import db
        from ebo.services.runs import execute_run

        while True:
            run_id = self.jobs.get()
            try:
                with self.app.app_context():
                    try:
                        execute_run(run_id)
                    finally:
                        db.session.remove()
            except Exception:  # keep the worker alive for the next run; execute_run records failures
                self.app.logger.exception("worker loop error")
            finally:
                self.jobs.task_done()

    def join(self) -> None:
        """Wait until every queued run is done (tests)."""
        self.jobs.join()


def _embedded(app: Flask) -> EmbeddedWorker:
    worker = app.extensions.get("ebo_worker")
    if worker is None:
        worker = app.extensions["ebo_worker"] = EmbeddedWorker(app)
        with app.app_context():
            from ebo.services.runs import recover_interrupted_runs

            recover_interrupted_runs()
    return worker


def wait_for_embedded(app: Flask) -> None:
    """Block until the embedded worker has nothing left (tests and the demo)."""
    worker = app.extensions.get("ebo_worker")
    if worker is not None:
        worker.join()


# --------------------------------------------------------------------------- RQ


def _rq_queue(app: Flask):
    from redis import Redis
    from rq import Queue

    return Queue(RQ_QUEUE, connection=Redis.from_url(app.config["REDIS_URL"]))


def rq_job(run_id: str) -> None:
    """RQ entry point: build an app from the environment and execute the run."""
    from flask import has_app_context

    from ebo import create_app
    from ebo.extensions import db
    from ebo.services.runs import execute_run

    app = current_app._get_current_object() if has_app_context() else create_app()
    with app.app_context():
        try:
            execute_run(uuid.UUID(run_id))
        finally:
            db.session.remove()


def run_rq_worker(app: Flask, burst: bool = False) -> None:
    """Work the RQ queue in this process, with the app's context around every job."""
    from redis import Redis
    from rq import SimpleWorker, Worker

    connection = Redis.from_url(app.config["REDIS_URL"])
    cls = SimpleWorker if burst else Worker
    with app.app_context():
        cls([RQ_QUEUE], connection=connection).work(burst=burst)
