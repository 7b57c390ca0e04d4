"""Swedish postal codes and phone numbers, cleaned to one stored form."""

from __future__ import annotations

import re

# Swedish postal codes have five digits and never start with 0 (they run from 100 00 to 984 99).
_POSTAL_RE = re.compile(r"[1-9]\d{4}")
_PHONE_RE = re.compile(r"[+\d][\d\s\-()./]*")


def normalise_postal_code(raw: str | None) -> str | None:
    """A Swedish postal code as 'NNN NN' (from 'NNNNN' or 'NNN NN', optional 'SE-'); None if blank or invalid."""
    text = (raw or "").strip().upper()
    text = text.removeprefix("SE-").removeprefix("SE").strip()
    digits = text.replace(" ", "")
    if not _POSTAL_RE.fullmatch(digits) or len(text) > 6 or (len(text) == 6 and text[3] != " "):
        return None
    return f"{digits[:3]} {digits[3:]}"


def normalise_phone(raw: str | None) -> str | None:
    """A Swedish phone number as '+46…' (from +46…, 0046… or 0…), 8–15 digits after cleaning; else None."""
    text = (raw or "").strip()
    if not text or len(text) > 40 or not _PHONE_RE.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if not digits.startswith("46"):
            return None
        national = digits[2:]
    elif digits.startswith("0046"):
        national = digits[4:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    national = national.lstrip("0") if text.startswith("+") else national
    if not 7 <= len(national) <= 13 or not 8 <= len(digits) <= 15:
        return None
    return "+46" + national
