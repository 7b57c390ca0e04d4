"""Matching pages: start a run, watch it, review its proposals, send them, record answers, confirm."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ebo.extensions import db
from ebo.models import HostHousehold, HousingUnit, ProposalState, RunState
from ebo.pagination import page_arg
from ebo.permissions import RUN_ROLES, role_required
from ebo.runs.forms import ActionForm, AnswerForm, MoveForm, RejectForm, StartRunForm
from ebo.services import capacity, placements, proposals
from ebo.services import review as svc
from ebo.services import runs as runs_svc
from ebo.ui import format_km

bp = Blueprint("runs", __name__)
STATES = tuple(ProposalState)


def _run(run_id: uuid.UUID):
    return svc.get_run(run_id) or abort(404)


def _proposal(run, proposal_id: uuid.UUID):
    return svc.get_proposal(run, proposal_id) or abort(404)


def _back(run, proposal=None):
    """The review page again, on the page and filter the action came from, at the proposal's row."""
    page = page_arg(request.values)
    state = request.values.get("state") if request.values.get("state") in STATES else None
    return redirect(url_for("runs.detail", run_id=run.id, page=page if page > 1 else None, state=state,
                            _anchor=f"p-{proposal.id}" if proposal is not None else None))


def _checked() -> bool:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    return True


@bp.route("/")
@role_required(*RUN_ROLES)
def index():
    """The runs, newest first, and the form to start one with a preview of who takes part."""
    km, per_host, limit = svc.default_max_school_km(), svc.default_families_per_host(), 60
    asked = StartRunForm(request.args, meta={"csrf": False})
    if "max_school_km" in request.args and asked.validate():
        km, per_host, limit = asked.max_school_km.data, asked.families_per_host.data, asked.time_limit_s.data
    start_form = StartRunForm(data={"max_school_km": km, "families_per_host": per_host, "time_limit_s": limit})
    return _index(start_form, km, per_host)


def _index(form, km, per_host, status=200):
    runs_svc.recover_stale_runs()  # a run whose worker died is shown as interrupted, and no longer blocks
    page = svc.runs_page(page_arg())
    pv = svc.preview(km, per_host)
    return render_template(
        "runs/index.html", form=form, runs=page, preview=pv, active=any(r.is_active for r in page.items)
    ), status


@bp.route("/start", methods=["POST"])
@role_required(*RUN_ROLES)
def start():
    """Store a queued run and hand it to the background worker."""
    form = StartRunForm()
    if not form.validate_on_submit():
        return _index(
            form,
            form.max_school_km.data or svc.default_max_school_km(),
            form.families_per_host.data or 1,
            400,
        )
    params = runs_svc.RunParams(
        max_school_km=float(form.max_school_km.data),
        families_per_host=int(form.families_per_host.data),
        time_limit_s=float(form.time_limit_s.data),
    )
    try:
        run = runs_svc.start_run(params, current_user)
    except runs_svc.RunRefused as e:
        flash(str(e), "error")
        return redirect(url_for("runs.index"))
    flash(_("The run has started. This page shows its progress."), "success")
    return redirect(url_for("runs.detail", run_id=run.id))


@bp.route("/<uuid:run_id>")
@role_required(*RUN_ROLES)
def detail(run_id: uuid.UUID):
    """A run's progress while it runs; its review once done; its reason if it failed."""
    run = _run(run_id)
    if run.is_active and runs_svc.recover_stale_runs():
        db.session.refresh(run)
    if run.state != RunState.DONE:
        return render_template("runs/progress.html", run=run, refresh=run.is_active, action=ActionForm(),
                               reason=runs_svc.failure_words(run.error))
    state = request.args.get("state") if request.args.get("state") in STATES else None
    data = svc.review(run, page_arg(), state, page_arg(name="upage"))
    return render_template(
        "runs/review.html",
        run=run,
        review=data,
        state=state,
        states=STATES,
        page_no=data.rows.page,
        newer=runs_svc.newer_run(run),
        words=svc.row_words(),
    )


