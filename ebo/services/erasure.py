"""Erasure and retention reach the stored matching runs: an erased host or a purged family is pseudonymised
in every run's stored input and solution (ebo-match/1 JSON).

Each run's copy gets its own random stand-in id ("erased-…"), used consistently in the run's input and
solution so the run can still be replayed and explained; across runs the stand-ins differ, so the runs
cannot be linked to one another nor to the person. An erased host's home position is replaced by the
centre of the run's schools (so no copy keeps where the person lives). Everything else in a run is
figures (beds, sizes, dates, flags, school ids) that identify no one without the ids; a purged
family's children keep their school id there, because the stored solution's distances depend on it.
"""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa

from ebo.extensions import db
from ebo.models import MatchingRun


def scrub_host(household) -> int:
    """Pseudonymise the host household in every stored run (None: nothing to do); returns runs changed."""
    if household is None:
        return 0
    return _scrub(str(household.id), "hosts")


def scrub_family(family) -> int:
    """Pseudonymise the family in every stored run; returns the number of runs changed."""
    return _scrub(str(family.id), "families")


def _replace(value, old: str, new: str):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    return value


def _withheld_position(inst: dict, skip: str) -> tuple[float, float]:
    """The centre of the run's schools (else units, else other hosts): a position that is nobody's home."""
    for key in ("schools", "units", "hosts"):
        points = [(p["lat"], p["lon"]) for p in inst.get(key) or []
                  if p.get("id") != skip and isinstance(p.get("lat"), int | float)]
        if points:
            return (round(sum(p[0] for p in points) / len(points), 2),
                    round(sum(p[1] for p in points) / len(points), 2))
    return 0.0, 0.0


def _scrub(target: str, section: str) -> int:
    runs = db.session.scalars(sa.select(MatchingRun).where(sa.or_(
        MatchingRun.instance_json.contains(target), MatchingRun.solution_json.contains(target),
        MatchingRun.error.contains(target), MatchingRun.progress_message.contains(target))))
    changed = 0
    for run in runs:
        stand_in = f"erased-{secrets.token_hex(8)}"
        if run.instance_json:
            inst = json.loads(run.instance_json)
            for rec in inst.get(section) or []:
                if rec.get("id") != target:
                    continue
                if section == "hosts":
                    rec["lat"], rec["lon"] = _withheld_position(inst, target)
            run.instance_json = json.dumps(_replace(inst, target, stand_in), ensure_ascii=False, indent=1)
        if run.solution_json:
            sol = _replace(json.loads(run.solution_json), target, stand_in)
            run.solution_json = json.dumps(sol, ensure_ascii=False, indent=1)
        if run.error:
            run.error = run.error.replace(target, stand_in)
        if run.progress_message:
            run.progress_message = run.progress_message.replace(target, stand_in)
        changed += 1
    db.session.flush()
    return changed
