"""Forms of the Plus 5 % pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange


class StartDrillForm(FlaskForm):
    """Start a drill: only the solver's time limit is chosen; the size comes from the settings."""

    time_limit_s = IntegerField(
        _l("Time limit (seconds)"),
        default=30,
        validators=[
            InputRequired(_l("Enter a time limit.")),
            NumberRange(min=5, max=600, message=_l("Between 5 and 600 seconds.")),
        ],
        description=_l("The solver stops after this long with the best plan found."),
    )
