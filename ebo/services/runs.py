"""Background runs (matching runs and drills): start, execute in the worker, record progress, store the result.

A run is never solved inside a web request. `start_run` stores a queued run and enqueues the job
"run" with its id (`ebo.worker`: an embedded worker thread by default, RQ workers when Redis is
configured); the job is handed over when the request commits. `execute_run` builds the instance,
solves it in a child process (the web process stays responsive), validates the solution
independently, and stores the result in one transaction; a failure leaves the run `failed` with the
reason and nothing stored.

Each run kind registers how it builds its instance and how it stores its result (`register_kind`):
"match" below (proposals), "drill" in ebo.services.drills (aggregate figures only).

Over 400 lines on purpose: a run's whole life in the worker (start, heartbeat, child process,
recovery, cancellation, storing the result) is one state machine, easier to check when read in one place.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

import matching
from ebo import clock, worker
from ebo.extensions import db
from ebo.models import MatchingRun, MunicipalitySettings, Proposal, ProposalState, RunKind, RunState
from ebo.models.matching import ACTIVE_RUN_STATES
from ebo.models.types import utcnow
from ebo.services import audit, unplaced
from ebo.services.match_instance import build_instance
from matching import schema as ms
from matching.rules import shares_language
from matching.validate import validate


class RunRefused(Exception):
    """A run cannot start (another one is running, or the queue is down); the message is for the user."""

    def __init__(self, message, busy: bool = True):
        super().__init__(message)
        self.busy = busy  # True: another run of the kind is active; False: the queue cannot be reached


class RunCancelled(Exception):
    """The run was cancelled (or marked interrupted) while it executed: nothing is stored."""


INTERRUPTED = "interrupted: the run's worker stopped answering (heartbeat older than {s} s)"
NOT_TAKEN = "interrupted: no worker took the run within {s} s (is `flask --app ebo worker` running?)"
CANCELLED = "cancelled by a coordinator"
QUEUE_LOST = "not started: the run queue (Redis) could not be reached"


@dataclass(frozen=True)
class RunParams:
    """What a coordinator chooses for a run."""

    max_school_km: float
    families_per_host: int = 1
    time_limit_s: float = 60.0
    min_stay_days: int = 90

    def as_dict(self) -> dict:
        """JSON-ready parameters."""
        return {"max_school_km": self.max_school_km, "families_per_host": self.families_per_host,
                "time_limit_s": self.time_limit_s, "min_stay_days": self.min_stay_days}


@dataclass(frozen=True)
class KindHandler:
    """How a run kind builds its instance from the database and stores a solved run's result."""

    build_instance: Callable[[MatchingRun, dt.date], ms.Instance]
    store_result: Callable[[MatchingRun, ms.Instance, ms.Solution, str], None]


_kinds: dict[str, KindHandler] = {}


def register_kind(kind: str, build_instance: Callable[[MatchingRun, dt.date], ms.Instance],
                  store_result: Callable[[MatchingRun, ms.Instance, ms.Solution, str], None]) -> None:
    """Register how runs of `kind` build their instance (run, today) and store their result."""
    _kinds[kind] = KindHandler(build_instance, store_result)


def kind_handler(kind: str) -> KindHandler:
    """The registered handler of a run kind; raises LookupError for a kind nobody registered."""
    try:
        return _kinds[kind]
    except KeyError:
        raise LookupError(f"no handler is registered for runs of kind '{kind}'") from None


def start_run(params: RunParams, user, kind: str = RunKind.MATCH) -> MatchingRun:
    """Store a queued run and enqueue it (handed over at commit); refuses a second active run of the kind.

    Runs whose worker stopped (stale heartbeat) are marked interrupted first, so they never block.
    Refuses, writing nothing, when the run queue (Redis) cannot be reached.
    """
    try:
        worker.check_available(current_app._get_current_object())
    except worker.QueueUnavailable:
        current_app.logger.warning("run not started: the run queue cannot be reached", exc_info=True)
        raise RunRefused(_l("The run could not start: the run queue (Redis) does not answer. Nothing was "
                            "saved. Try again in a while, and tell the system administrator if it persists."),
                         busy=False) from None
    recover_stale_runs()
    now = utcnow()
    run = MatchingRun(kind=kind, params=params.as_dict(), state=RunState.QUEUED, active_lock=kind,
                      started_by=getattr(user, "id", None), progress=0.0, heartbeat_at=now)
    try:
        with db.session.begin_nested():  # the unique active_lock refuses a second active run of this kind
            db.session.add(run)
    except IntegrityError:
        raise RunRefused(_l("Another run is queued or running. Wait until it is done, then start a new one.")
                         ) from None
    audit.record("run_started", "matching_run", run.id, {"kind": kind})
    worker.enqueue("run", str(run.id))
    return run


