"""Plus 5 % pages: the preparedness dashboard, drills and the annual report (aggregates only)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ebo.models import RunState
from ebo.permissions import RUN_ROLES, STAFF, role_required
from ebo.preparedness.forms import StartDrillForm
from ebo.services import drills as drill_svc
from ebo.services import preparedness as prep

bp = Blueprint("preparedness", __name__)


def _may_start() -> bool:
    return current_user.role in RUN_ROLES


@bp.route("/")
@role_required(*STAFF)
def dashboard():
    """The municipality's readiness in figures and charts, also by postal area."""
    d = prep.dashboard()
    latest = next(iter(drill_svc.finished_drills(1)), None)
    return render_template("preparedness/dashboard.html", d=d, charts=prep.dashboard_charts(d), latest=latest,
                           gaps=drill_svc.gap_sentences(latest.summary if latest else None),
                           active=drill_svc.active_drill(), may_start=_may_start())


@bp.route("/drills")
@role_required(*STAFF)
def drills(form=None, status=200):
    """The drills, newest first, and (for coordinators and admins) the form to start one."""
    form = form or (StartDrillForm() if _may_start() else None)
    return render_template("preparedness/drills.html", rows=drill_svc.drill_runs(), form=form,
                           active=drill_svc.active_drill(), d=prep.dashboard()), status


@bp.route("/drills/start", methods=["POST"])
@role_required(*RUN_ROLES)
def start():
    """Queue a drill in the background."""
    form = StartDrillForm()
    if not form.validate_on_submit():
        return drills(form, 400)
    try:
        run = drill_svc.start_drill(current_user, time_limit_s=form.time_limit_s.data)
    except drill_svc.DrillRefused as e:
        flash(str(e), "error")
        return redirect(url_for("preparedness.drills"))
    flash(_("The drill has started. Nothing real is changed: no proposal, no placement."), "success")
    return redirect(url_for("preparedness.drill", run_id=run.id))


@bp.route("/drills/<uuid:run_id>")
@role_required(*STAFF)
def drill(run_id: uuid.UUID):
    """A drill's progress while it runs, its result once done."""
    run = drill_svc.get_drill_run(run_id) or abort(404)
    result = drill_svc.drill_of(run)
    if run.state != RunState.DONE or result is None or not result.summary:
        return render_template("preparedness/drill_progress.html", run=run, refresh=run.is_active)
    return render_template("preparedness/drill.html", run=run, drill=result, s=result.summary,
                           charts=prep.drill_charts(result.summary), gaps=drill_svc.gap_sentences(result.summary))


@bp.route("/report")
@role_required(*STAFF)
def report():
    """The annual report: today's figures, the latest drill, the change since the previous one, actions."""
    d = prep.dashboard()
    done = drill_svc.finished_drills()
    latest, previous = (done + [None, None])[:2]
    summary = latest.summary if latest else None
    return render_template(
        "preparedness/report.html", d=d, charts=prep.dashboard_charts(d), latest=latest, previous=previous,
        s=summary, drill_charts=prep.drill_charts(summary) if summary else None,
        gaps=drill_svc.gap_sentences(summary),
        changes=drill_svc.compare(summary, previous.summary if previous else None),
        actions=prep.suggested_actions(d, summary), history=prep.history_chart(done) if len(done) > 1 else None)
