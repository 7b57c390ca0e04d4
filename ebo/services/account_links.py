"""Emailed account links: forgotten password, staff invitations, email confirmation and email change.

Every answer that a stranger sees is the same whether or not an address has an account; only the
mailbox learns the difference. Tokens come from ebo.services.tokens (single use, expiring, hashed).
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ebo.extensions import db
from ebo.models import HostHousehold, MfaRecoveryCode, User, UserMfa
from ebo.models.accounts import TokenPurpose
from ebo.permissions import STAFF
from ebo.services import accounts, audit, mail, throttle, tokens

INVITED = "!invited"  # noqa: S105 - a marker in place of a hash: no password verifies against it


def _user_by_email(email: str | None):
    return db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))


def _minutes(key: str) -> dt.timedelta:
    return dt.timedelta(minutes=int(current_app.config[key]))


# --- forgotten password -----------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Email a reset link to the account with this address, if there is one and it is not throttled."""
    user = _user_by_email(email)
    if user is None or not user.active:
        audit.record("password_reset_requested", "user", None, {"account": False})
        return
    if not throttle.hit_if_allowed("forgot", user.id, "FORGOT_ACCOUNT_LIMIT"):
        audit.record("password_reset_throttled", "user", user.id, {"by": "account"}, actor=None)
        return
    _send_reset(user, "password_reset", _l("Choose a new password"))
    audit.record("password_reset_requested", "user", user.id, {"account": True}, actor=None)


def _send_reset(user, template: str, subject) -> None:
    raw = tokens.issue(user, TokenPurpose.RESET, _minutes("PASSWORD_RESET_MINUTES"))
    mail.send(user.email, subject, template, kind=template, locale=mail.recipient_locale(user), user=user,
              link=mail.external_url("auth.reset_password", token=raw),
              minutes=int(current_app.config["PASSWORD_RESET_MINUTES"]),
              forgot_link=mail.external_url("auth.forgot_password"))


def reset_password(raw: str, new_password: str):
    """Set a new password through a reset link; every session of the user ends. The user, or None."""
    row = tokens.consume(raw, TokenPurpose.RESET)
    if row is None:
        return None

    user = db.session.get(User, row.user_id)
    accounts.change_password(user, new_password, event="password_reset")
    user.email_verified = True  # the link reached this mailbox
    return user


# --- staff invitations ------------------------------------------------------------------------------


def invite(email: str, name: str, role: str, actor):
    """Create a staff account without a usable password and email it a 72-hour invitation link."""
    if role not in STAFF:
        raise accounts.AccountError(_("Unknown role."))
    user = accounts.create_user(email, secrets.token_urlsafe(32), role, name, actor=actor, check_policy=False)
    user.password_hash = INVITED  # never verifies: the person sets their own password
    send_invitation(user, actor)
    return user


def send_invitation(user, actor) -> None:
    """(Re)send the invitation link; earlier links stop working."""
    hours = int(current_app.config["INVITATION_HOURS"])
    raw = tokens.issue(user, TokenPurpose.INVITE, dt.timedelta(hours=hours))
    mail.send(user.email, _l("You are invited to EBO"), "invitation", kind="invitation",
              locale=mail.recipient_locale(user), user=user, inviter=actor.name or actor.email,
              link=mail.external_url("auth.accept_invitation", token=raw), hours=hours)
    audit.record("user_invited", "user", user.id, {"role": user.role}, actor=actor)


def accept_invitation(raw: str, new_password: str):
    """Set one's own password through the invitation; the address is thereby confirmed. The user, or None."""
    row = tokens.consume(raw, TokenPurpose.INVITE)
    if row is None:
        return None

    user = db.session.get(User, row.user_id)
    accounts.change_password(user, new_password, event="invitation_accepted")
    user.email_verified = True
    return user


def invitation_pending(user) -> bool:
    """True while the person has never set a password of their own through the invitation."""
    return user.password_hash == INVITED


# --- registration: email confirmation and no enumeration -------------------------------------------


def start_verification(user) -> None:
    """Mark the address unconfirmed and email the confirmation link (registration)."""
    user.email_verified = False
    _send_verification(user)


