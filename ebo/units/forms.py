"""The form for a municipal housing unit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ebo.formutil import NoNulMixin
from ebo.models.geo import SWEDEN_LAT, SWEDEN_LON


class UnitForm(NoNulMixin, FlaskForm):
    """A housing unit: name, address, coordinates, beds, step-free."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=120)])
    street = StringField(_l("Street address"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Regexp(
        r"^\s*\d{3}\s?\d{2}\s*$", message=_l("A postal code has 5 digits."))])
    town = StringField(_l("Town"), validators=[Optional(), Length(max=100)])
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(min=SWEDEN_LAT[0], max=SWEDEN_LAT[1])],
                     description=_l("Leave blank to take it from the address table."))
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(min=SWEDEN_LON[0], max=SWEDEN_LON[1])])
    beds = IntegerField(_l("Beds"), validators=[InputRequired(_l("Enter the number of beds.")),
                                                NumberRange(min=0, max=10000)])
    step_free = BooleanField(_l("Step-free access"))
    active = BooleanField(_l("In use"), default=True)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Save unit"))
