"""Forms for ending a placement, recording a follow-up visit, a permit decision and confirming an export."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, PasswordField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ebo.formutil import choices
from ebo.services import accounts

END_REASONS = [("moved_on", _l("Moved on")),
               ("permit_stayed", _l("Residence permit, stays on as tenant")),
               ("ended_by_host", _l("Ended by the host")),
               ("ended_by_family", _l("Ended by the family")),
               ("other", _l("Other"))]
PERMIT_DECISIONS = [("granted", _l("Granted")), ("refused", _l("Refused"))]


class EndPlacementForm(FlaskForm):
    """End a placement with a date and a reason."""

    end_date = DateField(_l("Last day of the placement"), validators=[DataRequired(_l("Enter a date."))])
    reason = SelectField(_l("Reason"), choices=choices(END_REASONS),
                         validators=[DataRequired(_l("Choose a reason."))])
    still_needs_housing = BooleanField(_l("The family still needs housing (it returns to the waiting list)"))
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)],
                         description=_l("Keep to facts; no health details."))
    submit = SubmitField(_l("End the placement"))

    def __init__(self, *args, start_date=None, today=None, **kwargs):
        """Remember the placement's start and today's date for the date checks."""
        super().__init__(*args, **kwargs)
        self._start, self._today = start_date, today

    def validate_end_date(self, field):
        """The end is not before the start nor in the future."""
        if self._start and field.data and field.data < self._start:
            raise ValidationError(_l("The placement cannot end before it started."))
        if self._today and field.data and field.data > self._today:
            raise ValidationError(_l("The date cannot be in the future."))


class FollowUpForm(FlaskForm):
    """Record a planned follow-up visit as done."""

    planned_on = SelectField(_l("Planned visit"), validators=[DataRequired(_l("Choose the planned visit."))])
    done_on = DateField(_l("Date of the visit"), validators=[DataRequired(_l("Enter a date."))])
    notes = TextAreaField(_l("Notes (optional)"), validators=[Optional(), Length(max=2000)],
                          description=_l("Keep to facts; no health details."))
    submit = SubmitField(_l("Record the visit"))

    def __init__(self, *args, start_date=None, today=None, **kwargs):
        """Remember the placement's start and today's date for the date checks."""
        super().__init__(*args, **kwargs)
        self._start, self._today = start_date, today

    def validate_done_on(self, field):
        """The visit lies between the start of the placement and today."""
        if self._start and field.data and field.data < self._start:
            raise ValidationError(_l("The visit cannot be before the placement started."))
        if self._today and field.data and field.data > self._today:
            raise ValidationError(_l("The date cannot be in the future."))


class PermitForm(FlaskForm):
    """Record a residence-permit decision."""

    decision = SelectField(_l("Decision"), choices=choices(PERMIT_DECISIONS),
                           validators=[DataRequired(_l("Choose the decision."))])
    decided_on = DateField(_l("Date of the decision"), validators=[DataRequired(_l("Enter a date."))])
    submit = SubmitField(_l("Record the decision"))


class ExportForm(FlaskForm):
    """Confirm an export with one's own password (re-authentication for exports, docs/security.md S10)."""

    your_password = PasswordField(_l("Your own password, to confirm"),
                                  validators=[DataRequired(_l("Enter your own password to confirm.")),
                                              Length(max=accounts.PASSWORD_MAX)],
                                  render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Download CSV"))

    def validate_your_password(self, field):
        """The password is the current user's."""
        if not accounts.verify_password(current_user, field.data or ""):
            raise ValidationError(_l("That is not your password."))

ROUTE_LABELS = {"anvisning": _l("Assigned by the Migration Agency"),
                "asylum_ebo": _l("Asylum seeker, own housing"),
                "resident": _l("Already living here"), "other": _l("Other route")}
SORT_LABELS = {"start": _l("Start date"), "end": _l("End date"), "family": _l("Family"),
               "persons": _l("Persons"), "area": _l("Postal code"), "last_visit": _l("Last follow-up")}
STATUS_FILTER_LABELS = {"active": _l("Active"), "ended": _l("Ended"), "all": _l("All")}
