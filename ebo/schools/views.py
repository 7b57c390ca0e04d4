"""School pages: the register (read-only for coordinators and admins), add and change by hand, CSV import."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ebo.extensions import db
from ebo.formutil import ImportForm
from ebo.models import School
from ebo.pagination import page_arg
from ebo.permissions import CASEWORKER, STAFF, role_required
from ebo.schools.forms import SchoolForm
from ebo.services import imports
from ebo.services import schools as svc
from ebo.services.postal import normalise_postal_code

bp = Blueprint("schools", __name__)
UPLOAD_LIMIT = 8 * 1024 * 1024


@bp.route("/")
@role_required(*STAFF)
def index():
    """The school register, searchable by name, code or town (not personal data)."""
    q = request.args.get("q", "").replace("\x00", "")[:100]
    inactive = request.args.get("inactive") == "1"
    page = svc.list_page(q, page_arg(), show_inactive=inactive)
    return render_template("schools/index.html", page=page, q=q, inactive=inactive)


def _save(form: SchoolForm, school=None):
    if not form.validate_on_submit():
        return None
    postal_code = normalise_postal_code(form.postal_code.data)
    if (form.postal_code.data or "").strip() and postal_code is None:
        form.postal_code.errors = [*form.postal_code.errors,
                                   _("Enter a Swedish postal code: five digits, for example 123 45.")]
        return None
    data = svc.SchoolData(
        code=form.code.data.strip(), name=form.name.data.strip(), street=(form.street.data or "").strip() or None,
        postal_code=postal_code,
        town=(form.town.data or "").strip() or None, municipality_code=form.municipality_code.data or None,
        lat=form.lat.data, lon=form.lon.data, active=form.active.data)
    if (data.lat is None) != (data.lon is None):
        form.lat.errors = [*form.lat.errors, _("Enter both latitude and longitude, or neither.")]
        return None
    try:
        svc.save_school(data, school, current_user)
    except svc.SchoolError as e:
        getattr(form, e.field or "code").errors = [*getattr(form, e.field or "code").errors, e.message]
        return None
    flash(_("The school was saved."), "success")
    return redirect(url_for("schools.index"))


@bp.route("/new", methods=["GET", "POST"])
@role_required(CASEWORKER)
def new():
    """Add a school by hand."""
    form = SchoolForm()
    return _save(form) or render_template("schools/form.html", form=form, school=None)


@bp.route("/<uuid:school_id>/edit", methods=["GET", "POST"])
@role_required(CASEWORKER)
def edit(school_id: uuid.UUID):
    """Change a school."""
    school = db.session.get(School, school_id) or abort(404)
    form = SchoolForm(obj=school)
    return _save(form, school) or render_template("schools/form.html", form=form, school=school)


@bp.route("/import", methods=["GET", "POST"])
@role_required(CASEWORKER)
def import_():
    """Import Skolverket's school-unit CSV; known codes are updated; all or nothing."""
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        result = imports.import_upload(form.file.data, imports.import_schools, current_user, UPLOAD_LIMIT)
        if result.ok:
            flash(_("%(created)d schools were added and %(updated)d updated.", created=result.created,
                    updated=result.updated), "success")
            return redirect(url_for("schools.index"))
    status = 422 if result is not None and not result.ok else 200
    return render_template("schools/import.html", form=form, result=result), status
