"""Placements: social services see, follow up, end and report them; coordinators record follow-up visits."""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from ebo.models import MunicipalitySettings
from ebo.permissions import CASEWORKER, PLACEMENT_ROLES, STAFF, role_required
from ebo.placements.forms import (
    END_REASONS,
    ROUTE_LABELS,
    SORT_LABELS,
    STATUS_FILTER_LABELS,
    EndPlacementForm,
    ExportForm,
    FollowUpForm,
    PermitForm,
)
from ebo.services import charts, permits
from ebo.services import placements as svc
from ebo.ui import url_for_safe

bp = Blueprint("placements", __name__)

# Who reaches what: caseworkers everything; coordinators the list, the detail without dossier numbers,
# family notes or health notes, and follow-up visits; admins the aggregate overview only; hosts nothing.


def _placement_or_404(placement_id: uuid.UUID):
    """The placement, or 404."""
    return svc.get(placement_id) or abort(404)


@bp.route("/")
@role_required(*PLACEMENT_ROLES)
def index():
    """The placements, filtered, sorted and paginated."""
    f = svc.parse_filters(request.args)
    on = svc.today()
    page = svc.list_page(f, on)
    schools, routes = svc.filter_choices()
    return render_template("placements/index.html", page=page, f=f, schools=schools, routes=routes, on=on,
                           svc=svc, sort_labels=SORT_LABELS, route_labels=ROUTE_LABELS,
                           status_labels_filter=STATUS_FILTER_LABELS,
                           caseworker=current_user.role == CASEWORKER)


