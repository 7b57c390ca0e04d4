"""Vetting, for coordinators: the queue of new hosts, a host's details, home visits and decisions."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ebo.extensions import db
from ebo.languages import LANGUAGE_CHOICES
from ebo.models import HostHousehold, HostState, VettingStatus
from ebo.pagination import page_arg
from ebo.permissions import VETTING_ROLES, role_required
from ebo.services import audit, host_list, vetting
from ebo.vetting.forms import DecisionForm, VisitForm

bp = Blueprint("vetting", __name__)
PER_PAGE = 25


@bp.route("/")
@role_required(*VETTING_ROLES)
def queue():
    """Hosts waiting for a home visit or a decision, oldest first."""
    status = request.args.get("status", "")
    page = db.paginate(vetting.vetting_queue(status or None), page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template("vetting/queue.html", page=page, status=status, statuses=vetting.VETTING_QUEUE_STATES)


HOST_SEARCH_KEY = "host_search"  # kept in the session, never in the URL, like the family search


@bp.route("/hosts", methods=["GET", "POST"])
@role_required(*VETTING_ROLES)
def hosts():
    """Every host household, in every state: search by name, email, postal code or reference, and filters."""
    if request.method == "POST":
        text = request.form.get("q", "").replace("\x00", "")[:120]
        session[HOST_SEARCH_KEY] = "" if "clear" in request.form else text
        f = host_list.HostFilters.from_args("", request.form)
        return redirect(url_for("vetting.hosts", **f.query_args()))
    f = host_list.HostFilters.from_args(session.get(HOST_SEARCH_KEY, ""), request.args)
    number = request.args.get("page", "1")
    number = min(int(number), 10_000) if number.isdigit() and len(number) < 7 else 1
    query, searching = host_list.hosts_query(f), bool(f.q.strip())
    page = db.paginate(query, page=max(number, 1), per_page=host_list.PER_PAGE, error_out=False, count=not searching)
    more = False
    if searching:  # a word found in most hosts: counted only up to host_list.COUNT_CAP
        page.total, more = host_list.bounded_count(query, page.page)
    return render_template("vetting/hosts.html", page=page, more=more, f=f, vetting_states=tuple(VettingStatus),
                           another=host_list.another_family_words(page.items),
                           host_states=tuple(HostState), languages=LANGUAGE_CHOICES)


def _host(host_id: uuid.UUID) -> HostHousehold:
    return db.session.get(HostHousehold, host_id) or abort(404)


def _render_host(household, visit_form=None, decision_form=None, code=200):
    if visit_form is None:
        visit_form = VisitForm(prefix="visit", visited_by=current_user.name)
    return render_template(
        "vetting/host.html",
        h=household,
        another=host_list.another_family_words([household]).get(household.id),
        visit_form=visit_form,
        decision_form=decision_form or DecisionForm(prefix="decision"),
    ), code


@bp.route("/hosts/<uuid:host_id>")
@role_required(*VETTING_ROLES)
def host(host_id: uuid.UUID):
    """A host's contact, address, offer and visits (the view is audited)."""
    household = _host(host_id)
    audit.record("host_viewed", "host", household.id)
    return _render_host(household)


@bp.route("/hosts/<uuid:host_id>/visits", methods=["POST"])
@role_required(*VETTING_ROLES)
def record_visit(host_id: uuid.UUID):
    """Record a home visit."""
    household = _host(host_id)
    form = VisitForm(prefix="visit")
    if form.validate_on_submit():
        try:
            vetting.record_visit(
                household,
                form.visited_on.data,
                form.visited_by.data,
                form.outcome.data,
                form.notes.data,
                current_user,
            )
        except vetting.VettingError as e:
            form.visited_on.errors = [*form.visited_on.errors, str(e)]
        else:
            flash(_("The visit has been recorded."), "success")
            return redirect(url_for("vetting.host", host_id=household.id))
    return _render_host(household, visit_form=form)


@bp.route("/hosts/<uuid:host_id>/geocode", methods=["POST"])
@role_required(*VETTING_ROLES)
def geocode(host_id: uuid.UUID):
    """Look the host's address up again (after the address table was imported or updated)."""
    household = _host(host_id)
    if vetting.regeocode(household):
        flash(_("The address was found on the map."), "success")
    else:
        flash(_("The address still cannot be found on the map."), "error")
    return redirect(url_for("vetting.host", host_id=household.id))


@bp.route("/hosts/<uuid:host_id>/decision", methods=["POST"])
@role_required(*VETTING_ROLES)
def decide(host_id: uuid.UUID):
    """Approve or reject a host, with the reason."""
    household = _host(host_id)
    form = DecisionForm(prefix="decision")
    if form.validate_on_submit():
        try:
            vetting.decide(household, form.decision.data == "approve", form.reason.data, current_user)
        except vetting.VettingError as e:
            form.decision.errors = [*form.decision.errors, str(e)]
        else:
            flash(
                _("The host has been approved and told by email.")
                if form.decision.data == "approve"
                else _("The host has been rejected."),
                "success",
            )
            return redirect(url_for("vetting.queue"))
    return _render_host(household, decision_form=form)
