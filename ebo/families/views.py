"""Family pages for social services: list, register, detail, edit, status, bulk import."""

from __future__ import annotations

import uuid
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ebo.families.forms import MAX_ROWS, FamilyForm, FamilyImportForm, StatusForm, pad_members
from ebo.formutil import choices
from ebo.pagination import page_arg
from ebo.permissions import CASEWORKER, REGISTRY_ROLES, STAFF, role_required
from ebo.services import families as svc
from ebo.services import imports, profile, searches
from ebo.ui import STATUS_LABELS

bp = Blueprint("families", __name__)

# The search text (a name or dossier number) is kept on the server; the session cookie holds only a random
# key to it, and the URL nothing (docs/security.md S23).
SEARCH_KEY = "family_search_key"
UPLOAD_LIMIT = 2 * 1024 * 1024


def _filters() -> svc.ListFilters:
    needed_before = None
    try:
        raw = request.args.get("needed_before", "")
        needed_before = date.fromisoformat(raw) if raw else None
    except ValueError:
        needed_before = None
    return svc.ListFilters(q=searches.recall(current_user, session.get(SEARCH_KEY)),
                           status=request.args.get("status", ""),
                           route=request.args.get("route", ""), children=request.args.get("children", ""),
                           needed_before=needed_before)


@bp.route("/", methods=["GET", "POST"])
@role_required(*REGISTRY_ROLES)
def index():
    """The family list: search (kept out of the URL), filters, pagination."""
    if request.method == "POST":
        # POST-redirect-GET: the name or dossier number searched for goes to the session, filters to the URL.
        text = "" if "clear" in request.form else request.form.get("q", "")
        session[SEARCH_KEY] = searches.remember(current_user, text, old_key=session.get(SEARCH_KEY))
        args = {k: request.form.get(k, "").replace("\x00", "")[:20]
                for k in ("status", "route", "children", "needed_before")}
        return redirect(url_for("families.index", **{k: v for k, v in args.items() if v}))
    f = _filters()
    page = svc.list_page(f, page_arg())
    return render_template("families/index.html", page=page, f=f, routes=svc.ROUTE_LABELS, routes_short=svc.ROUTE_SHORT,
                           statuses=svc.STATUSES)


def _prefill(form: FamilyForm, family) -> None:
    form.contact_name.data = family.contact_name
    form.contact_phone.data = family.contact_phone
    form.contact_email.data = family.contact_email
    form.dossier_number.data = family.dossier_number
    form.route.data = family.route
    form.needed_from.data = family.needed_from
    form.languages.data = list(family.languages or [])
    form.needs_step_free.data = family.needs_step_free
    form.pet_allergy.data = family.pet_allergy
    form.needs_non_smoking.data = family.needs_non_smoking
    form.notes.data = family.notes
    form.health_note.data = family.health_note.text if family.health_note else ""
    while len(form.members):
        form.members.pop_entry()
    for m in family.members:
        form.members.append_entry({"kind": m.kind, "first_name": m.first_name, "birth_year": m.birth_year,
                                   "school": str(m.school_id) if m.school_id else ""})


def _handle(form: FamilyForm, family=None):
    """Validate and save; return a redirect on success, else None (the form is shown again)."""
    form.set_school_choices(svc.school_choices())
    if request.method != "POST":
        return None
    if form.add_row.data:
        pad_members(form, 1)
        form.set_school_choices(svc.school_choices())
        return None
    if not form.validate_on_submit():
        return None
    data = form.to_data()
    try:
        warnings: list[str] = []
        if family is None:
            family = svc.create_family(data, current_user)
        else:
            warnings = svc.update_family(family, data, current_user)
    except svc.FamilyError as e:
        target = getattr(form, e.field, None) if e.field not in ("", "members") else None
        if target is not None:
            target.errors = [*target.errors, e.message]
        else:
            form.form_errors.append(e.message)
        return None
    svc.set_health_note(family, form.health_note.data, current_user)
    flash(_("The family was saved."), "success")
    for text in warnings:
        flash(text, "error")
    return redirect(url_for("families.detail", family_id=family.id))


