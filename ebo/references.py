"""Stable, human references for families ("F-…") and hosts ("V-…", värd): short codes people can read
aloud, write on paper and search for, stored on the row. They carry no personal data."""

from __future__ import annotations

import secrets

# Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand is not mistaken.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
FAMILY_PREFIX = "F"
HOST_PREFIX = "V"


def new_reference(prefix: str) -> str:
    """A new random reference such as "F-7K3M-9Q2X" (40 random bits; the column is unique)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"


def family_reference() -> str:
    """A new family reference."""
    return new_reference(FAMILY_PREFIX)


def host_reference() -> str:
    """A new host reference."""
    return new_reference(HOST_PREFIX)


def normalise(text: str) -> str:
    """A reference as typed ("f 7k3m9q2x", "F-7K3M-9Q2X") in its stored form, or "" if it is not one."""
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(raw) != 9 or raw[0] not in (FAMILY_PREFIX, HOST_PREFIX) or any(c not in ALPHABET for c in raw[1:]):
        return ""
    return f"{raw[0]}-{raw[1:5]}-{raw[5:]}"
