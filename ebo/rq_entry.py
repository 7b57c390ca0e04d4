"""The RQ entry point: RQ workers import this module by name and call `rq_job` for every job.

It lives apart from `ebo.worker` because it needs `create_app`, and the application imports the
worker: a job entry inside the worker would close an import circle. Nothing imports this module;
`ebo.worker` names it in the jobs it hands to Redis (`RQ_ENTRY`).
"""

from __future__ import annotations

from flask import current_app, has_app_context

from ebo import create_app
from ebo.worker import run_in_own_context


def rq_job(name: str, *args) -> None:
    """Run the job `name` in its own app context (building an app from the environment if needed)."""
    app = current_app._get_current_object() if has_app_context() else create_app()
    run_in_own_context(app, name, args)
