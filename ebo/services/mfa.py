"""The second factor: TOTP (RFC 6238, pyotp) with replay protection, and ten single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup

from ebo.extensions import db
from ebo.models.accounts import MfaRecoveryCode, UserMfa
from ebo.models.types import utcnow
from ebo.services import audit

ISSUER = "EBO"
RECOVERY_CODES = 10
STEP_S = 30
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def staff_2fa_required() -> bool:
    """Whether staff must use a second factor: REQUIRE_STAFF_2FA, or by default only in production."""
    value = current_app.config.get("REQUIRE_STAFF_2FA")
    if value is None:
        return current_app.config["ENV_NAME"] == "production"
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def record_for(user) -> UserMfa | None:
    """The user's second-factor record (enrolled or half-way), or None."""
    return db.session.get(UserMfa, user.id)


def enabled(user) -> bool:
    """True when the user has a confirmed second factor."""
    rec = record_for(user)
    return rec is not None and rec.confirmed_at is not None


def required(user) -> bool:
    """True when the user must have a second factor (staff, when the setting asks for it)."""
    return bool(user.is_staff and staff_2fa_required())


def begin_enrolment(user) -> UserMfa:
    """A new unconfirmed secret for `user` (replacing an unconfirmed one); an enrolled factor is kept."""
    rec = record_for(user)
    if rec is not None and rec.confirmed_at is not None:
        return rec
    if rec is None:
        rec = UserMfa(user_id=user.id, secret=pyotp.random_base32())
        db.session.add(rec)
    else:
        rec.secret, rec.last_step = pyotp.random_base32(), None
    db.session.flush()
    return rec


def provisioning_uri(user, rec: UserMfa) -> str:
    """The otpauth:// URI that authenticator apps read from the QR code."""
    issuer = current_app.config.get("MUNICIPALITY_NAME") or ISSUER
    return pyotp.TOTP(rec.secret).provisioning_uri(name=user.email, issuer_name=f"{ISSUER} {issuer}".strip()
                                                   if issuer != ISSUER else ISSUER)


def qr_svg(uri: str) -> Markup:
    """The QR code of `uri` as inline SVG, made on the server (no script, no outside service)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", border=2,
                                                 title="QR", svgclass="qr-code", lineclass=None)
    return Markup(svg)  # noqa: S704 - segno's own SVG output, no user text besides the escaped URI


def grouped(secret: str) -> str:
    """The secret in groups of four for typing by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _clean(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _accept_totp(rec: UserMfa, code: str) -> bool:
    """Accept a 6-digit code of the current, previous or next time-step, never one at or before the last used."""
    if not (len(code) == 6 and code.isdigit()):
        return False
    totp = pyotp.TOTP(rec.secret)
    now_step = int(time.time()) // STEP_S
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            # Atomic: a concurrent second use of the same code loses the race.
            done = db.session.execute(
                sa.update(UserMfa)
                .where(UserMfa.user_id == rec.user_id,
                       sa.or_(UserMfa.last_step.is_(None), UserMfa.last_step < step))
                .values(last_step=step)
            )
            db.session.expire(rec)
            return done.rowcount == 1
    return False


def _code_hash(code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"ebo-recovery:" + code.encode(), hashlib.sha256).hexdigest()


def _use_recovery_code(user, code: str) -> bool:
    if len(code) != 10:
        return False
    digest = _code_hash(code)
    done = db.session.execute(
        sa.update(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.code_hash == digest,
               MfaRecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return done.rowcount == 1


def confirm_enrolment(user, code: str) -> list[str] | None:
    """Finish enrolment with a first code; return the ten recovery codes (shown once), or None if wrong."""
    rec = record_for(user)
    if rec is None or rec.confirmed_at is not None or not _accept_totp(rec, _clean(code)):
        return None
    rec.confirmed_at = utcnow()
    codes = new_recovery_codes(user)
    audit.record("mfa_enrolled", "user", user.id, actor=user)
    return codes


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with ten new ones; return them in clear text (shown once)."""
    db.session.execute(sa.delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(MfaRecoveryCode(user_id=user.id, code_hash=_code_hash(c)) for c in codes)
    db.session.flush()
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def remaining_recovery_codes(user) -> int:
    """How many recovery codes are still unused."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(MfaRecoveryCode).where(
        MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))) or 0


def verify(user, code: str | None) -> str | None:
    """Check a second-factor code: "totp" or "recovery" when accepted (audited), None otherwise."""
    rec = record_for(user)
    if rec is None or rec.confirmed_at is None:
        return None
    cleaned = _clean(code)
    if _accept_totp(rec, cleaned):
        return "totp"
    if _use_recovery_code(user, cleaned):
        audit.record("mfa_recovery_code_used", "user", user.id, {"left": remaining_recovery_codes(user)},
                     actor=user)
        return "recovery"
    return None


def remove(user, actor, reason: str) -> None:
    """Remove the second factor and recovery codes; the person logs in again (and enrols if required)."""
    db.session.execute(sa.delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    db.session.execute(sa.delete(UserMfa).where(UserMfa.user_id == user.id))
    user.rotate_session_token()
    audit.record("mfa_reset" if reason == "admin" else "mfa_disabled", "user", user.id, actor=actor)