@bp.route("/<uuid:run_id>/cancel", methods=["POST"])
@role_required(*RUN_ROLES)
def cancel(run_id: uuid.UUID):
    """Cancel a queued or running run; its solver process is stopped and nothing is stored."""
    run = _run(run_id)
    _checked()
    if runs_svc.cancel_run(run, current_user):
        flash(_("The run was cancelled. Nothing from it was saved; you can start a new run."), "success")
    else:
        flash(_("The run had already ended, so it was not cancelled."), "info")
    return redirect(url_for("runs.detail", run_id=run.id))


@bp.route("/<uuid:run_id>/proposals/<uuid:proposal_id>/approve", methods=["POST"])
@role_required(*RUN_ROLES)
def approve(run_id: uuid.UUID, proposal_id: uuid.UUID):
    """Approve one proposal."""
    run = _run(run_id)
    prop = _proposal(run, proposal_id)
    _checked()
    try:
        proposals.approve(run, prop, current_user)
        flash(_("The proposal was approved."), "success")
    except proposals.ReviewError as e:
        flash(str(e), "error")
    return _back(run, prop)


@bp.route("/<uuid:run_id>/approve", methods=["POST"])
@role_required(*RUN_ROLES)
def approve_many(run_id: uuid.UUID):
    """Approve the ticked proposals, or all open ones."""
    run = _run(run_id)
    _checked()
    ids = None
    if request.form.get("scope") != "all":
        ids = []
        for raw in request.form.getlist("ids")[:1000]:
            try:
                ids.append(uuid.UUID(raw))
            except ValueError:
                abort(400)
        if not ids:
            flash(_("Tick the proposals to approve, or approve all."), "error")
            return _back(run)
    try:
        ok, refused, elsewhere = proposals.approve_many(run, ids, current_user)
    except proposals.ReviewError as e:
        flash(str(e), "error")
        return _back(run)
    flash(_("%(n)d proposals approved.", n=ok), "success")
    if refused:
        flash(_("%(n)d proposals were not approved: their host or unit has no room left.", n=refused), "error")
    if elsewhere:
        flash(_("%(n)d proposals were not approved: the family already has an approved, sent or accepted "
                "proposal in another run.", n=elsewhere), "error")
    return _back(run)


@bp.route("/<uuid:run_id>/proposals/<uuid:proposal_id>/reject", methods=["POST"])
@role_required(*RUN_ROLES)
def reject(run_id: uuid.UUID, proposal_id: uuid.UUID):
    """Reject one proposal; the pair is never proposed again."""
    run = _run(run_id)
    prop = _proposal(run, proposal_id)
    form = RejectForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        proposals.reject(prop, current_user, form.note.data)
        flash(_("The proposal was rejected; this family and host will not be proposed again."), "success")
    except proposals.ReviewError as e:
        flash(str(e), "error")
    return _back(run, prop)


def _room_words(room) -> str:
    """A home's beds in the run's accounting, as the unplaced reasons count them (capacity.room_in_run)."""
    if room.in_run:
        return _("%(left)d of %(beds)d beds left after this run's proposals (%(free)d free now)",
                 left=room.left, beds=room.beds, free=room.free)
    return _("%(free)d of %(beds)d beds free", free=room.free, beds=room.beds)


def _choice_labels(run, hosts, units):
    rooms = capacity.room_in_run(run.id, [h for h, _km in hosts], units)

    def host_label(host, km):
        return _("%(host)s – %(km)s km, %(room)s", host=svc.host_label(host), km=format_km(km),
                 room=_room_words(rooms[("h", host.id)]))

    def unit_label(unit):
        return _("Unit: %(name)s (%(room)s)", name=unit.name, room=_room_words(rooms[("u", unit.id)]))

    return host_label, unit_label


