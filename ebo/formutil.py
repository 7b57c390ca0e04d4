"""Form pieces shared by the blueprints: choices, checkboxes, dates, NUL-free text, uploads, new passwords."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    PasswordField,
    SelectChoice,
    SelectMultipleField,
    SubmitField,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, EqualTo, Length, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ebo.services import accounts


def choices(pairs) -> list[SelectChoice]:
    """Select choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class SubForm(Form):
    """A form nested in a FlaskForm (FormField, FieldList): WTForms' own messages in the user's language too.

    A plain ``wtforms.Form`` has no translations, so its validators would answer in English
    ("Number must be between 1900 and 2100.") on a Swedish page.
    """

    class Meta:
        def get_translations(self, form):
            """WTForms' messages in the current Flask-Babel locale, as FlaskForm has them."""
            return wtforms_translations


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for one list value (easier on phones and with screen readers than a multiple select).

    `invalid_message` is shown when a posted value is not among the choices.
    """

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, invalid_message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form):
        """Refuse values that are not among the choices, with this field's message."""
        if self.invalid_message is None:
            return super().pre_validate(form)
        values = {c.value if hasattr(c, "value") else c[0] for c in self.choices}
        if any(d not in values for d in self.data or []):
            raise StopValidation(self.invalid_message)


class DayField(DateField):
    """A date field (YYYY-MM-DD, as browsers send it) with a friendly error and a sane year range."""

    def process_formdata(self, valuelist):
        if not valuelist or not (valuelist[0] or "").strip():
            self.data = None
            return
        raw = valuelist[0].strip()
        try:
            value = dt.date.fromisoformat(raw) if len(raw) <= 10 else None
        except ValueError:
            value = None
        if value is None or not 2000 <= value.year <= 2100:
            self.data = None
            raise ValueError(_l("Enter a date as year-month-day, for example 2026-09-01."))
        self.data = value


def _string_fields(fields):
    for field in fields:
        if isinstance(field, FieldList):
            for entry in field.entries:
                yield from _string_fields(entry.form if isinstance(entry, FormField) else [entry])
        elif isinstance(field, FormField):
            yield from _string_fields(field.form)
        else:
            yield field


class NoNulMixin:
    """Refuse NUL characters in any text field (PostgreSQL cannot store them; they are never meant)."""

    def validate(self, extra_validators=None) -> bool:
        """Run the form's validation, then refuse text containing NUL."""
        ok = super().validate(extra_validators)
        for field in _string_fields(self):
            values = field.data if isinstance(field.data, list) else [field.data]
            if any(isinstance(v, str) and "\x00" in v for v in values):
                field.errors = [*field.errors, _l("The text contains a character that is not allowed.")]
                ok = False
        return ok


def new_password_fields(label=_l("New password"), missing=_l("Enter a new password."),
                        repeat_label=_l("Repeat the new password"),
                        repeat_missing=_l("Repeat the new password.")) -> tuple[UnboundField, UnboundField]:
    """A new password and its repetition, for a form's `new_password, confirm = new_password_fields()`.

    A function, not a mixin: fields are ordered as they are made, so the pair takes its place where the
    form's class body names it (the error summary lists a form's fields in that order).
    """
    new_password = PasswordField(
        label, validators=[DataRequired(missing), Length(max=accounts.PASSWORD_MAX)],
        description=_l("At least 8 characters. A few words in a row are easy to remember and hard to guess."),
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        repeat_label, validators=[DataRequired(repeat_missing),
                                  EqualTo("new_password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"})
    return new_password, confirm


class NewPasswordMixin:
    """Checks a new password against the policy (length, common, context words)."""

    def validate_new_password(self, field):
        user = current_user if getattr(current_user, "is_authenticated", False) else None
        email = self.data.get("email") or (user.email if user else "")
        name = self.data.get("name") or (user.name if user else "")
        problem = accounts.password_problem(field.data or "", accounts.context_words(email, name))
        if problem:
            raise ValidationError(problem)


class ImportForm(FlaskForm):
    """Upload a CSV file."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a file."))])
    submit = SubmitField(_l("Import"))
