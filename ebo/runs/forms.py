"""Forms of the matching pages: start a run, act on proposals, move, record an answer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ebo.formutil import choices


class StartRunForm(FlaskForm):
    """The parameters of a run."""

    max_school_km = FloatField(
        _l("Maximum distance to school (km)"),
        validators=[
            InputRequired(_l("Enter a distance.")),
            NumberRange(min=0.5, max=100, message=_l("Between 0.5 and 100 km.")),
        ],
    )
    families_per_host = IntegerField(
        _l("Families per host"),
        default=1,
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(min=1, max=5, message=_l("Between 1 and 5.")),
        ],
        description=_l("At most this many families with one host (never more than the host offered)."),
    )
    time_limit_s = IntegerField(
        _l("Time limit (seconds)"),
        default=60,
        validators=[
            InputRequired(_l("Enter a time limit.")),
            NumberRange(min=5, max=600, message=_l("Between 5 and 600 seconds.")),
        ],
        description=_l("The solver stops after this long with the best plan found."),
    )
    submit = SubmitField(_l("Start the run"))


class ActionForm(FlaskForm):
    """A CSRF-protected button (approve, confirm, send, bulk approve)."""


class RejectForm(FlaskForm):
    """Reject a proposal, with an optional note."""

    note = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])


class MoveForm(FlaskForm):
    """Move a family to another host or unit."""

    target = SelectField(_l("New host or unit"), validators=[DataRequired(_l("Choose a host or a unit."))])
    submit = SubmitField(_l("Check the rules and move"))

    def set_targets(self, hosts, units, label, unit_label) -> None:
        """Offer the nearest hosts (with distance) and the units."""
        pairs = [("", _l("Choose…"))]
        pairs += [(f"h:{h.id}", label(h, km)) for h, km in hosts]
        pairs += [(f"u:{u.id}", unit_label(u)) for u in units]
        self.target.choices = choices(pairs)


class AnswerForm(FlaskForm):
    """A host's answer, recorded by a coordinator."""

    answer = RadioField(_l("The host's answer"), validators=[InputRequired(_l("Choose an answer."))])
    reason = TextAreaField(_l("Reason for declining (optional)"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Record the answer"))

    def __init__(self, *args, **kwargs):
        """Set the answer choices."""
        super().__init__(*args, **kwargs)
        self.answer.choices = choices([("accept", _l("Accepted")), ("decline", _l("Declined"))])
