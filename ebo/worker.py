"""The job queue: named background jobs, run by an embedded worker thread or by RQ (Redis Queue) workers.

A module registers a job under a name (``@job("run")``) and enqueues it by that name with JSON-ready
arguments (``enqueue("run", str(run_id))``), as microblog enqueues its RQ tasks. The worker knows no
job: it only looks names up. A job is handed over when the caller's transaction commits (the worker
must see the rows it works on) and dropped when that transaction rolls back.

RUNS_MODE: "thread" (embedded default: one worker thread in the web process; a solve itself runs in a
child process), "rq" (jobs go to Redis; start workers with `rq worker ebo-runs --url $EBO_REDIS_URL` or
`flask --app ebo worker`), "sync" (tests: the job runs at the commit, in its own app context). Without
RUNS_MODE, "rq" is chosen when EBO_REDIS_URL is set and the `rq` extra is installed, "thread" otherwise.
`rq` is imported only on the RQ path.
"""

from __future__ import annotations

import importlib.util
import queue
import threading
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from ebo.extensions import db

RQ_QUEUE = "ebo-runs"
RQ_ENTRY = "ebo.rq_entry.rq_job"  # what RQ workers import and call for each job (it builds the app if need be)
_PENDING = "ebo_pending_jobs"  # key in Session.info: jobs waiting for the transaction to commit

_jobs: dict[str, Callable[..., object]] = {}
_lost_handlers: dict[str, Callable[..., object]] = {}
_startup_hooks: list[Callable[[], object]] = []


class QueueUnavailable(Exception):
    """The job queue (Redis) cannot be reached: no job can be handed over now."""


def job(name: str, on_lost: Callable[..., object] | None = None):
    """Register the decorated function as the job `name` (its arguments must be JSON-ready).

    `on_lost(*args)` is called (in an app context) when a committed job cannot be handed to the queue.
    """

    def decorator(fn: Callable[..., object]) -> Callable[..., object]:
        _jobs[name] = fn
        if on_lost is not None:
            _lost_handlers[name] = on_lost
        return fn

    return decorator


def run_startup_hooks() -> None:
    """Call the registered worker-start hooks (recovery of work left behind), in the current app context."""
    for hook in _startup_hooks:
        hook()


def check_available(app: Flask) -> None:
    """Raise QueueUnavailable if jobs cannot be handed over now (RQ mode with Redis unreachable)."""
    if mode(app) != "rq":
        return
    try:
        _redis(app).ping()
    except Exception as e:  # noqa: BLE001 - any failure to reach Redis means the same to the caller
        raise QueueUnavailable(str(e)) from e


def on_worker_start(fn: Callable[[], object]) -> Callable[[], object]:
    """Register a function to call when the embedded worker starts in a process (e.g. to recover work)."""
    if fn not in _startup_hooks:
        _startup_hooks.append(fn)
    return fn


def registered_jobs() -> tuple[str, ...]:
    """The names of the registered jobs."""
    return tuple(sorted(_jobs))


def mode(app: Flask) -> str:
    """The configured run mode."""
    configured = app.config.get("RUNS_MODE")
    if configured:
        return configured
    if app.config.get("REDIS_URL") and importlib.util.find_spec("rq") is not None:
        return "rq"
    return "thread"


def enqueue(name: str, *args) -> None:
    """Hand the job `name` to the workers once the current transaction commits."""
    if name not in _jobs:
        raise KeyError(f"no job is registered as {name!r}")
    app = current_app._get_current_object()
    session = db.session()
    if not session.in_transaction():
        session.begin()  # the job belongs to this transaction: its commit hands it over, its rollback drops it
    session.info.setdefault(_PENDING, []).append((app, name, args))


def run_job(name: str, *args) -> object:
    """Run the registered job `name` now, in the current app context."""
    try:
        fn = _jobs[name]
    except KeyError:
        raise KeyError(f"no job is registered as {name!r}") from None
    return fn(*args)


def _dispatch(app: Flask, name: str, args: tuple) -> None:
    m = mode(app)
    if m == "sync":
        run_in_own_context(app, name, args)
    elif m == "rq":
        try:
            _rq_queue(app).enqueue(RQ_ENTRY, name, *args, job_timeout=3600, description=f"{name} {args}")
        except Exception:  # noqa: BLE001 - Redis went away after the check: the job is lost, say so
            app.logger.exception("could not hand job %s %s to the queue", name, args)
            handler = _lost_handlers.get(name)
            if handler is not None:
                handler(*args)
    else:
        _embedded(app).submit(name, args)


def run_in_own_context(app: Flask, name: str, args: tuple) -> None:
    """Run a job in a fresh app context, hence its own database session."""
    with app.app_context():
        try:
            run_job(name, *args)
        finally:
            db.session.remove()


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the outer transaction has not committed yet
    for app, name, args in session.info.pop(_PENDING, []):
        _dispatch(app, name, args)


@sa.event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)  # the work the jobs were for is gone


# --------------------------------------------------------------------------- embedded thread


class EmbeddedWorker:
    """One daemon thread per process that executes jobs one after another."""

    def __init__(self, app: Flask):
        self.app = app
        self.jobs: queue.Queue[tuple[str, tuple]] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, name: str, args: tuple) -> None:
        """Queue a job and make sure the thread is alive."""
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="ebo-run-worker", daemon=True)
                self.thread.start()
        self.jobs.put((name, args))

    def _loop(self) -> None:
        while True:
            name, args = self.jobs.get()
            try:
                run_in_own_context(self.app, name, args)
            except Exception:  # keep the worker alive for the next job; jobs record their own failures
                self.app.logger.exception("worker loop error in job %s", name)
            finally:
                self.jobs.task_done()

    def join(self) -> None:
        """Wait until every queued job is done (tests)."""
        self.jobs.join()


def _embedded(app: Flask) -> EmbeddedWorker:
    worker = app.extensions.get("ebo_worker")
    if worker is None:
        worker = app.extensions["ebo_worker"] = EmbeddedWorker(app)
        with app.app_context():
            try:
                run_startup_hooks()
            except Exception:  # noqa: BLE001 - recovery must not stop the web process
                app.logger.exception("worker start hooks failed")
            finally:
                db.session.remove()
    return worker


def wait_for_embedded(app: Flask) -> None:
    """Block until the embedded worker has nothing left (tests and the demo)."""
    worker = app.extensions.get("ebo_worker")
    if worker is not None:
        worker.join()


# --------------------------------------------------------------------------- RQ (imported only here)


def _redis(app: Flask):
    from redis import Redis

    return Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=3, socket_timeout=10)


def _rq_queue(app: Flask):
    from rq import Queue

    return Queue(RQ_QUEUE, connection=_redis(app))


def run_rq_worker(app: Flask, burst: bool = False) -> None:
    """Work the RQ queue in this process, with the app's context around every job."""
    from redis import Redis
    from rq import SimpleWorker, Worker

    connection = Redis.from_url(app.config["REDIS_URL"])
    cls = SimpleWorker if burst else Worker
    with app.app_context():
        try:
            run_startup_hooks()  # e.g. runs whose worker died are marked interrupted
        finally:
            db.session.remove()
            db.engine.dispose()  # no pooled connection may be shared with the forked work horses
        cls([RQ_QUEUE], connection=connection).work(burst=burst)
