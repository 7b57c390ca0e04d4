"""Host forms: registration (account + household), editing the offer, answers, my data.

Every form binds only its declared fields; role, vetting status or state can never be posted in.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (  # noqa: I001
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ebo import clock
from ebo.extensions import db
from ebo.formutil import DayField, MultiCheckboxField, NewPasswordMixin, choices, new_password_fields
from ebo.models import User
from ebo.services import accounts
from ebo.services.hosts import LANGUAGES, OFFER_FIELDS
from ebo.services.postal import normalise_phone, normalise_postal_code

FREE_TEXT_MAX = 2000
REASON_MAX = 1000


class WholeNumberField(IntegerField):
    """An integer field whose parse error is a translatable, friendly message."""

    def process_formdata(self, valuelist):
        if not valuelist or not (valuelist[0] or "").strip():
            self.data = None
            return
        raw = valuelist[0].strip()
        if len(raw) > 6 or not raw.lstrip("-").isdigit():
            self.data = None
            raise ValueError(_l("Enter a whole number, for example 2."))
        self.data = int(raw)


def _int(label, low, high, hint=None, required=True):
    message = _l("Enter a number from %(low)d to %(high)d.", low=low, high=high)
    return WholeNumberField(
        label,
        description=hint,
        validators=[InputRequired(message) if required else Optional(), NumberRange(low, high, message)],
        render_kw={"inputmode": "numeric", "min": low, "max": high},
    )


class OfferForm(FlaskForm):
    """The household and what the home offers (registration and edit)."""

    contact_name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=120, message=_l("Use at most 120 characters.")),
        ],
        render_kw={"autocomplete": "name", "maxlength": 120},
    )
    phone = TelField(
        _l("Phone"),
        description=_l("A Swedish number, for example 070-123 45 67."),
        validators=[DataRequired(_l("Enter your phone number."))],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 40},
    )
    street = StringField(
        _l("Street address"),
        validators=[
            DataRequired(_l("Enter your street address.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
        ],
        render_kw={"autocomplete": "address-line1", "maxlength": 200},
    )
    postal_code = StringField(
        _l("Postal code"),
        description=_l("Five digits, for example 123 45."),
        validators=[DataRequired(_l("Enter your postal code."))],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": 8},
    )
    town = StringField(
        _l("Town"),
        validators=[
            DataRequired(_l("Enter your town.")),
            Length(max=100, message=_l("Use at most 100 characters.")),
        ],
        render_kw={"autocomplete": "address-level2", "maxlength": 100},
    )
    adults_living = _int(_l("Adults living in the home"), 0, 20, _l("Including yourself."))
    children_living = _int(_l("Children living in the home"), 0, 20)
    beds = _int(_l("Beds you offer"), 1, 20)
    rooms = _int(_l("Rooms you offer"), 1, 20)
    max_families = RadioField(
        _l("How many families could you take at the same time?"),
        choices=choices(
            [
                (1, _l("One family")),
                (2, _l("Two families at the same time, if they fit in the beds I offer")),
                (3, _l("Three families at the same time, if they fit in the beds I offer")),
            ]
        ),
        coerce=int,
        default=1,  # a form sent without the question (an older page) keeps one family
        validate_choice=True,
        invalid_value_message=_l("Choose one, two or three families."),
        invalid_choice_message=_l("Choose one, two or three families."),
        description=_l(
            "Two small families can sometimes share a larger home, for example a parent with a child in "
            "each room. We never propose more people than the beds you offer."
        ),
    )
    accepts_children = BooleanField(_l("Children are welcome"), default=True)
    step_free = BooleanField(_l("The home can be reached without steps (step-free)"))
    has_pets = BooleanField(_l("There are pets in the home"))
    smoking = BooleanField(_l("Someone smokes indoors"))
    languages = MultiCheckboxField(
        _l("Languages spoken in the home"),
        choices=choices(LANGUAGES),
        validators=[DataRequired(_l("Choose at least one language."))],
        invalid_message=_l("Choose languages from the list."),
    )
    available_from = DayField(
        _l("Available from"), validators=[Optional()], description=_l("Leave empty if the room is free now.")
    )
    available_until = DayField(
        _l("Available until"), validators=[Optional()], description=_l("Leave empty if there is no end date.")
    )
    open_to_long_term_rental = BooleanField(_l("I could rent to the family for longer if they get a residence permit"))
    free_text = TextAreaField(
        _l("Anything else we should know"),
        validators=[
            Optional(),
            Length(max=FREE_TEXT_MAX, message=_l("Use at most %(n)d characters.", n=FREE_TEXT_MAX)),
        ],
        description=_l(
            "For example the kind of room, the neighbourhood, or when you are away. "
            "Please do not write about anyone's health."
        ),
        render_kw={"maxlength": FREE_TEXT_MAX, "rows": 4},
    )

    def validate_phone(self, field):
        normal = normalise_phone(field.data)
        if normal is None:
            raise ValidationError(_l("Enter a Swedish phone number (starting with 0 or +46), 8 to 15 digits."))
        field.data = normal

    def validate_postal_code(self, field):
        normal = normalise_postal_code(field.data)
        if normal is None:
            raise ValidationError(_l("Enter a Swedish postal code: five digits, for example 123 45."))
        field.data = normal

    def validate_available_until(self, field):
        if field.data is None:
            return
        if self.available_from.data and field.data <= self.available_from.data:
            raise ValidationError(_l("The end date must come after the start date."))
        if field.data < clock.today():
            raise ValidationError(_l("The end date has already passed."))

    def offer_data(self) -> dict:
        """The declared offer fields as a dict for the service."""

        return {name: self[name].data for name in OFFER_FIELDS}


class RegistrationForm(NewPasswordMixin, OfferForm):
    """A new host: account and household in one form."""

    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("The email address is too long.")),
            Email(_l("Enter a valid email address, for example name@example.se.")),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email", "maxlength": 254},
    )
    new_password, confirm = new_password_fields(_l("Choose a password"), _l("Choose a password."),
                                                 _l("Repeat the password"), _l("Repeat the password."))
    consent = BooleanField(
        _l(
            "I agree that the municipality and its coordinators store these details to find a family "
            "for my home, contact me and follow up the stay."
        ),
        description=_l("You can download or erase your data at any time under “My data”."),
        validators=[DataRequired(_l("You need to agree before we can store your offer."))],
    )
    form_token = HiddenField()
    submit = SubmitField(_l("Send my offer"))

    email_taken = False

    @property
    def data(self):  # NewPasswordMixin reads "name" for its context words
        values = super().data
        values.setdefault("name", values.get("contact_name") or "")
        return values

    def validate_email(self, field):
        email = (field.data or "").strip().lower()
        # No error: a taken address answers like a new one (no account enumeration, docs/security-accounts.md).
        self.email_taken = db.session.scalar(sa.select(User.id).where(User.email == email)) is not None


class EditOfferForm(OfferForm):
    """Change the offer."""

    submit = SubmitField(_l("Save changes"))


class ActionForm(FlaskForm):
    """A button that changes state (CSRF-protected POST)."""

    submit = SubmitField(_l("Confirm"))


class AnswerForm(FlaskForm):
    """Accept or decline a proposal."""

    answer = RadioField(
        _l("Your answer"),
        choices=choices([("accept", _l("Yes, the family is welcome")), ("decline", _l("No, not this time"))]),
        validators=[InputRequired(_l("Choose yes or no."))],
    )
    reason = TextAreaField(
        _l("Why not? (if you say no)"),
        validators=[Length(max=REASON_MAX, message=_l("Use at most %(n)d characters.", n=REASON_MAX))],
        description=_l("It helps the coordinators propose a better fit next time."),
        render_kw={"maxlength": REASON_MAX, "rows": 3},
    )
    submit = SubmitField(_l("Send my answer"))

    def validate_reason(self, field):
        if self.answer.data == "decline" and not (field.data or "").strip():
            raise ValidationError(_l("Tell us briefly why, so we can propose a better fit."))


class PasswordConfirmForm(FlaskForm):
    """Confirm with the current password (export and erasure need a fresh authentication)."""

    password = PasswordField(
        _l("Your password, to confirm"),
        validators=[DataRequired(_l("Enter your password to confirm.")), Length(max=accounts.PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Confirm"))

    def validate_password(self, field):
        if not accounts.verify_password(current_user, field.data or ""):
            raise ValidationError(_l("That is not your password."))
