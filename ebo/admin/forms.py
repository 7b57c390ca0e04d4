"""Forms for staff accounts (admins only); every change asks for the admin's own password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from ebo.formutil import NewPasswordMixin, choices
from ebo.permissions import ADMIN, CASEWORKER, COORDINATOR, HOST
from ebo.services import accounts

STAFF_ROLE_CHOICES = [(COORDINATOR, _l("Coordinator (civil society)")),
                      (CASEWORKER, _l("Caseworker (social services)")),
                      (ADMIN, _l("Administrator (municipality)"))]
ALL_ROLE_CHOICES = [(HOST, _l("Host (resident)")), *STAFF_ROLE_CHOICES]


class FreshAuthMixin:
    """The admin confirms with their own password (fresh login for role changes)."""

    def validate_your_password(self, field):
        if not accounts.verify_password(current_user, field.data or ""):
            raise ValidationError(_l("That is not your password."))


def _your_password():
    return PasswordField(_l("Your own password, to confirm"),
                         validators=[DataRequired(_l("Enter your own password to confirm.")),
                                     Length(max=accounts.PASSWORD_MAX)],
                         render_kw={"autocomplete": "current-password"})


class StaffUserForm(NewPasswordMixin, FreshAuthMixin, FlaskForm):
    """Create a staff account."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=120)],
                       render_kw={"autocomplete": "off"})
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter an email address.")),
                                                Email(_l("Enter a valid email address.")),
                                                Length(max=254)])
    role = SelectField(_l("Role"), choices=choices(STAFF_ROLE_CHOICES))
    new_password = PasswordField(_l("First password"),
                                 validators=[DataRequired(_l("Enter a first password.")),
                                             Length(max=accounts.PASSWORD_MAX)],
                                 description=_l("Give it to the person in a safe way; "
                                                "they should change it when they first log in."),
                                 render_kw={"autocomplete": "new-password"})
    your_password = _your_password()
    submit = SubmitField(_l("Create account"))


class UserChangeForm(FreshAuthMixin, FlaskForm):
    """Change a user's role or deactivate the account."""

    role = SelectField(_l("Role"), choices=choices(ALL_ROLE_CHOICES))
    active = SelectField(_l("Account"), choices=choices([("1", _l("Active")), ("0", _l("Deactivated"))]))
    your_password = _your_password()
    submit = SubmitField(_l("Save changes"))
