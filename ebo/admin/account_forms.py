"""Forms for invitations and second-factor resets (admins only; each asks for the admin's own password)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from ebo.admin.forms import STAFF_ROLE_CHOICES, FreshAuthMixin, _your_password
from ebo.formutil import choices


class InviteForm(FreshAuthMixin, FlaskForm):
    """Invite a staff member by email; they choose their own password."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=120)],
                       render_kw={"autocomplete": "off"})
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter an email address.")),
                                                Email(_l("Enter a valid email address.")),
                                                Length(max=254)])
    role = SelectField(_l("Role"), choices=choices(STAFF_ROLE_CHOICES))
    your_password = _your_password()
    submit = SubmitField(_l("Send invitation"))


class ConfirmActionForm(FreshAuthMixin, FlaskForm):
    """An admin action on someone's account, confirmed with the admin's own password."""

    your_password = _your_password()
    submit = SubmitField(_l("Confirm"))