def _send_verification(user) -> None:
    hours = int(current_app.config["EMAIL_CONFIRM_HOURS"])
    raw = tokens.issue(user, TokenPurpose.VERIFY, dt.timedelta(hours=hours))
    mail.send(user.email, _l("Confirm your email address"), "verify_email", kind="verify_email",
              locale=mail.recipient_locale(user), user=user, hours=hours,
              link=mail.external_url("auth.verify_email", token=raw))
    audit.record("email_verification_sent", "user", user.id, actor=user)


def resend_verification(user) -> bool:
    """Send the confirmation link again (throttled like forgotten-password emails); False when throttled."""
    if user.email_verified:
        return True
    if not throttle.hit_if_allowed("verify", user.id, "FORGOT_ACCOUNT_LIMIT"):
        audit.record("email_verification_throttled", "user", user.id, actor=user)
        return False
    _send_verification(user)
    return True


def confirm_email(raw: str):
    """Confirm the address through the link; the user, or None when the link is not valid."""
    row = tokens.consume(raw, TokenPurpose.VERIFY)
    if row is None:
        return None

    user = db.session.get(User, row.user_id)
    user.email_verified = True
    audit.record("email_verified", "user", user.id, actor=user)
    return user


def existing_account_notice(email: str, locale: str | None = None) -> None:
    """A registration with an address that has an account: tell that address, with a reset link."""
    user = _user_by_email(email)
    accounts.hash_password(secrets.token_urlsafe(16))  # cost like a real registration's hash
    if user is None or not user.active:
        return
    if not throttle.hit_if_allowed("forgot", user.id, "FORGOT_ACCOUNT_LIMIT"):
        audit.record("password_reset_throttled", "user", user.id, {"by": "account"}, actor=None)
        return
    _send_reset(user, "account_exists", _l("You already have an account"))
    audit.record("registration_existing_address", "user", user.id, actor=None)


def verified_hosts_clause():
    """SQL condition: the host household's account has a confirmed email address (matching takes part)."""
    return HostHousehold.user_id.in_(sa.select(User.id).where(User.email_verified.is_(True)))


# --- change of email address ------------------------------------------------------------------------


def request_email_change(user, new_email: str) -> None:
    """Email a confirmation link to the new address; nothing changes until it is followed."""
    new_email = new_email.strip().lower()
    if new_email == user.email:
        return
    if _user_by_email(new_email) is not None:
        audit.record("email_change_requested", "user", user.id, {"taken": True}, actor=user)
        return  # same answer: the other account's existence is not revealed
    hours = int(current_app.config["EMAIL_CONFIRM_HOURS"])
    raw = tokens.issue(user, TokenPurpose.CHANGE_EMAIL, dt.timedelta(hours=hours), new_email=new_email)
    mail.send(new_email, _l("Confirm your new email address"), "email_change", kind="email_change",
              locale=mail.recipient_locale(user), user=user, hours=hours,
              link=mail.external_url("auth.confirm_email_change", token=raw))
    audit.record("email_change_requested", "user", user.id, {"taken": False}, actor=user)


def confirm_email_change(raw: str):
    """Make the new address take effect and tell the old one; the user, or None (invalid or taken)."""
    row = tokens.find(raw, TokenPurpose.CHANGE_EMAIL)
    if row is None or row.new_email is None or _user_by_email(row.new_email) is not None:
        return None
    row = tokens.consume(raw, TokenPurpose.CHANGE_EMAIL)
    if row is None:
        return None

    user = db.session.get(User, row.user_id)
    old = user.email
    user.email = row.new_email
    user.email_verified = True
    household = getattr(user, "host", None)
    if household is not None:
        household.email = user.email
    user.rotate_session_token()
    mail.send(old, _l("Your email address was changed"), "email_changed", kind="email_changed",
              locale=mail.recipient_locale(user), user=user, new_email=user.email,
              link=mail.external_url("auth.forgot_password"))
    audit.record("email_changed", "user", user.id, actor=user)
    return user


def forget(user) -> None:
    """Remove the user's link tokens and second factor (erasure of the account)."""
    tokens.revoke_all(user)
    db.session.execute(sa.delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    db.session.execute(sa.delete(UserMfa).where(UserMfa.user_id == user.id))
