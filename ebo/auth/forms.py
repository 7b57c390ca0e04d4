"""Login, language and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ebo.formutil import NewPasswordMixin, choices
from ebo.services import accounts


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                Length(max=254, message=_l("The email address is too long."))],
                       render_kw={"autocomplete": "username", "inputmode": "email"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                        Length(max=accounts.PASSWORD_MAX)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class LanguageForm(FlaskForm):
    """Switch the interface language."""

    lang = SelectField(_l("Language"), choices=choices([("sv", "Svenska"), ("en", "English")]))
    next = HiddenField()
    submit = SubmitField(_l("Change language"))


class PasswordChangeForm(NewPasswordMixin, FlaskForm):
    """Change one's own password (needs the current one)."""

    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Enter your current password.")),
                                                 Length(max=accounts.PASSWORD_MAX)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=accounts.PASSWORD_MAX)],
        description=_l("At least 8 characters. A few words in a row are easy to remember and hard to guess."),
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(_l("Repeat the new password.")),
                                        EqualTo("new_password", _l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change password"))

    def validate_current_password(self, field):
        if not accounts.verify_password(current_user, field.data or ""):
            raise ValidationError(_l("That is not your current password."))


class PreferencesForm(FlaskForm):
    """The user's preferred language."""

    locale = SelectField(_l("Preferred language"), choices=choices([("sv", "Svenska"), ("en", "English")]))
    submit = SubmitField(_l("Save preferences"))


__all__ = ["LoginForm", "LanguageForm", "PasswordChangeForm", "PreferencesForm", "Email"]
