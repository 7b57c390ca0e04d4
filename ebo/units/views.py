"""Municipal housing units: list with beds in use (read-only for coordinators and admins), add, change."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ebo.extensions import db
from ebo.models import HousingUnit
from ebo.pagination import page_arg
from ebo.permissions import CASEWORKER, STAFF, role_required
from ebo.services import units as svc
from ebo.services.postal import normalise_postal_code
from ebo.units.forms import UnitForm

bp = Blueprint("units", __name__)


@bp.route("/")
@role_required(*STAFF)
def index():
    """Housing units with beds and beds in use."""
    inactive = request.args.get("inactive") == "1"
    page = svc.list_page(page_arg(), show_inactive=inactive)
    return render_template("units/index.html", page=page, totals=svc.totals(), inactive=inactive)


def _save(form: UnitForm, unit=None):
    if not form.validate_on_submit():
        return None
    if (form.lat.data is None) != (form.lon.data is None):
        form.lat.errors = [*form.lat.errors, _("Enter both latitude and longitude, or neither.")]
        return None
    postal_code = normalise_postal_code(form.postal_code.data)
    if (form.postal_code.data or "").strip() and postal_code is None:
        form.postal_code.errors = [*form.postal_code.errors,
                                   _("Enter a Swedish postal code: five digits, for example 123 45.")]
        return None
    data = svc.UnitData(
        name=form.name.data.strip(), street=(form.street.data or "").strip() or None,
        postal_code=postal_code,
        town=(form.town.data or "").strip() or None, lat=form.lat.data, lon=form.lon.data, beds=form.beds.data,
        step_free=form.step_free.data, active=form.active.data, notes=(form.notes.data or "").strip() or None)
    try:
        unit = svc.save_unit(data, unit, current_user)
    except svc.UnitError as e:
        getattr(form, e.field or "name").errors = [*getattr(form, e.field or "name").errors, e.message]
        return None
    if unit.lat is None:
        flash(_("The unit was saved without coordinates: the address was not found in the address table. "
                "Enter latitude and longitude so that matching can use it."), "info")
    else:
        flash(_("The unit was saved."), "success")
    return redirect(url_for("units.index"))


@bp.route("/new", methods=["GET", "POST"])
@role_required(CASEWORKER)
def new():
    """Add a housing unit."""
    form = UnitForm()
    return _save(form) or render_template("units/form.html", form=form, unit=None)


@bp.route("/<uuid:unit_id>/edit", methods=["GET", "POST"])
@role_required(CASEWORKER)
def edit(unit_id: uuid.UUID):
    """Change a housing unit."""
    unit = db.session.get(HousingUnit, unit_id) or abort(404)
    form = UnitForm(obj=unit)
    return _save(form, unit) or render_template("units/form.html", form=form, unit=unit)
