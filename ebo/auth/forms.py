"""Login, language and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from ebo.formutil import NewPasswordMixin, choices, new_password_fields
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
    new_password, confirm = new_password_fields()
    submit = SubmitField(_l("Change password"))

    def validate_current_password(self, field):
        if not accounts.verify_password(current_user, field.data or ""):
            raise ValidationError(_l("That is not your current password."))


class PreferencesForm(FlaskForm):
    """The user's preferred language."""

    locale = SelectField(_l("Preferred language"), choices=choices([("sv", "Svenska"), ("en", "English")]))
    submit = SubmitField(_l("Save preferences"))




class ForgotPasswordForm(FlaskForm):
    """Ask for a link to choose a new password."""

    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                Length(max=254, message=_l("The email address is too long.")),
                                                Email(_l("Enter a valid email address, for example name@example.se."))],
                       render_kw={"autocomplete": "username", "inputmode": "email"})
    submit = SubmitField(_l("Send the link"))


class SetPasswordForm(FlaskForm):
    """Choose a password through an emailed link (reset or invitation); `context` holds the account's words."""

    new_password, confirm = new_password_fields()
    submit = SubmitField(_l("Save the password"))
    context: tuple[str, ...] = ()

    def validate_new_password(self, field):
        problem = accounts.password_problem(field.data or "", self.context)
        if problem:
            raise ValidationError(problem)


class CodeForm(FlaskForm):
    """A second-factor code: six digits from the app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=20)],
                       description=_l("The six digits your authenticator app shows now, "
                                      "or one of your recovery codes."),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off",
                                  "spellcheck": "false"})
    next = HiddenField()
    submit = SubmitField(_l("Continue"))


class EnrolForm(FlaskForm):
    """Confirm a new authenticator app with its first code."""

    code = StringField(_l("Code from the app"), validators=[DataRequired(_l("Enter the code.")), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Turn on two-step login"))


class MfaOffForm(FlaskForm):
    """Turn off the second factor (hosts, and staff where it is not required): password and a code."""

    password = PasswordField(_l("Your password, to confirm"),
                             validators=[DataRequired(_l("Enter your password to confirm.")),
                                         Length(max=accounts.PASSWORD_MAX)],
                             render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code"})
    submit = SubmitField(_l("Turn off two-step login"))

    def validate_password(self, field):
        if not accounts.verify_password(current_user, field.data or ""):
            raise ValidationError(_l("That is not your password."))


class RecoveryCodesForm(FlaskForm):
    """Make new recovery codes (the old ones stop working); needs a code."""

    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code"})
    submit = SubmitField(_l("Make new recovery codes"))


class EmailChangeForm(FlaskForm):
    """Change one's email address: confirmed through a link to the new address."""

    new_email = EmailField(_l("New email address"),
                           validators=[DataRequired(_l("Enter your email address.")),
                                       Length(max=254, message=_l("The email address is too long.")),
                                       Email(_l("Enter a valid email address, for example name@example.se."))],
                           render_kw={"autocomplete": "email", "inputmode": "email"})
    password = PasswordField(_l("Your password, to confirm"),
                             validators=[DataRequired(_l("Enter your password to confirm.")),
                                         Length(max=accounts.PASSWORD_MAX)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Change email address"))

    def validate_password(self, field):
        if not accounts.verify_password(current_user, field.data or ""):
            raise ValidationError(_l("That is not your password."))


class ResendForm(FlaskForm):
    """Send the confirmation link again."""

    submit = SubmitField(_l("Send again"))