@bp.route("/export", methods=["GET", "POST"])
@role_required(CASEWORKER)
def export():
    """Confirm with one's password, then download the filtered placements as CSV (audited)."""
    f = svc.parse_filters(request.values)
    form = ExportForm()
    if form.validate_on_submit():
        text, _rows = svc.export_csv(f, actor=current_user)
        name = f"placements-{svc.today().isoformat()}.csv"
        return Response("\ufeff" + text, mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return render_template("placements/export.html", form=form, f=f)


@bp.route("/<uuid:placement_id>")
@role_required(*PLACEMENT_ROLES)
def detail(placement_id: uuid.UUID):
    """One placement: the family, where it lives, the proposals, follow-up visits and notes (audited view)."""
    p = _placement_or_404(placement_id)
    svc.view_family(p, actor=current_user)
    on = svc.today()
    return render_template("placements/detail.html", p=p, on=on, svc=svc,
                           visits=svc.visits(p, on), children=svc.child_schools(p),
                           proposals=svc.proposal_history(p.family_id),
                           follow_form=_follow_form(p, on), permit_form=PermitForm(),
                           caseworker=current_user.role == CASEWORKER, reasons=dict(END_REASONS),
                           route_labels=ROUTE_LABELS, family_url=_family_url(p.family_id))


def _family_url(family_id: uuid.UUID) -> str | None:
    """A link to the family's record once the families pages exist."""
    try:
        return url_for_safe("families.detail", family_id=family_id)
    except BuildError:
        return None


UNPLANNED = "unplanned"  # the follow-up form's choice for a visit outside the plan


def _follow_form(p, on, formdata=None):
    """The follow-up form with the open planned dates as choices."""
    form = FollowUpForm(formdata=formdata, start_date=p.start_date, today=on, prefix="visit")
    form.planned_on.choices = [(d.isoformat(), format_date(d)) for d in svc.open_visit_dates(p, on)]
    form.planned_on.choices.append((UNPLANNED, _("A visit that was not planned")))
    if formdata is None and form.done_on.data is None:
        form.done_on.data = on
    return form


@bp.route("/<uuid:placement_id>/follow-ups", methods=["POST"])
@role_required(*PLACEMENT_ROLES)
def follow_up(placement_id: uuid.UUID):
    """Record a follow-up visit as done."""
    p = _placement_or_404(placement_id)
    on = svc.today()
    form = _follow_form(p, on, formdata=request.form)
    if p.is_active and form.validate_on_submit():
        try:
            if form.planned_on.data == UNPLANNED:
                svc.record_unplanned_visit(p, form.done_on.data, form.notes.data, actor=current_user)
            else:
                svc.record_visit(p, dt.date.fromisoformat(form.planned_on.data), form.done_on.data,
                                 form.notes.data, actor=current_user)
        except svc.PlacementError:
            flash(_("That visit has already been recorded."), "error")
        else:
            flash(_("The visit was recorded."), "success")
    else:
        flash(_("The visit was not recorded: %(errors)s",
                errors=" ".join(str(e) for errs in form.errors.values() for e in errs)
                or _("the placement has ended.")), "error")
    return redirect(url_for("placements.detail", placement_id=p.id) + "#follow-ups")


@bp.route("/<uuid:placement_id>/end", methods=["GET", "POST"])
@role_required(CASEWORKER)
def end(placement_id: uuid.UUID):
    """End a placement with a date and a reason; the beds come back."""
    p = _placement_or_404(placement_id)
    if not p.is_active:
        flash(_("This placement has already ended."), "info")
        return redirect(url_for("placements.detail", placement_id=p.id))
    on = svc.today()
    form = EndPlacementForm(start_date=p.start_date, today=on)
    if request.method == "GET":
        svc.view_family(p, actor=current_user)
        form.end_date.data = on
        form.still_needs_housing.data = False
    if form.validate_on_submit():
        try:
            svc.end_placement(p, form.end_date.data, form.reason.data, form.still_needs_housing.data,
                              form.note.data, actor=current_user)
        except svc.PlacementError:
            flash(_("This placement has already ended."), "info")
        else:
            flash(_("The placement has ended and the beds are free again."), "success")
        return redirect(url_for("placements.detail", placement_id=p.id))
    return render_template("placements/end.html", p=p, form=form, svc=svc)


@bp.route("/<uuid:placement_id>/permit", methods=["POST"])
@role_required(CASEWORKER)
def permit(placement_id: uuid.UUID):
    """Record a residence-permit decision on the placed family."""
    p = _placement_or_404(placement_id)
    form = PermitForm()
    if form.validate_on_submit():
        permits.record_decision(p.family, form.decision.data, form.decided_on.data, actor=current_user)
        flash(_("The decision was recorded."), "success")
    else:
        flash(_("The decision was not recorded: %(errors)s",
                errors=" ".join(str(e) for errs in form.errors.values() for e in errs)), "error")
    return redirect(url_for("placements.detail", placement_id=p.id) + "#permit")


@bp.route("/permits")
@role_required(CASEWORKER)
def stay_on():
    """Placements where a family granted a permit could stay on as the host's tenant."""
    return render_template("placements/permits.html", rows=permits.stay_on_candidates(), svc=svc)


def _month_label(day, first: bool) -> str:
    """An axis label: the month, with the year beneath in January and on the first label."""
    month = format_date(day, "LLL")
    return f"{month}\n{day.year}" if first or day.month == 1 else month


@bp.route("/overview")
@role_required(*STAFF)
def overview():
    """Figures and charts: persons housed over time, children's school distances, follow-ups due."""
    on = svc.today()
    max_km = MunicipalitySettings.get().default_max_school_km
    over_time, kids, due = svc.overview_figures(on, max_km)
    housed = charts.step_chart(
        "housed", _("Persons housed in homes and in units"),
        _("Persons housed on the same day of each of the last 12 months; homes drawn solid, units dashed."),
        [_month_label(d, i == 0) for i, (d, _h, _u) in enumerate(over_time)],
        [(_("In homes"), [h for _d, h, _u in over_time]), (_("In units"), [u for _d, _h, u in over_time])],
        x_heading=_("Date"), row_labels=[format_date(d) for d, _h, _u in over_time])
    school = charts.bar_chart(
        "schools", _("Children and their school distance"),
        _("Children in active placements by distance to their school, against the limit of %(km)s km.",
          km=format_decimal(max_km)),
        [(_("Within %(km)s km", km=format_decimal(max_km)), kids["within"]),
         (_("Beyond %(km)s km", km=format_decimal(max_km)), kids["beyond"]),
         (_("Distance unknown"), kids["unknown"]), (_("No school"), kids["no_school"])],
        heading=_("Distance"), value_heading=_("Children"))
    visits = charts.bar_chart(
        "follow-ups", _("Follow-up visits due"),
        _("Planned follow-up visits of active placements not yet done: "
          "overdue, within a week, within a month."),
        [(_("Overdue"), due["overdue"]), (_("Next 7 days"), due["week"]), (_("Next 30 days"), due["month"])],
        heading=_("When"), value_heading=_("Visits"))
    latest = over_time[-1]
    return render_template("placements/overview.html", charts=[housed, school, visits], due=due, kids=kids,
                           homes=latest[1], units=latest[2], max_km=max_km, on=on)