@bp.route("/<uuid:run_id>/proposals/<uuid:proposal_id>/move", methods=["GET", "POST"])
@role_required(*RUN_ROLES)
def move(run_id: uuid.UUID, proposal_id: uuid.UUID):
    """Move a family to another host or unit; the hard rules are checked and a broken one is named."""
    run = _run(run_id)
    prop = _proposal(run, proposal_id)
    form = MoveForm()
    try:
        hosts, units = proposals.move_candidates(run, prop)
    except proposals.ReviewError as e:
        flash(str(e), "error")
        return redirect(url_for("runs.detail", run_id=run.id))
    form.set_targets(hosts, units, *_choice_labels(run, hosts, units))
    row = svc.review_row(prop, run)
    status = 200
    if form.validate_on_submit():
        kind, _sep, raw = form.target.data.partition(":")
        target = db.session.get(HostHousehold if kind == "h" else HousingUnit, uuid.UUID(raw))
        try:
            proposals.move(
                run,
                prop,
                current_user,
                host=target if kind == "h" else None,
                unit=target if kind == "u" else None,
            )
            flash(_("The family was moved. Approve the proposal when you are ready."), "success")
            return _back(run, prop)
        except proposals.ReviewError as e:
            form.target.errors = [*form.target.errors, str(e)]
            status = 422
    elif request.method == "POST":
        status = 400
    back = _back(run, prop).location
    return render_template("runs/move.html", run=run, proposal=prop, row=row, form=form, back=back,
                           words=svc.row_words()), status


@bp.route("/<uuid:run_id>/send", methods=["POST"])
@role_required(*RUN_ROLES)
def send(run_id: uuid.UUID):
    """Send the run's approved proposals to their hosts."""
    run = _run(run_id)
    _checked()
    n = proposals.send_approved(run, current_user)
    if n:
        flash(_("%(n)d proposals were sent to their hosts.", n=n), "success")
    else:
        flash(_("There were no approved proposals to send."), "info")
    return _back(run)


@bp.route("/<uuid:run_id>/proposals/<uuid:proposal_id>/answer", methods=["POST"])
@role_required(*RUN_ROLES)
def answer(run_id: uuid.UUID, proposal_id: uuid.UUID):
    """Record the host's answer on the host's behalf (for instance given by phone)."""
    run = _run(run_id)
    prop = _proposal(run, proposal_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("Choose whether the host accepted or declined."), "error")
        return _back(run)
    try:
        proposals.record_answer(prop, form.answer.data == "accept", form.reason.data or "", current_user)
        flash(_("The host's answer was recorded."), "success")
    except proposals.ReviewError as e:
        flash(str(e), "error")
    return _back(run, prop)


@bp.route("/<uuid:run_id>/proposals/<uuid:proposal_id>/confirm", methods=["POST"])
@role_required(*RUN_ROLES)
def confirm(run_id: uuid.UUID, proposal_id: uuid.UUID):
    """Confirm an accepted proposal into a placement (one transaction, never double-booked)."""
    run = _run(run_id)
    prop = _proposal(run, proposal_id)
    _checked()
    try:
        placements.confirm(proposal_id, current_user)
        flash(_("The placement is confirmed."), "success")
    except placements.PlacementError as e:
        flash(str(e), "error")
    return _back(run, prop)


@bp.route("/<uuid:run_id>/<any(instance, solution):kind>.json")
@role_required(*RUN_ROLES)
def replay(run_id: uuid.UUID, kind: str):
    """Download the run's instance or solution as ebo-match/1 JSON, to replay and check it."""
    run = _run(run_id)
    text = svc.replay_file(run, kind, current_user)
    if not text:
        flash(_("This run has no stored replay files: it was made up for the demo, not solved. "
                "A run you start stores them."), "info")
        return redirect(url_for("runs.detail", run_id=run.id))
    name = f"run-{str(run.id)[:8]}-{kind}.json"
    return Response(
        text, mimetype="application/json", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
