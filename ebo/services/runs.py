"""Matching runs: start, execute in the background, record progress, store the result as proposals.

A run is never solved inside a web request. `start_run` stores a queued run and hands its id to the
run queue (`ebo.worker`): an embedded worker thread by default, RQ workers when Redis is configured.
`execute_run` builds the instance, solves it in a child process (the web process stays responsive),
validates the solution independently, and stores proposals and figures in one transaction; a
failure leaves the run `failed` with the reason and no proposals.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import time
import traceback
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ebo.extensions import db
from ebo.models.types import utcnow
from ebo.services import audit
from matching import schema as ms


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


def start_run(params: RunParams, user, kind: str = "match"):
    """Store a queued run and enqueue it; refuses a second run of the same kind while one is active."""
    from ebo.models import MatchingRun
    from ebo.worker import enqueue

    run = MatchingRun(kind=kind, params=params.as_dict(), state="queued", active_lock=kind,
                      started_by=getattr(user, "id", None), progress=0.0)
    db.session.add(run)
    try:
        db.session.flush()  # the unique active_lock refuses a second active run of this kind
    except IntegrityError:
        db.session.rollback()
        raise RunRefused("another run is already queued or running") from None
    audit.record("run_started", "matching_run", run.id, {"kind": kind})
    # The worker must see the row: commit before handing over the id.
    db.session.commit()
    enqueue(run.id)
    return run


def _update(run_id: uuid.UUID, **values) -> None:
    """Write progress in its own short transaction, so the run page sees it at once."""
    from ebo.models import MatchingRun

    db.session.execute(sa.update(MatchingRun).where(MatchingRun.id == run_id).values(**values))
    db.session.commit()


def execute_run(run_id: uuid.UUID) -> None:
    """Run a queued matching run to the end (called by the worker, inside an app context)."""
    from ebo.models import MatchingRun, MunicipalitySettings

    run = db.session.get(MatchingRun, run_id)
    if run is None or run.state != "queued":
        return
    _update(run_id, state="running", started_at=utcnow(), progress=0.01,
            progress_message="building the instance")
    try:
        p = run.params or {}
        inst = _build_for(run, p, MunicipalitySettings.get())
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
            from matching import solve

            solution = solve(inst, time_limit_s=time_limit, workers=workers, progress=progress)
        else:
            solution = solve_in_child(inst, time_limit, workers, progress)
        from matching.validate import validate

        problems = validate(inst, solution)
        if problems:
            raise RuntimeError("the independent check of the solution failed: " + "; ".join(problems[:5]))
        db.session.rollback()
        run = db.session.get(MatchingRun, run_id)
        _store_for(run, inst, solution, instance_json)
        run.state, run.active_lock, run.progress = "done", None, 1.0
        run.progress_message, run.finished_at = "done", utcnow()
        db.session.commit()
    except Exception as e:  # a failed run is shown as failed, with nothing half-written
        db.session.rollback()
        current_app.logger.error("run %s failed: %s", run_id, traceback.format_exc())
        _update(run_id, state="failed", active_lock=None, error=_reason(e), finished_at=utcnow(),
                progress_message="failed")


def _build_for(run, p: dict, settings) -> ms.Instance:
    """The instance of a run: from the database for a matching run, a generated arrival for a drill."""
    km = float(p.get("max_school_km", settings.default_max_school_km))
    if run.kind == "drill":
        from ebo.services.drills import build_drill_instance

        return build_drill_instance(run, today=run_day(), max_school_km=km,
                                    min_stay_days=int(p.get("min_stay_days", 90)),
                                    reconfirm_months=settings.reconfirm_months)
    from ebo.services.match_instance import build_instance

    inst, _preview = build_instance(
        today=run_day(), max_school_km=km, families_per_host=int(p.get("families_per_host", 1)),
        min_stay_days=int(p.get("min_stay_days", 90)), reconfirm_months=settings.reconfirm_months)
    return inst


def _store_for(run, inst: ms.Instance, solution: ms.Solution, instance_json: str) -> None:
    """Store a run's result: proposals for a matching run, aggregate figures only for a drill."""
    if run.kind == "drill":
        from ebo.services.drills import store_drill

        store_drill(run, inst, solution)
    else:
        store_solution(run, inst, solution, instance_json)


def _reason(e: Exception) -> str:
    text = str(e) or e.__class__.__name__
    return text[:2000]


def run_day() -> dt.date:
    """The date a run plans for (today in Sweden); tests may monkeypatch it."""
    return dt.datetime.now(dt.UTC).date()


def store_solution(run, inst: ms.Instance, solution: ms.Solution, instance_json: str) -> None:
    """Store solver figures, the replay files and one proposal per new placement on `run`."""
    from ebo.models import Proposal
    from matching.rules import shares_language

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
            cost=None, state="proposed"))
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


# --------------------------------------------------------------------------- solving in a child process


def _child_main(instance_json: str, time_limit: float, workers: int, conn) -> None:
    """Entry of the solver process: solve and send progress and the solution back through `conn`."""
    try:
        from matching import solve

        inst = ms.instance_from_dict(json.loads(instance_json))

        def progress(fraction, message, best):
            conn.send(("progress", float(fraction), str(message or ""), best))

        sol = solve(inst, time_limit_s=time_limit, workers=workers, progress=progress)
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
    from ebo.models import MatchingRun

    result = db.session.execute(
        sa.update(MatchingRun).where(MatchingRun.state == "running")
        .values(state="failed", active_lock=None, error="interrupted: the server stopped during the run",
                finished_at=utcnow()))
    db.session.commit()
    return result.rowcount or 0