@bp.route("/new", methods=["GET", "POST"])
@role_required(CASEWORKER)
def new():
    """Register a family and its members."""
    form = FamilyForm()
    if request.method == "GET":
        form.members[0].form.kind.data = "adult"
        pad_members(form, 3)
    done = _handle(form)
    if done is not None:
        return done
    return render_template("families/form.html", form=form, family=None, max_rows=MAX_ROWS)


def _get(family_id: uuid.UUID):
    family = svc.get_family(family_id)
    if family is None or family.pseudonymised_at is not None:
        abort(404)
    return family


@bp.route("/<uuid:family_id>")
@role_required(*REGISTRY_ROLES)
def detail(family_id: uuid.UUID):
    """A family's record; every view is written to the read-access log."""
    family = _get(family_id)
    svc.record_view(family, current_user, "detail")
    status_form = StatusForm(status=family.status)
    status_form.status.choices = choices([(s, STATUS_LABELS[s]) for s in svc.STATUSES])
    health = family.health_note if current_user.role == CASEWORKER else None
    return render_template("families/detail.html", family=family, health=health, status_form=status_form,
                           routes=svc.ROUTE_LABELS, languages=svc.LANGUAGES, profile=profile.matching_profile(family))


@bp.route("/<uuid:family_id>/profile")
@role_required(*STAFF)
def profile_page(family_id: uuid.UUID):
    """The family's matching profile: what a coordinator needs to act, without names or health details."""
    family = _get(family_id)
    profile.record_view(family, current_user)
    return render_template("families/profile.html", p=profile.matching_profile(family))


@bp.route("/waiting")
@role_required(*STAFF)
def waiting():
    """Families waiting longer than a number of days (14 unless asked), by their matching profiles; audited."""
    try:
        days = min(max(int(request.args.get("days", profile.LONG_WAIT_DAYS)), 0), 3650)
    except ValueError:
        days = profile.LONG_WAIT_DAYS
    page = profile.waiting_page(days, page_arg(), current_user)
    return render_template("families/waiting.html", page=page, days=days)


@bp.route("/<uuid:family_id>/edit", methods=["GET", "POST"])
@role_required(CASEWORKER)
def edit(family_id: uuid.UUID):
    """Change a family's details and members."""
    family = _get(family_id)
    if request.method == "GET":
        svc.record_view(family, current_user, "edit")
    form = FamilyForm()
    if request.method == "GET":
        _prefill(form, family)
        pad_members(form)
    done = _handle(form, family)
    if done is not None:
        return done
    return render_template("families/form.html", form=form, family=family, max_rows=MAX_ROWS)


@bp.route("/<uuid:family_id>/status", methods=["POST"])
@role_required(CASEWORKER)
def set_status(family_id: uuid.UUID):
    """Move a family to another status."""
    family = _get(family_id)
    form = StatusForm()
    form.status.choices = choices([(s, STATUS_LABELS[s]) for s in svc.STATUSES])
    if form.validate_on_submit():
        svc.set_status(family, form.status.data, current_user)
        flash(_("The status is now: %(status)s.", status=STATUS_LABELS[form.status.data]), "success")
    else:
        flash(_("Choose a status."), "error")
    return redirect(url_for("families.detail", family_id=family.id))


@bp.route("/import", methods=["GET", "POST"])
@role_required(CASEWORKER)
def import_():
    """Bulk import of families from CSV: all or nothing, every bad row listed."""
    form = FamilyImportForm()
    result = None
    if form.validate_on_submit():
        allow = bool(form.allow_duplicates.data)
        result = imports.import_upload(
            form.file.data,
            lambda data, user: imports.import_families(data, user, allow_duplicates=allow),
            current_user,
            UPLOAD_LIMIT,
        )
        if result.ok:
            flash(_("Imported: %(families)s with %(persons)s in all.",
                    families=ngettext("%(num)d family", "%(num)d families", result.created),
                    persons=ngettext("%(num)d person", "%(num)d persons", result.persons)), "success")
            return redirect(url_for("families.index"))
    status = 422 if result is not None and not result.ok else 200
    return render_template("families/import.html", form=form, result=result), status
