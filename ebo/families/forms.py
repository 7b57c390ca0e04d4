"""Forms for a family and its members; member rows work without JavaScript (blank rows are ignored)."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError

from ebo import clock
from ebo.formutil import ImportForm, MultiCheckboxField, NoNulMixin, SubForm, choices
from ebo.services import families as svc

BLANK_ROWS = 2  # empty member rows offered under the filled ones
MAX_ROWS = svc.MAX_MEMBERS


class MemberForm(SubForm):
    """One member row; a row without a kind is ignored."""

    kind = SelectField(_l("Adult or child"), choices=choices(
        [("", _l("(empty row)")), ("adult", _l("Adult")), ("child", _l("Child"))]), default="")
    first_name = StringField(_l("First name"), validators=[Optional(), Length(max=80)],
                             render_kw={"autocomplete": "off"})
    birth_year = IntegerField(_l("Birth year"), validators=[
        Optional(), NumberRange(min=1900, max=2100, message=_l("Enter a birth year from 1900 to this year."))],
                              render_kw={"inputmode": "numeric"})
    school = SelectField(_l("School"), choices=[], default="", validate_choice=True)

    def check_row(self) -> bool:
        """Rules across the row's fields (run after the field validators)."""
        ok = True
        if self.kind.data == "child" and self.birth_year.data is None and not self.birth_year.errors:
            self.birth_year.errors.append(_l("Enter the child's birth year."))
            ok = False
        problem = None if self.birth_year.errors else svc.birth_year_problem(
            self.kind.data, self.birth_year.data, clock.today())
        if problem and self.kind.data:
            self.birth_year.errors.append(problem)
            ok = False
        if self.school.data and self.kind.data != "child" and not self.school.errors:
            self.school.errors.append(_l("Only children have a school."))
            ok = False
        return ok


class FamilyForm(NoNulMixin, FlaskForm):
    """A family: contact, route, date, needs, languages, members, optional dossier and health note."""

    contact_name = StringField(_l("Contact person"), validators=[DataRequired(_l("Enter the contact person's name.")),
                                                                  Length(max=120)],
                               render_kw={"autocomplete": "off"})
    contact_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)],
                                render_kw={"autocomplete": "off", "type": "tel"})
    contact_email = EmailField(_l("Email"), validators=[Optional(), Email(_l("Enter a valid email address.")),
                                                        Length(max=254)], render_kw={"autocomplete": "off"})
    dossier_number = StringField(_l("Dossier number (Migration Agency)"), validators=[Optional(), Length(max=20)],
                                 description=_l("Optional. 4 to 10 digits, optionally with one hyphen, "
                                                "as on the LMA card."),
                                 render_kw={"autocomplete": "off", "inputmode": "numeric"})
    route = SelectField(_l("Route of arrival"), choices=choices(list(svc.ROUTE_LABELS.items())))
    needed_from = DateField(_l("Housing needed from"), validators=[InputRequired(_l("Enter a date."))])
    languages = MultiCheckboxField(_l("Languages"), choices=choices(list(svc.LANGUAGES.items())),
                                   validate_choice=True)
    needs_step_free = BooleanField(_l("Needs step-free access (wheelchair)"))
    pet_allergy = BooleanField(_l("Allergic to pets"))
    needs_non_smoking = BooleanField(_l("Needs a smoke-free home"))
    members = FieldList(FormField(MemberForm), min_entries=1, max_entries=MAX_ROWS)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    health_note = TextAreaField(_l("Health note"), validators=[Optional(), Length(max=4000)],
                                description=_l("Optional. Kept apart and shown to caseworkers only."))
    add_row = SubmitField(_l("Add another member row"))
    submit = SubmitField(_l("Save family"))

    def validate(self, extra_validators=None) -> bool:
        """Validate the fields, then each member row as a whole."""
        ok = super().validate(extra_validators)
        for entry in self.members:
            ok = entry.form.check_row() and ok
        return ok

    def validate_needed_from(self, field):
        problem = svc.needed_from_problem(field.data, clock.today())
        if problem:
            raise ValidationError(problem)

    def validate_dossier_number(self, field):
        value = svc.normalise_dossier(field.data)
        if value and not svc.dossier_format_ok(value):
            raise ValidationError(_l("A dossier number has 4 to 10 digits, optionally with one hyphen "
                                     "(for example 1234-5678)."))

    def set_school_choices(self, pairs) -> None:
        """Offer the registry's schools in every member row."""
        options = choices([("", _l("No school")), *pairs])
        for entry in self.members:
            entry.form.school.choices = options

    def filled_members(self) -> list[svc.MemberData]:
        """The member rows that were filled in, as service data."""
        out = []
        for entry in self.members:
            f = entry.form
            if not f.kind.data:
                continue
            school_id = uuid.UUID(f.school.data) if f.kind.data == "child" and f.school.data else None
            out.append(svc.MemberData(f.kind.data, (f.first_name.data or "").strip() or None, f.birth_year.data,
                                      school_id))
        return out

    def to_data(self) -> svc.FamilyData:
        """The family as service data."""
        return svc.FamilyData(
            contact_name=self.contact_name.data.strip(), needed_from=self.needed_from.data, route=self.route.data,
            dossier_number=svc.normalise_dossier(self.dossier_number.data),
            contact_phone=(self.contact_phone.data or "").strip() or None,
            contact_email=(self.contact_email.data or "").strip() or None,
            languages=list(self.languages.data or []), needs_step_free=self.needs_step_free.data,
            pet_allergy=self.pet_allergy.data, needs_non_smoking=self.needs_non_smoking.data,
            notes=(self.notes.data or "").strip() or None, members=self.filled_members())


def pad_members(form: FamilyForm, extra: int = BLANK_ROWS) -> None:
    """Add empty member rows (up to the maximum) so a new person can be typed in without JavaScript."""
    for _ in range(extra):
        if len(form.members) >= MAX_ROWS:
            break
        form.members.append_entry()


class StatusForm(FlaskForm):
    """Move a family to another status."""

    status = SelectField(_l("Status"), choices=[])
    submit = SubmitField(_l("Change status"))


class FamilyImportForm(ImportForm):
    """Upload a family file; after a duplicate warning, the user may confirm the import anyway."""

    allow_duplicates = BooleanField(_l("I have checked: these are other families; import them anyway"))
