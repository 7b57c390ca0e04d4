"""Coordinator forms: record a home visit, approve or reject a host."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ebo import clock
from ebo.formutil import DayField, choices

NOTES_MAX = 4000


class VisitForm(FlaskForm):
    """A home visit: when, by whom, the outcome and notes."""

    visited_on = DayField(_l("Date of the visit"), validators=[InputRequired(_l("Enter the date of the visit."))])
    visited_by = StringField(
        _l("Visited by"),
        validators=[
            DataRequired(_l("Enter who made the visit.")),
            Length(max=120, message=_l("Use at most 120 characters.")),
        ],
        render_kw={"maxlength": 120},
    )
    outcome = RadioField(
        _l("Outcome"),
        choices=choices(
            [
                ("approved", _l("Suitable")),
                ("rejected", _l("Not suitable")),
                ("revisit", _l("Needs another visit")),
            ]
        ),
        validators=[InputRequired(_l("Choose an outcome."))],
    )
    notes = TextAreaField(
        _l("Notes"),
        validators=[
            Optional(),
            Length(max=NOTES_MAX, message=_l("Use at most %(n)d characters.", n=NOTES_MAX)),
        ],
        description=_l("Facts about the home. The host can read these notes when they download their data."),
        render_kw={"maxlength": NOTES_MAX, "rows": 4},
    )
    submit = SubmitField(_l("Record the visit"))

    def validate_visited_on(self, field):
        if field.data and field.data > clock.today():
            raise ValidationError(_l("The visit date cannot be in the future."))


class DecisionForm(FlaskForm):
    """Approve or reject a host."""

    decision = RadioField(
        _l("Decision"),
        choices=choices([("approve", _l("Approve the host")), ("reject", _l("Reject the host"))]),
        validators=[InputRequired(_l("Choose approve or reject."))],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[Length(max=NOTES_MAX, message=_l("Use at most %(n)d characters.", n=NOTES_MAX))],
        description=_l("Required when rejecting. The host can read it when they download their data."),
        render_kw={"maxlength": NOTES_MAX, "rows": 3},
    )
    submit = SubmitField(_l("Save the decision"))

    def validate_reason(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Give the reason for the rejection."))
