"""Municipality settings (admins) and the address table for the offline geocoder (admins, caseworkers)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ebo.admin.blueprint import bp
from ebo.extensions import db
from ebo.formutil import ImportForm, NoNulMixin
from ebo.models import AddressPoint
from ebo.permissions import ADMIN, REGISTRY_ROLES, role_required
from ebo.services import imports
from ebo.services import settings as svc

UPLOAD_LIMIT = 8 * 1024 * 1024


class SettingsForm(NoNulMixin, FlaskForm):
    """The municipality's figures and defaults."""

    name = StringField(_l("Municipality"), validators=[DataRequired(_l("Enter the municipality's name.")),
                                                       Length(max=120)])
    population = IntegerField(_l("Population"), validators=[InputRequired(_l("Enter the population.")),
                                                           NumberRange(min=0, max=20_000_000)])
    households = IntegerField(_l("Households"), validators=[InputRequired(_l("Enter the number of households.")),
                                                           NumberRange(min=0, max=10_000_000)])
    target_percent = FloatField(_l("Plus 5 % target (percent of the population)"),
                                validators=[InputRequired(_l("Enter a percentage.")),
                                            NumberRange(min=0.1, max=100)],
                                description=_l("The national planning figure is 5."))
    default_max_school_km = FloatField(_l("Default maximum school distance (km)"),
                                       validators=[InputRequired(_l("Enter a distance.")),
                                                   NumberRange(min=0.1, max=200)])
    retention_months = IntegerField(_l("Keep personal data for (months)"),
                                    validators=[InputRequired(_l("Enter a number of months.")),
                                                NumberRange(min=1, max=240)],
                                    description=_l("After this, closed records are pseudonymised."))
    reconfirm_months = IntegerField(_l("Hosts reconfirm their offer every (months)"),
                                    validators=[InputRequired(_l("Enter a number of months.")),
                                                NumberRange(min=1, max=60)])
    submit = SubmitField(_l("Save settings"))


@bp.route("/settings", methods=["GET", "POST"])
@role_required(ADMIN)
def settings():
    """Edit the municipality's name, population, households, target percentage and defaults."""
    row = svc.current()
    form = SettingsForm(obj=row)
    if form.validate_on_submit():
        changed = svc.update({name: getattr(form, name).data for name in svc.FIELDS}, current_user)
        flash(_("The settings were saved.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form, row=row)


@bp.route("/addresses", methods=["GET", "POST"])
@role_required(*REGISTRY_ROLES)
def addresses():
    """Import the address table (postal code, street, town, coordinates) used to place addresses offline."""
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        result = imports.import_upload(form.file.data, imports.import_addresses, current_user, UPLOAD_LIMIT)
        if result.ok:
            flash(_("%(created)d address points were added and %(updated)d updated.", created=result.created,
                    updated=result.updated), "success")
            return redirect(url_for("admin.addresses"))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AddressPoint))
    status = 422 if result is not None and not result.ok else 200
    return render_template("admin/addresses.html", form=form, result=result, total=total), status
