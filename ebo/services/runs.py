"""Background runs (matching runs and drills): start, execute in the worker, record progress, store the result.

A run is never solved inside a web request. `start_run` stores a queued run and enqueues the job
"run" with its id (`ebo.worker`: an embedded worker thread by default, RQ workers when Redis is
configured); the job is handed over when the request commits. `execute_run` builds the instance,
solves it in a child process (the web process stays responsive), validates the solution
independently, and stores the result in one transaction; a failure leaves the run `failed` with the
reason and nothing stored.

Each run kind registers how it builds its instance and how it stores its result (`register_kind`):
"match" below (proposals), "drill" in ebo.services.drills (aggregate figures only).
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

import matching
from ebo import clock, worker
from ebo.extensions import db
from ebo.models import MatchingRun, MunicipalitySettings, Proposal, ProposalState, RunKind, RunState
from ebo.models.types import utcnow
from ebo.services import audit, unplaced
from ebo.services.match_instance import build_instance
from matching import schema as ms
from matching.rules import shares_language
from matching.validate import validate


class RunRefused(Exception):
    """A run cannot start (another one is running); the message is for the user."""


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
    """Store a queued run and enqueue it (handed over at commit); refuses a second active run of the kind."""
    run = MatchingRun(kind=kind, params=params.as_dict(), state=RunState.QUEUED, active_lock=kind,
                      started_by=getattr(user, "id", None), progress=0.0)
    try:
        with db.session.begin_nested():  # the unique active_lock refuses a second active run of this kind
            db.session.add(run)
    except IntegrityError:
        raise RunRefused("another run is already queued or running") from None
    audit.record("run_started", "matching_run", run.id, {"kind": kind})
    worker.enqueue("run", str(run.id))
    return run


@worker.job("run")
def run_job(run_id: str) -> None:
    """The worker's job "run": execute the run with this id."""
    execute_run(uuid.UUID(run_id))


def _update(run_id: uuid.UUID, **values) -> None:
    """Write progress in its own short transaction, so the run page sees it at once."""
    db.session.execute(sa.update(MatchingRun).where(MatchingRun.id == run_id).values(**values))
    db.session.commit()


def execute_run(run_id: uuid.UUID) -> None:
    """Run a queued run to the end (worker code, inside an app context; it commits its own work)."""
    run = db.session.get(MatchingRun, run_id)
    if run is None or run.state != RunState.QUEUED:
        return
    _update(run_id, state=RunState.RUNNING, started_at=utcnow(), progress=0.01,
            progress_message="building the instance")
    try:
        handler = kind_handler(run.kind)
        p = run.params or {}
        inst = handler.build_instance(run, clock.today())
        instance_json = ms.dumps_instance(inst)
        _update(run_id, progress=0.05, progress_message="solving")

        last = [0.0]

        def progress(fraction: float, message: str, best: float | None) -> None:
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
            solution = solve_in_child(inst, time_limit, workers, progress)
        problems = validate(inst, solution)
        if problems:
            raise RuntimeError("the independent check of the solution failed: " + "; ".join(problems[:5]))
        db.session.rollback()
        run = db.session.get(MatchingRun, run_id)
        handler.store_result(run, inst, solution, instance_json)
        run.state, run.active_lock, run.progress = RunState.DONE, None, 1.0
        run.progress_message, run.finished_at = "done", utcnow()
        db.session.commit()
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


def solve_in_child(inst: ms.Instance, time_limit: float, workers: int, progress) -> ms.Solution:
    """Solve in a separate process (spawned), relaying its progress; raises if it fails or hangs."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(ms.dumps_instance(inst), time_limit, workers, child), daemon=True)
    proc.start()
    child.close()
    deadline = time.monotonic() + time_limit + 180  # candidate generation and model building on top
    try:
        while True:
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


def recover_interrupted_runs() -> int:
    """Mark runs left `running` by a stopped process as failed (their worker is gone); returns how many."""
    result = db.session.execute(
        sa.update(MatchingRun).where(MatchingRun.state == RunState.RUNNING)
        .values(state=RunState.FAILED, active_lock=None, error="interrupted: the server stopped during the run",
                finished_at=utcnow()))
    db.session.commit()
    return result.rowcount or 0


register_kind(RunKind.MATCH, _build_match, store_solution)
worker.on_worker_start(recover_interrupted_runs)
