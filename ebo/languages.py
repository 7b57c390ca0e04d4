"""The one list of languages that hosts and families choose from, so that matching compares like with like."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# ISO 639 codes; "bs" stands for Bosnian, Croatian or Serbian together.
LANGUAGE_NAMES: dict[str, object] = {
    "sv": _l("Swedish"), "en": _l("English"), "ar": _l("Arabic"), "uk": _l("Ukrainian"), "ru": _l("Russian"),
    "fa": _l("Persian (Farsi)"), "prs": _l("Dari"), "ps": _l("Pashto"), "ku": _l("Kurdish"), "so": _l("Somali"),
    "ti": _l("Tigrinya"), "am": _l("Amharic"), "tr": _l("Turkish"), "fr": _l("French"), "es": _l("Spanish"),
    "de": _l("German"), "pl": _l("Polish"), "bs": _l("Bosnian / Croatian / Serbian"), "sq": _l("Albanian"),
    "ur": _l("Urdu"), "hi": _l("Hindi"), "bn": _l("Bengali"), "uz": _l("Uzbek"), "zh": _l("Chinese"),
    "vi": _l("Vietnamese"), "th": _l("Thai"),
}
LANGUAGE_CHOICES: list[tuple[str, object]] = list(LANGUAGE_NAMES.items())
LANGUAGE_CODES = frozenset(LANGUAGE_NAMES)