def _queue_lost(run_id: str) -> None:
    """The committed run could not be handed to the queue: mark it failed at once (own connection)."""
    with db.engine.begin() as conn:
        conn.execute(sa.update(MatchingRun)
                     .where(MatchingRun.id == uuid.UUID(run_id), MatchingRun.state.in_(ACTIVE_RUN_STATES))
                     .values(state=RunState.FAILED, active_lock=None, error=QUEUE_LOST, finished_at=utcnow(),
                             progress_message="failed"))


@worker.job("run", on_lost=_queue_lost)
def run_job(run_id: str) -> None:
    """The worker's job "run": execute the run with this id."""
    execute_run(uuid.UUID(run_id))


def _update(run_id: uuid.UUID, **values) -> int:
    """Write progress of a running run in its own short transaction, so the run page sees it at once."""
    result = db.session.execute(sa.update(MatchingRun)
                                .where(MatchingRun.id == run_id, MatchingRun.state == RunState.RUNNING)
                                .values(**values))
    db.session.commit()
    return result.rowcount or 0


class Heartbeat:
    """A thread that renews a running run's heartbeat on its own connection, and notices a cancellation."""

    def __init__(self, app, run_id: uuid.UUID):
        self.app, self.run_id = app, run_id
        self.stop_event, self.cancelled = threading.Event(), threading.Event()
        self.interval = float(app.config["RUN_HEARTBEAT_SECONDS"])
        self.thread = threading.Thread(target=self._loop, name=f"ebo-heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.thread.join(self.interval + 5)

    def beat(self) -> None:
        """Renew the heartbeat once; set `cancelled` if the run is no longer running."""
        with self.app.app_context():
            with db.engine.begin() as conn:
                n = conn.execute(sa.update(MatchingRun)
                                 .where(MatchingRun.id == self.run_id, MatchingRun.state == RunState.RUNNING)
                                 .values(heartbeat_at=utcnow())).rowcount
        if n != 1:
            self.cancelled.set()

    def _loop(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a missed beat is retried; too many make the run stale
                self.app.logger.warning("heartbeat of run %s failed", self.run_id, exc_info=True)


def execute_run(run_id: uuid.UUID) -> None:
    """Run a queued run to the end (worker code, inside an app context; it commits its own work)."""
    run = db.session.get(MatchingRun, run_id)
    if run is None or run.state != RunState.QUEUED:
        return
    took = db.session.execute(
        sa.update(MatchingRun).where(MatchingRun.id == run_id, MatchingRun.state == RunState.QUEUED)
        .values(state=RunState.RUNNING, started_at=utcnow(), heartbeat_at=utcnow(), progress=0.01,
                progress_message="building the instance")).rowcount
    db.session.commit()
    if took != 1:
        return  # cancelled or taken meanwhile
    with Heartbeat(current_app._get_current_object(), run_id) as beat:
        _execute(run_id, beat)


def _execute(run_id: uuid.UUID, beat: Heartbeat) -> None:
    run = db.session.get(MatchingRun, run_id)
    try:
        handler = kind_handler(run.kind)
        p = run.params or {}
        inst = handler.build_instance(run, clock.today())
        instance_json = ms.dumps_instance(inst)
        _update(run_id, progress=0.05, progress_message="solving")

        last = [0.0]

        def progress(fraction: float, message: str, best: float | None) -> None:
            if beat.cancelled.is_set():
                raise RunCancelled()
            now = time.monotonic()
            if now - last[0] < 0.5 and fraction < 1.0:
                return  # at most two progress writes a second
            last[0] = now
            _update(run_id, progress=min(0.05 + 0.9 * max(0.0, min(fraction, 1.0)), 0.95),
                    progress_message=(message or "")[:200], best_objective=best)

        time_limit = float(p.get("time_limit_s", current_app.config["MATCH_TIME_LIMIT_S"]))
        workers = int(current_app.config["MATCH_WORKERS"])
        if current_app.config.get("MATCH_IN_PROCESS"):
            solution = matching.solve(inst, time_limit_s=time_limit, workers=workers, progress=progress)
        else:
            solution = solve_in_child(inst, time_limit, workers, progress, cancelled=beat.cancelled)
        problems = validate(inst, solution)
        if problems:
            raise RuntimeError("the independent check of the solution failed: " + "; ".join(problems[:5]))
        db.session.rollback()
        run = db.session.get(MatchingRun, run_id)
        if run.state != RunState.RUNNING:
            raise RunCancelled()
        handler.store_result(run, inst, solution, instance_json)
        db.session.flush()
        done = db.session.execute(  # guarded: a run cancelled or marked interrupted meanwhile stores nothing
            sa.update(MatchingRun).where(MatchingRun.id == run_id, MatchingRun.state == RunState.RUNNING)
            .values(state=RunState.DONE, active_lock=None, progress=1.0, progress_message="done",
                    finished_at=utcnow())).rowcount
        if done != 1:
            raise RunCancelled()
        db.session.commit()
    except RunCancelled:
        db.session.rollback()
        current_app.logger.info("run %s was cancelled or interrupted; nothing stored", run_id)
    except Exception as e:  # a failed run is shown as failed, with nothing half-written
        db.session.rollback()
        current_app.logger.error("run %s failed: %s", run_id, traceback.format_exc())
        _update(run_id, state=RunState.FAILED, active_lock=None, error=_reason(e), finished_at=utcnow(),
                progress_message="failed")


def _reason(e: Exception) -> str:
    text = str(e) or e.__class__.__name__
    return text[:2000]


def _build_match(run: MatchingRun, today: dt.date) -> ms.Instance:
    """A matching run's instance: today's families, hosts, units and schools from the database."""
    p = run.params or {}
    settings = MunicipalitySettings.get()
    inst, _preview = build_instance(
        today=today, max_school_km=float(p.get("max_school_km", settings.default_max_school_km)),
        families_per_host=int(p.get("families_per_host", 1)), min_stay_days=int(p.get("min_stay_days", 90)),
        reconfirm_months=settings.reconfirm_months)
    return inst


def store_solution(run, inst: ms.Instance, solution: ms.Solution, instance_json: str) -> None:
    """Store solver figures, the replay files and one proposal per new placement on `run`."""
    fixed = {x.family_id for x in inst.fixed}
    fams = {f.id: f for f in inst.families}
    hosts = {h.id: h for h in inst.hosts}
    persons_hosts = persons_units = 0
    children_within = children_beyond = 0
    school_km = 0.0
    for pl in solution.placements:
        fam = fams[pl.family_id]
        if pl.host_id:
            persons_hosts += fam.size
        else:
            persons_units += fam.size
        for km in pl.child_km or ():
            if km is None:
                continue
            school_km += km
            if km <= inst.params.max_school_km + 1e-9:
                children_within += 1
            else:
                children_beyond += 1
        if pl.family_id in fixed:
            continue
        host = hosts.get(pl.host_id) if pl.host_id else None
        db.session.add(Proposal(
            run_id=run.id, family_id=uuid.UUID(pl.family_id),
            host_id=uuid.UUID(pl.host_id) if pl.host_id else None,
            unit_id=uuid.UUID(pl.unit_id) if pl.unit_id else None,
            child_km=list(pl.child_km or ()), shared_language=shares_language(host, fam) if host else None,
            cost=None, state=ProposalState.PROPOSED))
    supersede_older(run)
    unplaced_persons = sum(fams[u.family_id].size for u in solution.unplaced)
    run.status, run.objective, run.bound = solution.status, solution.objective, solution.bound
    run.gap, run.wall_s = solution.gap, solution.wall_s
    run.instance_json = instance_json
    run.solution_json = ms.dumps_solution(solution)
    run.counts = {
        "families": len(inst.families) - len(fixed), "fixed": len(fixed),
        "persons_with_hosts": persons_hosts, "persons_in_units": persons_units,
        "persons_unplaced": unplaced_persons, "families_unplaced": len(solution.unplaced),
        "children_within_limit": children_within, "children_beyond_limit": children_beyond,
        "school_km": round(school_km, 3), "hosts": len(inst.hosts), "units": len(inst.units),
    }
    unplaced.store_reasons(run, inst, solution)  # what the review shows, worked out once


def supersede_older(run: MatchingRun) -> int:
    """Mark the never-approved proposals of runs older than `run` superseded; returns how many.

    Proposals already approved, sent or accepted stay: they hold their beds and the newer run kept
    their families fixed (or, approved while it ran, they stay live and the newer run's proposal for
    that family cannot be approved until they end).
    """
    older = sa.select(MatchingRun.id).where(MatchingRun.kind == RunKind.MATCH, MatchingRun.id != run.id,
                                            MatchingRun.created_at <= run.created_at)
    result = db.session.execute(
        sa.update(Proposal).where(Proposal.run_id.in_(older), Proposal.state == ProposalState.PROPOSED)
        .values(state=ProposalState.SUPERSEDED, decided_at=utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def newer_run(run: MatchingRun) -> MatchingRun | None:
    """The newest finished matching run started after `run`, if any."""
    return db.session.scalars(
        sa.select(MatchingRun).where(MatchingRun.kind == RunKind.MATCH, MatchingRun.state == RunState.DONE,
                                     MatchingRun.id != run.id, MatchingRun.created_at > run.created_at)
        .order_by(MatchingRun.created_at.desc()).limit(1)).first()


# --------------------------------------------------------------------------- solving in a child process


def _child_main(instance_json: str, time_limit: float, workers: int, conn) -> None:
    """Entry of the solver process: solve and send progress and the solution back through `conn`."""
    try:
        inst = ms.instance_from_dict(json.loads(instance_json))

        def progress(fraction, message, best):
            conn.send(("progress", float(fraction), str(message or ""), best))

        sol = matching.solve(inst, time_limit_s=time_limit, workers=workers, progress=progress)
        conn.send(("done", ms.dumps_solution(sol)))
    except BaseException as e:  # noqa: BLE001 - everything goes back to the parent as a message
        conn.send(("error", f"{e.__class__.__name__}: {e}"))
    finally:
        conn.close()


CHILD_TARGET = _child_main  # the solver process's entry (tests put a hanging one here)


def solve_in_child(inst: ms.Instance, time_limit: float, workers: int, progress,
                   cancelled: threading.Event | None = None, grace_s: float | None = None) -> ms.Solution:
    """Solve in a separate process (spawned), relaying its progress; stops it if it hangs or is cancelled."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=CHILD_TARGET, args=(ms.dumps_instance(inst), time_limit, workers, child), daemon=True)
    proc.start()
    child.close()
    if grace_s is None:
        grace_s = float(current_app.config["MATCH_CHILD_GRACE_S"])
    deadline = time.monotonic() + time_limit + grace_s  # candidate generation and model building on top
    try:
        while True:
            if cancelled is not None and cancelled.is_set():
                raise RunCancelled()
            if parent.poll(0.25):
                try:
                    kind, *rest = parent.recv()
                except EOFError:
                    break
                if kind == "progress":
                    progress(*rest)
                elif kind == "done":
                    return ms.solution_from_dict(json.loads(rest[0]))
                else:
                    raise RuntimeError(f"the solver failed: {rest[0]}")
            elif not proc.is_alive():
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the solver did not finish in time and was stopped")
        raise RuntimeError(f"the solver stopped unexpectedly (exit code {proc.exitcode})")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()


def recover_stale_runs() -> int:
    """Mark running runs with a heartbeat older than RUN_STALE_SECONDS (queued ones: RUN_QUEUED_STALE_SECONDS)
    failed ("interrupted"); returns how many.

    Does not commit: the caller's transaction does (a request, or `recover_interrupted_runs`).
    """
    beat = sa.func.coalesce(MatchingRun.heartbeat_at, MatchingRun.started_at, MatchingRun.created_at)
    n = 0
    for state, reason, key in ((RunState.RUNNING, INTERRUPTED, "RUN_STALE_SECONDS"),
                               (RunState.QUEUED, NOT_TAKEN, "RUN_QUEUED_STALE_SECONDS")):
        stale_s = int(current_app.config[key])
        limit = utcnow() - dt.timedelta(seconds=stale_s)
        result = db.session.execute(
            sa.update(MatchingRun).where(MatchingRun.state == state, beat < limit)
            .values(state=RunState.FAILED, active_lock=None, error=reason.format(s=stale_s), finished_at=utcnow(),
                    progress_message="failed")
            .execution_options(synchronize_session=False))
        n += result.rowcount or 0
    if n:
        current_app.logger.warning("%d run(s) marked interrupted (stale heartbeat)", n)
    return n


def recover_interrupted_runs() -> int:
    """Worker start and `flask runs recover`: mark stale runs interrupted and commit; returns how many."""
    n = recover_stale_runs()
    db.session.commit()
    return n


def failure_words(error: str | None) -> str | None:
    """A failed run's reason in the user's language when it is one the system wrote itself, else None."""
    if not error:
        return None
    if error.startswith("interrupted: no worker"):
        return str(_l("Interrupted: no run worker took the run. Check that the run workers are started "
                      "(see the operations guide); then start a new run."))
    if error.startswith("interrupted"):
        return str(_l("Interrupted: the process that ran it stopped (for example a restart or a crash). "
                      "Nothing was saved; start a new run."))
    if error == CANCELLED:
        return str(_l("Cancelled by a coordinator."))
    if error == QUEUE_LOST:
        return str(_l("Not started: the run queue (Redis) could not be reached."))
    return None


def cancel_run(run: MatchingRun, actor) -> bool:
    """Cancel a queued or running run (its worker stops the solver at its next heartbeat); False if it ended."""
    done = db.session.execute(
        sa.update(MatchingRun).where(MatchingRun.id == run.id, MatchingRun.state.in_(ACTIVE_RUN_STATES))
        .values(state=RunState.FAILED, active_lock=None, error=CANCELLED, finished_at=utcnow(),
                progress_message="cancelled")
        .execution_options(synchronize_session=False)).rowcount
    db.session.expire(run)
    if done == 1:
        audit.record("run_cancelled", "matching_run", run.id, {"kind": run.kind}, actor=actor)
    return done == 1


register_kind(RunKind.MATCH, _build_match, store_solution)
worker.on_worker_start(recover_interrupted_runs)
