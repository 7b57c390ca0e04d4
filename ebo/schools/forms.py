"""Forms for schools: one school by hand, or a CSV file of Skolverket's register."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ebo.formutil import NoNulMixin
from ebo.models.geo import SWEDEN_LAT, SWEDEN_LON


class SchoolForm(NoNulMixin, FlaskForm):
    """A school unit."""

    code = StringField(_l("School-unit code (skolenhetskod)"), validators=[DataRequired(_l("Enter the 8-digit code.")),
                                                        Regexp(r"^\d{8}$", message=_l("A skolenhetskod has "
                                                                                      "exactly 8 digits."))],
                       description=_l("8 digits, from Skolverket's school-unit register."),
                       render_kw={"inputmode": "numeric", "autocomplete": "off"})
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the school's name.")), Length(max=200)])
    street = StringField(_l("Street address"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Regexp(r"^\s*\d{3}\s?\d{2}\s*$",
                                                                               message=_l("A postal code has "
                                                                                          "5 digits."))])
    town = StringField(_l("Town"), validators=[Optional(), Length(max=100)])
    municipality_code = StringField(_l("Municipality code"), validators=[Optional(), Regexp(
        r"^\d{4}$", message=_l("A municipality code has 4 digits."))])
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(min=SWEDEN_LAT[0], max=SWEDEN_LAT[1])],
                     description=_l("Decimal degrees (WGS 84), for example 59.3293."))
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(min=SWEDEN_LON[0], max=SWEDEN_LON[1])],
                     description=_l("Decimal degrees (WGS 84), for example 18.0686."))
    active = BooleanField(_l("Active school"), default=True)
    submit = SubmitField(_l("Save school"))
