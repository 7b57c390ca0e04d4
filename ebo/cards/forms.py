"""Forms for welcome cards: issuing a card, the card actions, and the card partners."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ebo.cards.texts import NATIVE_NAMES
from ebo.formutil import choices
from ebo.models.card import CARD_LANGUAGES

PARTNER_KINDS = {
    "transport": _l("Public transport"), "library": _l("Library"), "museum": _l("Museum"),
    "course": _l("Course provider or adult education"), "other": _l("Other"),
}


class IssueCardForm(FlaskForm):
    """Issue a card to one family member."""

    first_name = StringField(_l("First name on the card"), validators=[
        DataRequired(_l("Enter the first name to print on the card.")), Length(max=80)])
    language = SelectField(_l("Language of the card"),
                           choices=choices([(c, NATIVE_NAMES[c]) for c in CARD_LANGUAGES]))
    valid_until = DateField(_l("Valid until"), validators=[Optional()],
                            description=_l("Leave empty for the default: the permit decision plus the grace "
                                           "period, or a set period while there is no decision."))
    photo = FileField(_l("Photo (optional)"),
                      description=_l("JPEG, PNG or WebP, at most 5 MB. It is stored encrypted and shown only "
                                     "to caseworkers and on the card."))
    submit = SubmitField(_l("Issue card"))


class CardActionForm(FlaskForm):
    """A card action button (suspend, resume, reissue, withdraw) with its CSRF token."""

    submit = SubmitField(_l("Confirm"))


class ReissueForm(FlaskForm):
    """Reissue a card after loss or with a new end date."""

    valid_until = DateField(_l("New end date (optional)"), validators=[Optional()],
                            description=_l("Leave empty to keep the current end date."))
    submit = SubmitField(_l("Reissue after loss"))


class PartnerForm(FlaskForm):
    """A card partner and what the card gives there."""

    name = StringField(_l("Partner"), validators=[DataRequired(_l("Enter the partner's name.")), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=choices(list(PARTNER_KINDS.items())))
    benefit = StringField(_l("What the card gives"), validators=[
        DataRequired(_l("Say what the card gives at this partner.")), Length(max=200)])
    position = IntegerField(_l("Order on the card"), default=0, validators=[Optional(), NumberRange(0, 999)])
    active = BooleanField(_l("Shown on the card"), default=True)
    submit = SubmitField(_l("Save partner"))
